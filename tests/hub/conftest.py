"""Hub tests run over tests/fakes: the real hub and store, no chain, no socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.clock import MovingClock
from tests.fakes.hub import HubUnderTest
from tests.fakes.registry import InMemoryRegistry
from tests.fakes.transport import FakeNetwork


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock()


@pytest.fixture
async def node(tmp_path: Path, clock: MovingClock) -> AsyncIterator[HubUnderTest]:
    hub = await HubUnderTest.start(tmp_path, clock=clock)
    try:
        yield hub
    finally:
        await hub.close()


@pytest.fixture
async def two_nodes(tmp_path: Path) -> AsyncIterator[tuple[HubUnderTest, HubUnderTest]]:
    """Node A (key 1) and node B (key 2) on one registry and one network."""
    registry, network = InMemoryRegistry(), FakeNetwork()
    one = await HubUnderTest.start(tmp_path, name="node-a", registry=registry, network=network)
    two = await HubUnderTest.start(
        tmp_path, name="node-b", registry=registry, network=network, key_index=2
    )
    try:
        yield one, two
    finally:
        await one.drain()
        await two.drain()
        await two.close()
        await one.close()
