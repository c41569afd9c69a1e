"""CachedRegistry's whole listings: every party (GET All's sources) and every node (where a
broadcast goes) are read once, kept like any answer, and re-read after a change on the chain."""

from __future__ import annotations

import asyncio

from scn_node.hub.model import ListedNode, ListedParty
from scn_node.registry.cache import CachedRegistry
from scn_node.registry.listings import NodeListing
from scn_node.scpi.party import PartyId, Role
from tests.registry.test_cache import ChangingContract, Clock

CPO = ListedParty(PartyId("DE", "CPO"), (Role.CPO,), "0xOp", "http://node")


class ListingContract(ChangingContract):
    """Counts the whole-listing reads; `parties_listed` and `nodes_listed` are the chain's."""

    def __init__(self) -> None:
        super().__init__()
        self.listings = 0
        self.parties_listed = [CPO]
        self.nodes_listed = [NodeListing("0xOp", "http://node"), NodeListing("0xGone", "")]

    async def list_parties(self) -> list[ListedParty]:
        self.listings += 1
        return list(self.parties_listed)

    async def list_nodes(self) -> list[NodeListing]:
        self.listings += 1
        return list(self.nodes_listed)


async def test_the_listings_cost_one_chain_read_each_until_the_ttl() -> None:
    contract, clock = ListingContract(), Clock()
    registry = CachedRegistry(contract, ttl=60, clock=clock)  # type: ignore[arg-type]

    for _ in range(50):
        assert await registry.parties() == (CPO,)
        # A node whose operator deleted it (no URL) is no place to send to.
        assert await registry.nodes() == (ListedNode("0xOp", "http://node"),)
    assert contract.listings == 2

    clock.now = 61
    await registry.parties()
    await registry.nodes()
    assert contract.listings == 4


async def test_a_change_on_the_chain_expires_the_listings() -> None:
    contract = ListingContract()
    registry = CachedRegistry(contract, ttl=3600)  # type: ignore[arg-type]
    changed = asyncio.Event()

    async def listener() -> None:
        changed.set()

    registry.on_change.append(listener)
    assert await registry.parties() == (CPO,)
    assert len(await registry.nodes()) == 1
    newcomer = ListedParty(PartyId("NL", "NEW"), (Role.CPO,), "0xOp", "http://node")
    contract.parties_listed.append(newcomer)
    contract.nodes_listed.append(NodeListing("0xNew", "http://new"))
    assert await registry.parties() == (CPO,)  # cached: the chain is not asked

    watcher = asyncio.create_task(registry.watch(0.01))
    try:
        await asyncio.wait_for(contract.polled.wait(), timeout=5)  # the first reading
        contract.head, contract.events = 11, {11: 1}  # a listing changed
        await asyncio.wait_for(changed.wait(), timeout=5)
    finally:
        watcher.cancel()

    assert await registry.parties() == (CPO, newcomer)
    assert await registry.nodes() == (
        ListedNode("0xOp", "http://node"),
        ListedNode("0xNew", "http://new"),
    )
