"""The node's own session, for transport tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from scn_node.clients import new_session


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The session the node runs with (new_session), with generous timeouts."""
    async with new_session(timeout=5.0, connect_timeout=5.0) as session:
        yield session
