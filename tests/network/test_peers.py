"""The network changing under traffic: a party that moves, a lost RPC, nodes and parties down.

Parties: CPO CH/CPA and eMSP DE/MSP on node 1, CPO CH/CPB on node 2 (OCN's topology). Each test
starts its own nodes, as it stops or changes some of them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid

import httpx
import pytest

from scn_node.scpi.party import Role
from tests.network.conftest import StartNetwork
from tests.network.harness import (
    EXAMPLE_LOCATION,
    Chain,
    OcnParties,
    TwoNodes,
    eventually,
    ocn_parties,
)

pytestmark = pytest.mark.ganache


@pytest.fixture
async def ocn(two_nodes: TwoNodes) -> OcnParties:
    return await ocn_parties(two_nodes)


# ------------------------------------------------------------------------ the registry


async def test_a_party_moved_to_the_other_node_is_reached_there(
    start_network: StartNetwork,
) -> None:
    network = await start_network(SCN_REGISTRY_POLL_SECONDS="1")
    msp = await network.connect(1, "DE", "MSP", Role.EMSP)
    cpm = await network.connect(1, "CH", "CPM", Role.CPO)
    answers: list[httpx.Response] = []

    async def location() -> httpx.Response:
        response = await network.send(msp, "GET", "/scpi/sender/2.2/locations/LOC1", to=cpm)
        answers.append(response)
        return response

    first = await location()
    assert first.status_code == 200 and first.json()["status_code"] == 1000, first.text
    traffic_ran = time.monotonic()

    # From here on the CPO refuses node 1's TOKEN_B: only requests via node 2 succeed.
    await network.move(cpm, 2, new_token_b=f"token-b-node-2-{uuid.uuid4()}")

    async def via_node_2() -> bool:
        response = await location()
        arrived = cpm.requests_to("locations")[-1]
        return (
            response.status_code == 200
            and response.json()["status_code"] == 1000
            and arrived.headers["Authorization"] == f"Token {cpm.token_b}"
        )

    await eventually(via_node_2, within=15, interval=0.2, what="node 1 routing CH CPM via node 2")
    for answer in answers:  # while it moved: SCPI answers, never a crash
        assert answer.status_code in (200, 400, 404, 409), answer.text
        assert "status_code" in answer.json(), answer.text
    assert time.monotonic() - traffic_ran < 20


@pytest.mark.parametrize("where", ["local", "remote"])
async def test_routing_goes_on_from_the_cache_when_the_rpc_stops(
    start_network: StartNetwork, own_chain: Chain, where: str
) -> None:
    network = await start_network(
        own_chain, SCN_REGISTRY_CACHE_SECONDS="2", SCN_REGISTRY_POLL_SECONDS="1"
    )
    ocn = await ocn_parties(network)
    cpo = ocn.cpa if where == "local" else ocn.cpb

    async def location() -> None:
        response = await network.send(ocn.msp, "GET", "/scpi/sender/2.2/locations/1", to=cpo)
        assert response.status_code == 200, response.text
        assert response.json()["status_code"] == 1000, response.text
        assert response.json()["data"] == EXAMPLE_LOCATION

    await location()  # both nodes know both parties now
    own_chain.kill_rpc()
    stopped = time.monotonic()
    while time.monotonic() - stopped < 3.0:  # longer than the cache's 2 s: answers go stale
        await location()
        await asyncio.sleep(0.1)  # the pace of the traffic, not a wait for readiness

    def logged_stale() -> bool:
        # e.g. "SCN Registry unreachable (…): routing from cached answers"
        return any(
            entry.get("level") == "WARNING"
            and any(w in str(entry.get("message", "")).lower() for w in ("stale", "cached"))
            for entry in network.log_entries(1)
        )

    await eventually(logged_stale, within=5, what="node 1 logging that it routes from its cache")
    await location()


# ------------------------------------------------------------------------ failures name the hop


async def test_a_peer_node_that_is_down_gets_4003_naming_it(
    two_nodes: TwoNodes, ocn: OcnParties
) -> None:
    assert await two_nodes.stop_node(2) == 0
    response = await two_nodes.send(ocn.msp, "GET", "/scpi/sender/2.2/locations/1", to=ocn.cpb)
    assert response.status_code == 200 and response.json()["status_code"] == 4003, response.text
    assert two_nodes.url(2) in response.json()["status_message"]


async def test_a_peer_node_that_hangs_gets_4002_naming_it(start_network: StartNetwork) -> None:
    network = await start_network(SCN_PARTY_TIMEOUT="2")
    ocn = await ocn_parties(network)
    node2 = network.node(2).process
    assert node2 is not None
    os.kill(node2.pid, signal.SIGSTOP)
    try:
        response = await network.send(ocn.msp, "GET", "/scpi/sender/2.2/locations/1", to=ocn.cpb)
    finally:
        os.kill(node2.pid, signal.SIGCONT)
    assert response.status_code == 200 and response.json()["status_code"] == 4002, response.text
    assert network.url(2) in response.json()["status_message"]


async def test_a_receiver_down_behind_the_peer_gets_4003_naming_it(
    two_nodes: TwoNodes, ocn: OcnParties
) -> None:
    await ocn.cpb.stop()
    response = await two_nodes.send(ocn.msp, "GET", "/scpi/sender/2.2/locations/1", to=ocn.cpb)
    assert response.status_code == 200 and response.json()["status_code"] == 4003, response.text
    message = response.json()["status_message"]
    assert "CH CPB" in message and two_nodes.url(2) in message
