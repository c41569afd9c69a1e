"""HubClientInfo's still-alive check over the fakes: who goes OFFLINE and comes back, here and
on the other node, what renews a party, and who is never called (OCN scenarios 11, 12, 15, 16).

The check runs when a test calls it, on a clock the test moves: no intervals are waited out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from scn_node.scpi.party import PartyId, Role
from tests.fakes.backoffice import FakeBackoffice, answer
from tests.fakes.clock import MovingClock
from tests.fakes.hub import HubUnderTest
from tests.fakes.registry import InMemoryRegistry
from tests.fakes.transport import FakeNetwork
from tests.hub.test_client_info import (
    WATCHING,
    listed,
    settle,
    statuses,
    when,
    whitelist,
)

INTERVAL = 300.0  # SCN_STILL_ALIVE_SECONDS
Nodes = tuple[HubUnderTest, HubUnderTest]


@pytest.fixture
async def two_nodes(tmp_path: Path, clock: MovingClock) -> AsyncIterator[Nodes]:
    """Node A and node B on one registry, one network and one clock."""
    registry, network = InMemoryRegistry(), FakeNetwork()
    one = await HubUnderTest.start(
        tmp_path, name="node-a", registry=registry, network=network, clock=clock
    )
    two = await HubUnderTest.start(
        tmp_path, name="node-b", registry=registry, network=network, key_index=2, clock=clock
    )
    try:
        yield one, two
    finally:
        await settle(one, two)
        await two.close()
        await one.close()


async def check(node: HubUnderTest, clock: MovingClock) -> None:
    """An interval passes and the node's still-alive check runs; then its pushes land."""
    clock.advance(INTERVAL + 1)
    await node.hub.presence.check_still_alive(INTERVAL)
    await node.drain()


def stop(node: HubUnderTest, party: FakeBackoffice) -> None:
    node.network.drop(party.base_url)


def versions_calls(party: FakeBackoffice) -> int:
    return len([r for r in party.received if r.path == "/scpi/versions"])


async def test_11_without_still_alive_a_stopped_party_stays_connected(two_nodes: Nodes) -> None:
    one, two = two_nodes
    one.hub.presence.start(still_alive_seconds=0, planned_party_seconds=0)  # both off
    msp = await one.connect("DE", "MSP", Role.EMSP)
    cpa = await one.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    cpb = await two.connect("CH", "CPB", Role.CPO, modules=WATCHING)
    stop(one, msp)
    cpc = await one.connect("CH", "CPC", Role.CPO)
    await settle(one, two)
    for watching in (cpa, cpb):
        assert statuses(watching, cpc) == ["CONNECTED"]
        assert statuses(watching, msp) == []
    assert (await listed(one, cpa))[("DE", "MSP")]["status"] == "CONNECTED"
    assert [versions_calls(p) for p in (cpa, cpb, cpc)] == [1, 1, 1]  # each one's handshake only


async def test_12_a_request_renews_its_two_parties_only(
    two_nodes: Nodes, clock: MovingClock
) -> None:
    one, two = two_nodes
    msp = await one.connect("DE", "MSP", Role.EMSP)
    cpa = await one.connect("CH", "CPA", Role.CPO)
    await two.connect("CH", "CPB", Role.CPO)
    await settle(two, one)
    before = await listed(one, cpa)
    assert before[("CH", "CPB")]["status"] == "CONNECTED"
    clock.advance(1)
    response = await one.send(msp, "GET", "/scpi/sender/2.2/locations/1", to=cpa)
    assert response.status_code == 1000, response.body
    after = await listed(one, cpa)
    assert when(after[("DE", "MSP")]) > when(before[("DE", "MSP")])
    assert when(after[("CH", "CPA")]) > when(before[("CH", "CPA")])
    assert after[("CH", "CPB")] == before[("CH", "CPB")]


