"""CachedRegistry: routed requests reuse registry answers; the handshake asks the chain afresh."""

from __future__ import annotations

import asyncio
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


async def test_a_miss_is_kept_briefly_so_a_new_listing_is_found_soon() -> None:
    contract, clock = CountingContract(), Clock()
    registry = cached(contract, clock)
    assert await registry.party(PartyId("NL", "XXX")) is None
    clock.now = 11  # past the 10 s miss TTL, well within the 60 s TTL
    await registry.party(PartyId("NL", "XXX"))
    assert contract.calls == 2


async def test_the_cache_is_bounded_least_recently_used_first() -> None:
    contract, clock = CountingContract(), Clock()
    registry = CachedRegistry(contract, ttl=60, max_entries=3, clock=clock)  # type: ignore[arg-type]
    for party_id in ("AAA", "BBB", "CCC"):
        await registry.party(PartyId("NL", party_id))
    await registry.party(PartyId("NL", "AAA"))  # refresh AAA
    await registry.party(PartyId("NL", "DDD"))  # evicts BBB
    assert len(registry._entries) == 3
    calls = contract.calls
    await registry.party(PartyId("NL", "AAA"))
    assert contract.calls == calls
    await registry.party(PartyId("NL", "BBB"))
    assert contract.calls == calls + 1


async def test_lookups_arriving_together_share_one_chain_call() -> None:
    import asyncio

    contract, clock = CountingContract(), Clock()
    gate = asyncio.Event()
    original = contract.get_party

    async def slow(party: PartyId) -> PartyListing | None:
        await gate.wait()
        return await original(party)

    contract.get_party = slow  # type: ignore[method-assign]
    registry = cached(contract, clock)
    lookups = [asyncio.create_task(registry.party(PARTY)) for _ in range(20)]
    await asyncio.sleep(0)  # let every lookup reach the cache (not a readiness wait)
    gate.set()
    results = await asyncio.gather(*lookups)
    assert contract.calls == 1 and all(r is not None for r in results)


async def test_a_stale_answer_serves_while_the_registry_is_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    contract, clock = CountingContract(), Clock()
    registry = cached(contract, clock)
    assert await registry.party(PARTY) is not None
    contract.down = True
    clock.now = 1000  # long expired
    listed = await registry.party(PARTY)
    assert listed is not None and listed.node_url == "http://node"
    assert "routing from cached answers" in caplog.text
    with pytest.raises(HubError):  # nothing cached to fall back on
        await registry.party(PartyId("NL", "NEW"))


class ChangingContract(CountingContract):
    def __init__(self) -> None:
        super().__init__()
        self.head = 10
        self.events: dict[int, int] = {}
        self.polled = asyncio.Event()

    async def block_number(self) -> int:
        self.polled.set()
        if self.down:
            raise RegistryUnavailable("connection refused")
        return self.head

    async def changes_between(self, first: int, last: int) -> int:
        return sum(n for block, n in self.events.items() if first <= block <= last)


async def watched_event(events: dict[int, int]) -> tuple[ChangingContract, CachedRegistry]:
    """A cache that has answered for PARTY, then seen the contract emit `events` (block: count)
    and told its listeners."""
    contract = ChangingContract()
    registry = CachedRegistry(contract, ttl=3600)  # type: ignore[arg-type]
    changed = asyncio.Event()

    async def listener() -> None:
        changed.set()

    registry.on_change.append(listener)
    assert await registry.party(PARTY) is not None
    watcher = asyncio.create_task(registry.watch(0.01))
    try:
        await asyncio.wait_for(contract.polled.wait(), timeout=5)  # the first reading is taken
        contract.head, contract.events = max(events), events
        await asyncio.wait_for(changed.wait(), timeout=5)
    finally:
        watcher.cancel()
    return contract, registry


async def test_registry_events_expire_the_cache_and_tell_the_listeners() -> None:
    contract, registry = await watched_event({11: 0, 13: 2})
    calls = contract.calls
    await registry.party(PARTY)
    assert contract.calls == calls + 1  # the cached answer was expired


async def test_an_answer_expired_by_an_event_still_serves_when_the_chain_goes_away() -> None:
    # Regression: the watch used to drop answers on an event; if the RPC stopped before the
    # re-read, routing failed with 4000 instead of going on from the last answer.
    contract, registry = await watched_event({12: 1})
    contract.down = True
    listed = await registry.party(PARTY)
    assert listed is not None and listed.node_url == "http://node"


class NoServices:
    """Stands in for PermissionsContract: a sender that agreed to nothing."""

    def __init__(self) -> None:
        self.calls = 0

    async def services_of(self, user: PartyId) -> tuple[()]:
        self.calls += 1
        return ()


async def test_known_services_answers_from_the_cache_without_waiting() -> None:
    clock = Clock()
    permissions = NoServices()
    registry = CachedRegistry(
        CountingContract(),  # type: ignore[arg-type]
        permissions=permissions,  # type: ignore[arg-type]
        ttl=60,
        clock=clock,
    )
    assert registry.known_services(PARTY) is None  # not read yet: the caller must ask
    assert await registry.services_of(PARTY) == ()
    assert registry.known_services(PARTY) == ()
    assert permissions.calls == 1
    clock.now = 1000  # expired: ask again
    assert registry.known_services(PARTY) is None
    no_contract = cached(CountingContract(), clock)
    assert no_contract.known_services(PARTY) == ()
