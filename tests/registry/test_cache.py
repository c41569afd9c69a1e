"""CachedRegistry: routed requests reuse registry answers; the handshake asks the chain afresh."""

from __future__ import annotations

from typing import Any

import pytest

from scn_node.registry.cache import CachedRegistry
from scn_node.registry.errors import RegistryUnavailable
from scn_node.registry.listings import NodeListing, PartyListing
from scn_node.scpi.errors import HubError
from scn_node.scpi.party import PartyId, Role

PARTY = PartyId("DE", "CPO")


class CountingContract:
    """Stands in for RegistryContract and counts the chain calls it would make."""

    def __init__(self) -> None:
        self.calls = 0
        self.down = False

    async def get_party(self, party: PartyId) -> PartyListing | None:
        self.calls += 1
        if self.down:
            raise RegistryUnavailable("connection refused")
        if party != PARTY:
            return None
        return PartyListing("0xA", party, (Role.CPO,), (), (), "0xOp", "http://node")

    async def get_node(self, operator: str) -> NodeListing | None:
        self.calls += 1
        return NodeListing(operator, "http://node")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def cached(contract: CountingContract, clock: Clock) -> CachedRegistry:
    return CachedRegistry(contract, ttl=60, clock=clock)  # type: ignore[arg-type]


async def test_repeated_lookups_cost_one_chain_call_until_the_ttl() -> None:
    contract, clock = CountingContract(), Clock()
    registry = cached(contract, clock)
    for _ in range(100):
        listed = await registry.party(PARTY)
        assert listed is not None and listed.node_url == "http://node"
        assert await registry.party(PartyId("NL", "XXX")) is None  # misses are cached too
    assert contract.calls == 2
    clock.now = 61
    await registry.party(PARTY)
    assert contract.calls == 3


async def test_fresh_reads_go_to_the_chain() -> None:
    contract, clock = CountingContract(), Clock()
    registry = cached(contract, clock)
    await registry.node_url("0xOp")
    await registry.node_url("0xop", fresh=True)
    await registry.node_url("0xOP")
    assert contract.calls == 2


async def test_an_unreadable_registry_is_a_hub_error(monkeypatch: Any) -> None:
    contract, clock = CountingContract(), Clock()
    contract.down = True
    with pytest.raises(HubError, match="SCN Registry cannot be read"):
        await cached(contract, clock).party(PARTY)
