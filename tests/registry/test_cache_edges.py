"""CachedRegistry edges: permissions, the breaker's second failure, saved answers it skips,
and chain reads that are replaced or cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from scn_node.hub.model import ListedParty, Service
from scn_node.registry.cache import CachedRegistry
from scn_node.scpi.errors import HubError
from scn_node.scpi.party import PartyId
from tests.registry.test_cache import PARTY, ChangingContract, Clock, CountingContract


class Permissions:
    """Stands in for PermissionsContract."""

    def __init__(self) -> None:
        self.agreement_asks = 0
        self.events: dict[int, int] = {}

    async def services_of(self, user: PartyId) -> tuple[Service, ...]:
        return ()

    async def has_agreement(self, user: PartyId, provider: str) -> bool:
        self.agreement_asks += 1
        return provider == "0xProvider"

    async def changes_between(self, first: int, last: int) -> int:
        return sum(n for block, n in self.events.items() if first <= block <= last)


class Answers:
    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers

    async def save(self, answers: Mapping[str, str]) -> None:
        self.answers.update(answers)

    async def load(self) -> tuple[dict[str, str], datetime | None]:
        return dict(self.answers), datetime(2030, 1, 1, tzinfo=UTC)


async def test_without_the_permissions_contract_there_are_no_services_and_no_agreements() -> None:
    contract = CountingContract()
    registry = CachedRegistry(contract)  # type: ignore[arg-type]
    assert await registry.services_of(PARTY) == ()
    assert await registry.agrees(PARTY, "0xProvider") is False
    assert contract.calls == 0


async def test_an_agreement_is_asked_of_the_chain_while_it_answers() -> None:
    permissions = Permissions()
    registry = CachedRegistry(CountingContract(), permissions=permissions)  # type: ignore[arg-type]
    assert await registry.agrees(PARTY, "0xProvider") is True
    assert await registry.agrees(PARTY, "0xOther") is False
    assert permissions.agreement_asks == 2


async def test_while_the_chain_is_down_an_agreement_is_no_without_asking() -> None:
    contract, permissions = CountingContract(), Permissions()
    contract.down = True
    registry = CachedRegistry(contract, permissions=permissions)  # type: ignore[arg-type]
    with pytest.raises(HubError):
        await registry.party(PARTY)
    assert registry.chain_down
    assert await registry.agrees(PARTY, "0xProvider") is False
    assert permissions.agreement_asks == 0


async def test_an_event_of_the_permissions_contract_expires_the_cache() -> None:
    contract, permissions = ChangingContract(), Permissions()
    registry = CachedRegistry(contract, permissions=permissions, ttl=3600)  # type: ignore[arg-type]
    changed = asyncio.Event()

    async def listener() -> None:
        changed.set()

    registry.on_change.append(listener)
    assert await registry.party(PARTY) is not None
    watcher = asyncio.create_task(registry.watch(0.01))
    try:
        await asyncio.wait_for(contract.polled.wait(), timeout=5)
        contract.head, permissions.events = 12, {12: 1}  # the registry itself emitted nothing
        await asyncio.wait_for(changed.wait(), timeout=5)
    finally:
        watcher.cancel()
    calls = contract.calls
    await registry.party(PARTY)
    assert contract.calls == calls + 1


async def test_a_failed_retry_keeps_the_breaker_open_without_a_second_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    contract, clock = CountingContract(), Clock()
    contract.down = True
    registry = CachedRegistry(contract, retry_seconds=5, clock=clock)  # type: ignore[arg-type]
    with pytest.raises(HubError):
        await registry.party(PARTY)
    clock.now = 6  # the back-off window has passed: one try in the background
    with pytest.raises(HubError, match="connection refused"):
        await registry.party(PARTY)
    retry = registry._reading[("party", PARTY)]
    with pytest.raises(HubError):
        await retry
    assert contract.calls == 2
    assert registry._retry_at == 11  # the next window starts at the failed retry
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        "SCN Registry unreachable (connection refused): routing from cached answers"
    ]


async def test_restore_without_saved_answers_restores_nothing() -> None:
    assert await CachedRegistry(CountingContract()).restore() == 0  # type: ignore[arg-type]


async def test_a_saved_answer_does_not_replace_one_already_read() -> None:
    saved = Answers({"node 0xop": '"http://old-node"'})
    contract = CountingContract()
    registry = CachedRegistry(contract, saved=saved)  # type: ignore[arg-type]
    assert await registry.node_url("0xOp") == "http://node"
    assert await registry.restore() == 0
    assert await registry.node_url("0xOp") == "http://node"
    assert contract.calls == 1


async def test_saved_answers_of_a_wrong_shape_or_kind_are_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    saved = Answers({"node 0xop": "42", "service DE CPO": "[]", "node 0xok": "null"})
    contract = CountingContract()
    contract.down = True
    registry = CachedRegistry(contract, saved=saved)  # type: ignore[arg-type]
    assert await registry.restore() == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        "unreadable saved registry answer 'node 0xop': ignored",
        "unreadable saved registry answer 'service DE CPO': ignored",
    ]


async def test_a_fresh_read_overtaking_a_slow_one_keeps_its_own_answer() -> None:
    contract = CountingContract()
    gate = asyncio.Event()
    original = contract.get_party
    slow_calls = 0

    async def first_slow(party: PartyId) -> ListedParty | None:
        nonlocal slow_calls
        slow_calls += 1
        if slow_calls == 1:
            await gate.wait()
        return await original(party)

    contract.get_party = first_slow  # type: ignore[method-assign]
    registry = CachedRegistry(contract)  # type: ignore[arg-type]
    slow = asyncio.create_task(registry.party(PARTY))
    await asyncio.sleep(0)  # let the first read start (it waits on the gate)
    fresh_task = registry._reading[("party", PARTY)]
    assert await registry.party(PARTY, fresh=True) is not None
    gate.set()
    listed = await slow
    assert listed is not None and listed.node_url == "http://node"
    assert fresh_task.done() and ("party", PARTY) not in registry._reading
    assert contract.calls == 2


async def test_a_cancelled_read_is_started_again_by_the_next_lookup() -> None:
    contract = CountingContract()
    hang = True
    original = contract.get_party

    async def hanging(party: PartyId) -> ListedParty | None:
        if hang:
            await asyncio.Event().wait()
        return await original(party)

    contract.get_party = hanging  # type: ignore[method-assign]
    registry = CachedRegistry(contract)  # type: ignore[arg-type]
    waiting = asyncio.create_task(registry.party(PARTY))
    await asyncio.sleep(0)
    read = registry._reading[("party", PARTY)]
    read.cancel()  # e.g. the node shutting down
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert ("party", PARTY) not in registry._reading
    hang = False
    listed = await registry.party(PARTY)
    assert listed is not None and listed.node_url == "http://node"


async def test_services_unreadable_while_the_chain_is_down_is_a_hub_error() -> None:
    contract = CountingContract()
    contract.down = True
    registry = CachedRegistry(contract, permissions=Permissions())  # type: ignore[arg-type]
    with pytest.raises(HubError):
        await registry.party(PARTY)
    with pytest.raises(HubError, match="SCN Registry cannot be read"):
        await registry.services_of(PARTY)
