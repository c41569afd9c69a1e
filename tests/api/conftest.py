"""A node on a loopback port with an in-process registry, on SQLite only.

The API tests are about the node's HTTP surface, which does not depend on the database; the node
suite (tests/node) runs the same node on PostgreSQL too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from scn_node.registry import RegistryContract
from tests.node.conftest import Network


@pytest.fixture
async def network(
    registry: RegistryContract, accounts: list[LocalAccount], tmp_path: Path
) -> AsyncIterator[Network]:
    net = Network(registry, accounts, f"sqlite+aiosqlite:///{tmp_path / 'node.db'}")
    await net.start_node()
    try:
        yield net
    finally:
        await net.close()