async def test_a_request_to_the_peer_renews_the_receiver_on_its_node(
    two_nodes: Nodes, clock: MovingClock
) -> None:
    one, two = two_nodes
    msp = await one.connect("DE", "MSP", Role.EMSP)
    cpb = await two.connect("CH", "CPB", Role.CPO)
    before = (await listed(two, cpb))[("CH", "CPB")]
    clock.advance(1)
    response = await one.send(msp, "GET", "/scpi/sender/2.2/locations/1", to=cpb)
    assert response.status_code == 1000, response.body
    assert when((await listed(two, cpb))[("CH", "CPB")]) > when(before)


async def test_15_a_silent_party_goes_offline_here_and_on_the_peer_and_comes_back(
    two_nodes: Nodes, clock: MovingClock
) -> None:
    one, two = two_nodes
    msp = await one.connect("DE", "MSP", Role.EMSP)
    cpa = await one.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    cpb = await two.connect("CH", "CPB", Role.CPO, modules=WATCHING)
    await settle(one, two)
    stop(one, msp)
    await check(one, clock)
    await settle(one, two)
    for watching in (cpa, cpb):  # on the same node, and on the other one
        assert statuses(watching, msp) == ["OFFLINE"]
    refused = await one.send(cpa, "GET", "/scpi/sender/2.2/tokens", to=msp)
    assert refused.status_code == 4003 and b"OFFLINE" in refused.body
    assert (await listed(one, cpa))[("DE", "MSP")]["status"] == "OFFLINE"

    one.network.serve(msp.base_url, msp.handle)  # it answers again
    await check(one, clock)
    await settle(one, two)
    for watching in (cpa, cpb):
        assert statuses(watching, msp) == ["OFFLINE", "CONNECTED"]
    assert (await listed(one, cpa))[("DE", "MSP")]["status"] == "CONNECTED"


async def test_a_party_that_answers_badly_goes_offline_and_is_back_when_it_sends(
    node: HubUnderTest, clock: MovingClock
) -> None:
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    msp = await node.connect("DE", "MSP", Role.EMSP)
    msp.on("GET", "/scpi/versions", lambda _: answer(status=503, status_code=3000))
    await check(node, clock)
    assert statuses(cpa, msp) == ["CONNECTED", "OFFLINE"]
    sent = await node.send(msp, "GET", "/scpi/sender/2.2/locations", to=cpa)
    assert sent.status_code == 1000, sent.body  # OFFLINE parties may still send
    await node.drain()
    assert statuses(cpa, msp) == ["CONNECTED", "OFFLINE", "CONNECTED"]


async def test_a_busy_party_is_not_called(node: HubUnderTest, clock: MovingClock) -> None:
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    msp = await node.connect("DE", "MSP", Role.EMSP)
    for _ in range(5):  # both talk more often than the interval
        response = await node.send(msp, "GET", "/scpi/sender/2.2/locations", to=cpa)
        assert response.status_code == 1000
        clock.advance(INTERVAL / 2)
        await node.hub.presence.check_still_alive(INTERVAL)
    assert [versions_calls(p) for p in (cpa, msp)] == [1, 1]  # each one's handshake only


async def test_16_a_party_is_pushed_only_what_its_rules_let_in(
    node: HubUnderTest, clock: MovingClock
) -> None:
    """OCN scenario 16: CPA whitelists MSP; when CPB and MSP go OFFLINE, CPA hears of MSP only."""
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    watching = await node.connect("NL", "WAT", Role.CPO, modules=WATCHING)  # no rules
    await node.set_rules(cpa, whitelist(PartyId("DE", "MSP")))
    msp = await node.connect("DE", "MSP", Role.EMSP)
    cpb = await node.connect("CH", "CPB", Role.CPO)
    await node.drain()
    stop(node, msp)
    stop(node, cpb)
    await check(node, clock)
    assert statuses(watching, msp) == ["CONNECTED", "OFFLINE"]
    assert statuses(watching, cpb) == ["CONNECTED", "OFFLINE"]
    assert statuses(cpa, cpb) == []
    assert statuses(cpa, msp) == ["CONNECTED", "OFFLINE"]
