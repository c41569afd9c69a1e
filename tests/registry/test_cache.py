"""CachedRegistry: routed requests reuse registry answers; the handshake asks the chain afresh."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from scn_node.hub.model import ListedParty
from scn_node.registry.cache import CachedRegistry
from scn_node.registry.errors import RegistryUnavailable
from scn_node.registry.listings import NodeListing
from scn_node.scpi.errors import HubError
from scn_node.scpi.party import ModuleId, PartyId, Role

PARTY = PartyId("DE", "CPO")


class CountingContract:
    """Stands in for RegistryContract and counts the chain calls it would make."""

    def __init__(self) -> None:
        self.calls = 0
        self.down = False

    async def get_party(self, party: PartyId) -> ListedParty | None:
        self.calls += 1
        if self.down:
            raise RegistryUnavailable("connection refused")
        if party != PARTY:
            return None
        return ListedParty(
            party, (Role.CPO,), "0xOp", "http://node", "0xA", (ModuleId.CDRS,), (ModuleId.TOKENS,)
        )

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

    async def slow(party: PartyId) -> ListedParty | None:
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
    clock.now = 1000  # expired: the last answer still answers, and one read renews it
    assert registry.known_services(PARTY) == ()
    assert registry.known_services(PARTY) == ()
    await asyncio.sleep(0)  # the background read's task runs
    assert permissions.calls == 2
    no_contract = cached(CountingContract(), clock)
    assert no_contract.known_services(PARTY) == ()


# ------------------------------------------------------------------ the chain down: a breaker


async def test_once_a_read_fails_stale_answers_are_served_without_calling_the_chain() -> None:
    contract, clock = CountingContract(), Clock()
    registry = CachedRegistry(contract, ttl=60, retry_seconds=5, clock=clock)  # type: ignore[arg-type]
    assert await registry.party(PARTY) is not None
    contract.down = True
    clock.now = 1000  # expired
    assert await registry.party(PARTY) is not None  # this read found the chain down
    assert registry.chain_down and contract.calls == 2
    for _ in range(50):
        listed = await registry.party(PARTY)
        assert listed is not None and listed.node_url == "http://node"
    with pytest.raises(HubError, match="connection refused"):  # nothing to serve: at once
        await registry.party(PartyId("NL", "NEW"))
    assert contract.calls == 2
    contract.down = False
    clock.now = 1006  # the back-off is over: one read tries the chain, in the background
    assert await registry.party(PARTY) is not None
    await asyncio.sleep(0)  # let that background read run (not a readiness wait)
    await asyncio.sleep(0)
    assert contract.calls == 3 and not registry.chain_down
    await registry.party(PARTY)  # answered by the chain again: fresh for a ttl
    assert contract.calls == 3


async def test_a_hung_chain_costs_a_stale_answer_only_stale_wait() -> None:
    contract, clock = CountingContract(), Clock()
    registry = CachedRegistry(contract, ttl=60, stale_wait=0.05, clock=clock)  # type: ignore[arg-type]
    assert await registry.party(PARTY) is not None
    hung = asyncio.Event()

    async def hanging(party: PartyId) -> ListedParty | None:
        contract.calls += 1
        await hung.wait()
        raise RegistryUnavailable("timed out")

    contract.get_party = hanging  # type: ignore[method-assign]
    clock.now = 1000
    started = asyncio.get_running_loop().time()
    listed = await registry.party(PARTY)
    assert listed is not None and listed.node_url == "http://node"
    assert asyncio.get_running_loop().time() - started < 1.0
    again = await registry.party(PARTY)  # shares the hung read, and gives up as soon
    assert again == listed and contract.calls == 2
    hung.set()  # the read times out at last: the chain is known to be down
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert registry.chain_down
    assert await registry.party(PARTY) == listed and contract.calls == 2


async def test_the_watch_closes_the_breaker_when_the_chain_answers() -> None:
    contract = ChangingContract()
    registry = CachedRegistry(contract, ttl=0.001, retry_seconds=3600)  # type: ignore[arg-type]
    assert await registry.party(PARTY) is not None
    contract.down = True
    await asyncio.sleep(0.01)  # past the tiny ttl (not a readiness wait)
    await registry.party(PARTY)
    assert registry.chain_down
    contract.down = False
    contract.polled.clear()
    watcher = asyncio.create_task(registry.watch(0.01))
    try:
        for _ in range(2):  # the second poll begins after the first has ended
            await asyncio.wait_for(contract.polled.wait(), timeout=5)
            contract.polled.clear()
    finally:
        watcher.cancel()
    assert not registry.chain_down
    calls = contract.calls
    await registry.party(PARTY)
    assert contract.calls == calls + 1  # asks the chain again


class MemoryAnswers:
    """Stands in for SqlRegistrySnapshot."""

    def __init__(self) -> None:
        self.answers: dict[str, str] = {}
        self.saves = 0

    async def save(self, answers: Mapping[str, str]) -> None:
        self.saves += 1
        self.answers.update(answers)

    async def load(self) -> tuple[dict[str, str], datetime | None]:
        saved_at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC) if self.answers else None
        return dict(self.answers), saved_at


async def test_a_restarted_cache_routes_from_the_saved_answers_while_the_chain_is_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    saved = MemoryAnswers()
    before = CachedRegistry(CountingContract(), saved=saved)  # type: ignore[arg-type]
    listed = await before.party(PARTY)
    assert await before.party(PartyId("NL", "XXX")) is None
    assert await before.node_url("0xOp") == "http://node"
    assert saved.saves == 0  # not on the request path
    await before.save()
    await before.save()  # nothing new: no write
    assert saved.saves == 1 and len(saved.answers) == 3

    contract = CountingContract()
    contract.down = True
    after = CachedRegistry(contract, saved=saved)  # type: ignore[arg-type]
    assert await after.restore() == 3
    assert await after.party(PARTY) == listed  # modules too: one value, whoever reads it
    assert await after.party(PartyId("NL", "XXX")) is None
    assert await after.node_url("0xOP") == "http://node"
    assert contract.calls == 1  # the first read found the chain down; the rest did not ask
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        "the SCN Registry is unreachable; routing from 3 registry answers saved at "
        "2030-01-02T03:04:05+00:00 (connection refused)"
    ]


async def test_restored_answers_give_way_to_the_chain_while_it_answers() -> None:
    saved = MemoryAnswers()
    saved.answers["node 0xop"] = '"http://old-node"'
    saved.answers["party DE CPO"] = "not json"
    contract = CountingContract()
    registry = CachedRegistry(contract, saved=saved)  # type: ignore[arg-type]
    assert await registry.restore() == 1  # the unreadable one is skipped
    assert await registry.node_url("0xOp") == "http://node"
    assert contract.calls == 1


async def test_a_party_saved_before_modules_were_saved_is_restored_without_them() -> None:
    saved = MemoryAnswers()
    saved.answers["party DE CPO"] = (
        '{"party": ["DE", "CPO"], "roles": ["CPO"], "operator": "0xOp", '
        '"node_url": "http://node", "address": "0xA"}'
    )
    contract = CountingContract()
    contract.down = True
    registry = CachedRegistry(contract, saved=saved)  # type: ignore[arg-type]
    assert await registry.restore() == 1
    assert await registry.party(PARTY) == ListedParty(
        PARTY, (Role.CPO,), "0xOp", "http://node", "0xA"
    )
