"""OCN's integration scenarios 10-17 (ocn-node.md §9.2) on two real SCN nodes: HubClientInfo.

OCN's topology: CPO CH/CPA on node 1, CPO CH/CPB on node 2, eMSP DE/MSP on node 1. A `local`
observer is on the node where the change happens, a `remote` one on the other node. Scenarios 14
and 16 need party rules (issue 6). Each test starts its own nodes: pushes go to every party.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from scn_node.scpi.party import PartyId, Role
from tests.network.conftest import StartNetwork
from tests.network.harness import OcnParties, Party, TwoNodes, eventually, ocn_parties, scpi

pytestmark = pytest.mark.ganache

PUSH_WITHIN = 5.0  # OCN allows 2 s for a HubClientInfo push; a loaded CI machine gets more


@pytest.fixture
async def ocn(two_nodes: TwoNodes) -> OcnParties:
    return await ocn_parties(two_nodes)


# ------------------------------------------------------------------------ HubClientInfoIntegrationTest


@pytest.mark.parametrize("observer", ["local", "remote"])
async def test_10_connect_and_disconnect_are_pushed(
    two_nodes: TwoNodes, ocn: OcnParties, observer: str
) -> None:
    watching = ocn.cpo(observer)
    cpc = await two_nodes.connect(1, "CH", "CPC", Role.CPO)
    await watching.heard(
        lambda: "CONNECTED" in watching.statuses_of(cpc),
        within=PUSH_WITHIN, what="CH CPC is CONNECTED",
    )  # fmt: skip
    assert scpi(await two_nodes.unregister(cpc)) is None
    await watching.heard(
        lambda: watching.statuses_of(cpc)[-1:] == ["SUSPENDED"],
        within=PUSH_WITHIN, what="CH CPC is SUSPENDED",
    )  # fmt: skip
    info = next(i for i in watching.client_infos() if i["party_id"] == "CPC")
    assert info["country_code"] == "CH" and info["role"] == "CPO" and "last_updated" in info


async def hub_client_info(network: TwoNodes, party: Party) -> dict[tuple[str, str], dict[str, Any]]:
    """GET hubclientinfo as `party` from its node, by party."""
    response = await network.client.get(
        f"{network.url(party.node)}/scpi/2.2/hubclientinfo",
        headers={"Authorization": party.authorization()},
    )
    return {(i["country_code"], i["party_id"]): i for i in scpi(response)}


async def test_11_without_still_alive_a_stopped_party_stays_connected(
    start_network: StartNetwork,
) -> None:
    network = await start_network(SCN_STILL_ALIVE_SECONDS="3600")
    ocn = await ocn_parties(network)
    await ocn.msp.stop()
    # Another party connecting is pushed to everyone; once that arrived, so would have MSP's.
    cpc = await network.connect(1, "CH", "CPC", Role.CPO)
    for watching in (ocn.cpa, ocn.cpb):
        await watching.heard(
            lambda w=watching: "CONNECTED" in w.statuses_of(cpc),
            within=PUSH_WITHIN, what="CH CPC is CONNECTED",
        )  # fmt: skip
        assert "OFFLINE" not in watching.statuses_of(ocn.msp)
    listed = await hub_client_info(network, ocn.cpa)
    assert listed[("DE", "MSP")]["status"] == "CONNECTED"


def _time(info: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(info["last_updated"]).replace("Z", "+00:00"))


async def test_12_a_request_updates_last_updated_of_its_two_parties(
    two_nodes: TwoNodes, ocn: OcnParties
) -> None:
    async def with_cpb() -> dict[tuple[str, str], dict[str, Any]] | None:
        listed = await hub_client_info(two_nodes, ocn.cpa)
        return listed if ("CH", "CPB") in listed else None

    before = await eventually(with_cpb, within=PUSH_WITHIN, what="node 1 listing CH CPB")
    scpi(await two_nodes.send(ocn.msp, "GET", "/scpi/sender/2.2/locations/1", to=ocn.cpa))
    after = await hub_client_info(two_nodes, ocn.cpa)
    assert _time(after[("DE", "MSP")]) > _time(before[("DE", "MSP")])
    assert _time(after[("CH", "CPA")]) > _time(before[("CH", "CPA")])
    assert after[("CH", "CPB")]["last_updated"] == before[("CH", "CPB")]["last_updated"]


@pytest.mark.parametrize("where", ["local", "remote"])
async def test_13_a_listed_party_that_never_connected_is_planned(
    start_network: StartNetwork, where: str
) -> None:
    network = await start_network(SCN_PLANNED_PARTY_SECONDS="1")
    ocn = await ocn_parties(network)
    ton = await network.start_party("GB", "TON", Role.EMSP)
    await network.list_party(ton, 1)
    asking = ocn.cpa if where == "local" else ocn.cpb

    async def planned() -> dict[str, Any] | None:
        return (await hub_client_info(network, asking)).get(("GB", "TON"))

    info = await eventually(
        planned, within=PUSH_WITHIN, what=f"GB TON in node {asking.node}'s list"
    )
    assert info["role"] == "EMSP" and info["status"] == "PLANNED"


# ------------------------------------------------------------------------ HubClientInfoStillAliveTest


async def test_15_still_alive_marks_a_silent_party_offline_and_back(
    start_network: StartNetwork,
) -> None:
    network = await start_network(SCN_STILL_ALIVE_SECONDS="1")
    ocn = await ocn_parties(network)
    await ocn.msp.stop()
    for watching in (ocn.cpa, ocn.cpb):  # on the same node, and on the other one
        await watching.heard(
            lambda w=watching: "OFFLINE" in w.statuses_of(ocn.msp),
            within=PUSH_WITHIN, what="DE MSP is OFFLINE",
        )  # fmt: skip
    await ocn.msp.start()  # on the same port: it answers again
    for watching in (ocn.cpa, ocn.cpb):
        await watching.heard(
            lambda w=watching: w.statuses_of(ocn.msp)[-1:] == ["CONNECTED"],
            within=PUSH_WITHIN, what="DE MSP is CONNECTED again",
        )  # fmt: skip


# ------------------------------------------------------------------------ PlannedPartySearchTest


async def test_17_a_newly_listed_party_is_pushed_as_planned(start_network: StartNetwork) -> None:
    network = await start_network(SCN_PLANNED_PARTY_SECONDS="1")
    ocn = await ocn_parties(network)
    sev = await network.start_party("GB", "SEV", Role.CPO)
    await network.list_party(sev, 1)
    for watching in (ocn.cpa, ocn.cpb, ocn.msp):
        await watching.heard(
            lambda w=watching: "PLANNED" in w.statuses_of(PartyId("GB", "SEV")),
            within=PUSH_WITHIN, what="GB SEV is PLANNED",
        )  # fmt: skip
