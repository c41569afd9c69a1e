"""A 2.2.1-only eMSP and a 2.2-only CPO trade through two real `scn-node serve` processes.

The eMSP (DE 221, Base64 tokens as OCPI 2.2.1 writes them) is on node 1; the CPO (NL V22) on node
2, or on node 1 for the local case. Each party joins at its own version's credentials path and is
called only at its own version's endpoints; bodies pass byte for byte.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from aiohttp import web

from scn_node.scpi.party import Role
from tests.network.harness import ADMIN_KEY, EXAMPLE_CDR, EXAMPLE_LOCATION, Party, TwoNodes, scpi
from tests.node.parties import Received

pytestmark = [pytest.mark.ganache, pytest.mark.asyncio(loop_scope="module")]

WHERE = pytest.mark.parametrize("where", ["local", "remote"])


@pytest.fixture
def two_nodes(shared_network: TwoNodes) -> TwoNodes:
    for party in shared_network.parties:
        party.received.clear()
    return shared_network


async def _parties(two_nodes: TwoNodes, where: str) -> tuple[Party, Party]:
    """The 2.2.1 eMSP on node 1 and a 2.2 CPO on node 1 (local) or node 2 (remote), once each."""
    known = {str(p.party): p for p in two_nodes.parties}
    emsp = known.get("DE 221") or await two_nodes.connect(
        1, "DE", "221", Role.EMSP, versions=["2.2.1"], base64_tokens=True
    )
    cpo_id, node = ("V2L", 1) if where == "local" else ("V2R", 2)
    cpo = known.get(f"NL {cpo_id}") or await two_nodes.connect(node, "NL", cpo_id, Role.CPO)
    return emsp, cpo


def _answer(data: Any) -> Any:
    async def respond(request: web.Request, received: Received) -> web.StreamResponse:
        body = {"status_code": 1000, "data": data, "timestamp": "2026-12-04T10:00:00Z"}
        return web.json_response(body)

    return respond


@WHERE
async def test_each_node_keeps_the_version_its_party_joined_with(
    two_nodes: TwoNodes, where: str
) -> None:
    emsp, cpo = await _parties(two_nodes, where)
    versions = {}
    for node in {emsp.node, cpo.node}:
        listed = await two_nodes.client.get(
            f"{two_nodes.url(node)}/admin/platforms",
            headers={"Authorization": f"Token {ADMIN_KEY}"},
        )
        for platform in scpi(listed):
            for role in platform["roles"]:
                versions[f"{role['country_code']} {role['party_id']}"] = platform["version"]
    assert versions[str(emsp.party)] == "2.2.1"
    assert versions[str(cpo.party)] == "2.2"


@WHERE
async def test_locations_reach_the_2_2_cpo_byte_for_byte(two_nodes: TwoNodes, where: str) -> None:
    emsp, cpo = await _parties(two_nodes, where)
    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), _answer(EXAMPLE_LOCATION))
    response = await two_nodes.send(emsp, "GET", "/scpi/sender/2.2.1/locations/LOC1", to=cpo)
    assert scpi(response) == EXAMPLE_LOCATION
    [arrived] = cpo.requests_to("locations")
    assert arrived.path == cpo.endpoint_path("locations", "SENDER") + "/LOC1"
    assert "/2.2/" in arrived.path
    assert arrived.headers["Authorization"] == f"Token {cpo.token_b}"  # plain: a 2.2 party


@WHERE
async def test_a_command_result_reaches_the_2_2_1_emsp(two_nodes: TwoNodes, where: str) -> None:
    emsp, cpo = await _parties(two_nodes, where)
    response_url = emsp.endpoint("commands", "SENDER") + "/START_SESSION/42"
    command = {"response_url": response_url, "location_id": "LOC1", "token": {"uid": "0102"}}
    accepted = await two_nodes.send(
        emsp, "POST", "/scpi/receiver/2.2.1/commands/START_SESSION", to=cpo, body=command
    )
    scpi(accepted)
    [arrived] = cpo.requests_to("commands")
    hidden = arrived.json()["response_url"]
    assert hidden.startswith(f"{two_nodes.url(cpo.node)}/scpi/2.2/proxy/"), hidden

    result = await two_nodes.send(cpo, "POST", hidden, to=emsp, body={"result": "ACCEPTED"})
    scpi(result)
    [delivered] = emsp.requests_to("commands")
    assert delivered.path == emsp.endpoint_path("commands", "SENDER") + "/START_SESSION/42"
    assert "/2.2.1/" in delivered.path
    assert delivered.json() == {"result": "ACCEPTED"}
    token_b = base64.b64encode(emsp.token_b.encode()).decode()
    assert delivered.headers["Authorization"] == f"Token {token_b}"  # Base64: a 2.2.1 party


@WHERE
async def test_a_cdr_and_its_location_reach_the_2_2_1_emsp(two_nodes: TwoNodes, where: str) -> None:
    emsp, cpo = await _parties(two_nodes, where)
    cdr_url = emsp.endpoint("cdrs", "RECEIVER") + "/CDR1"

    async def created(request: web.Request, received: Received) -> web.StreamResponse:
        body = {"status_code": 1000, "timestamp": "2026-12-04T10:00:00Z"}
        return web.json_response(body, headers={"Location": cdr_url})

    emsp.on("POST", emsp.endpoint_path("cdrs", "RECEIVER"), created)
    posted = await two_nodes.send(cpo, "POST", "/scpi/receiver/2.2/cdrs", to=emsp, body=EXAMPLE_CDR)
    scpi(posted)
    [arrived] = emsp.requests_to("cdrs")
    assert arrived.json() == EXAMPLE_CDR
    assert arrived.path == emsp.endpoint_path("cdrs", "RECEIVER")
    location = posted.headers["Location"]
    assert location.startswith(f"{two_nodes.url(cpo.node)}/scpi/2.2/proxy/"), location

    emsp.on("GET", emsp.endpoint_path("cdrs", "RECEIVER"), _answer(EXAMPLE_CDR))
    fetched = await two_nodes.send(cpo, "GET", location, to=emsp)
    assert scpi(fetched) == EXAMPLE_CDR
    assert emsp.requests_to("cdrs")[-1].path == emsp.endpoint_path("cdrs", "RECEIVER") + "/CDR1"
