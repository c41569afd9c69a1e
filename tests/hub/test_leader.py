"""Background work runs on the leading instance only: an instance that does not lead makes no
still-alive calls and finds no planned parties; once it leads, it does both. The store decides
who leads (tests/store/test_leases.py); here a fake says yes or no."""

from __future__ import annotations

from dataclasses import dataclass

from scn_node.scpi.party import Role
from tests.fakes.backoffice import FakeBackoffice
from tests.fakes.clock import MovingClock
from tests.fakes.hub import HubUnderTest
from tests.hub.test_client_info import WATCHING, listed, statuses

INTERVAL = 300.0


@dataclass
class FakeLeadership:
    leads: bool
    asked: int = 0

    async def lead(self) -> bool:
        self.asked += 1
        return self.leads


def following(node: HubUnderTest) -> FakeLeadership:
    leadership = FakeLeadership(leads=False)
    node.hub.presence.leadership = leadership
    return leadership


def versions_calls(party: FakeBackoffice) -> int:
    return len([r for r in party.received if r.path == "/scpi/versions"])


async def round_of_still_alive(node: HubUnderTest, clock: MovingClock) -> None:
    clock.advance(INTERVAL + 1)
    await node.hub.presence.check_still_alive(INTERVAL)
    await node.drain()


async def test_a_still_alive_round_calls_no_one_unless_this_instance_leads(
    node: HubUnderTest, clock: MovingClock
) -> None:
    leadership = following(node)
    msp = await node.connect("DE", "MSP", Role.EMSP)
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    node.network.drop(msp.base_url)  # silent: a round makes it OFFLINE
    calls = versions_calls(cpa)

    await round_of_still_alive(node, clock)
    assert leadership.asked == 1
    assert versions_calls(cpa) == calls
    assert statuses(cpa, msp) == []
    assert (await listed(node, cpa))[("DE", "MSP")]["status"] == "CONNECTED"

    leadership.leads = True
    await round_of_still_alive(node, clock)
    assert leadership.asked == 2
    assert versions_calls(cpa) == calls + 1
    assert statuses(cpa, msp) == ["OFFLINE"]


async def test_the_planned_party_search_finds_none_unless_this_instance_leads(
    node: HubUnderTest,
) -> None:
    leadership = following(node)
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    ton = node.new_party("GB", "TON", Role.EMSP)
    node.list_party(ton)

    await node.hub.presence.search_planned()
    await node.drain()
    assert statuses(cpa, ton) == []
    assert ("GB", "TON") not in await listed(node, cpa)

    leadership.leads = True
    await node.hub.presence.search_planned()
    await node.drain()
    assert statuses(cpa, ton) == ["PLANNED"]
    assert leadership.asked == 2
