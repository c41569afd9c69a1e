"""SCN_BROADCAST_WAIT from the environment to the broadcaster: the node's wiring threads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from scn_node.registry.wallet import NodeWallet
from scn_node.settings import Settings
from scn_node.wiring import Dependencies, node_state
from tests.fakes.hub import key
from tests.fakes.registry import InMemoryRegistry
from tests.fakes.transport import FakeNetwork


@pytest.mark.parametrize(("value", "waits"), [("true", True), ("false", False), (None, False)])
async def test_broadcast_wait_reaches_the_broadcaster(
    tmp_path: Path, value: str | None, waits: bool
) -> None:
    env = {"SCN_PRIVATE_KEY": key(1), "SCN_DATABASE_URL": f"sqlite:///{tmp_path / 'node.db'}"}
    if value is not None:
        env["SCN_BROADCAST_WAIT"] = value
    given = Dependencies(
        registry=InMemoryRegistry(), transport=FakeNetwork(), wallet=NodeWallet(key(1))
    )
    async with node_state(Settings.load(env), given) as state:
        assert state.forwarder.broadcasts.wait is waits
