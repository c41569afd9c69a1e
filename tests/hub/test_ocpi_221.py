"""A 2.2.1-only eMSP and a 2.2-only CPO work together through the hub, on one node and across two.

Each party calls its node at the paths of its own version and is called at the endpoints of its
own version; the bodies pass byte for byte (nothing is translated between the versions), and
only the node's own URLs (proxies for response_url and Location) replace the parties' ones.
"""

from __future__ import annotations

import base64
import json

import pytest

from scn_node.hub.model import PartyResponse
from scn_node.scpi.party import Role
from tests.fakes.backoffice import FakeBackoffice, Received, answer
from tests.fakes.hub import HubUnderTest
from tests.fakes.transport import response

Placed = tuple[HubUnderTest, HubUnderTest]


@pytest.fixture(params=["one node", "two nodes"])
def placed(request: pytest.FixtureRequest) -> Placed:
    """The eMSP's node and the CPO's node: the same one, or two on one registry."""
    if request.param == "one node":
        node: HubUnderTest = request.getfixturevalue("node")
        return node, node
    nodes: Placed = request.getfixturevalue("two_nodes")
    return nodes


async def _parties(placed: Placed) -> tuple[FakeBackoffice, FakeBackoffice]:
    emsp_node, cpo_node = placed
    # As OCPI 2.2.1 asks, the eMSP expects its token Base64-encoded; the 2.2 CPO as it is.
    emsp = await emsp_node.connect("DE", "MSP", Role.EMSP, versions=["2.2.1"], base64_tokens=True)
    cpo = await cpo_node.connect("NL", "CPO", Role.CPO, versions=["2.2"])
    return emsp, cpo


def _base64(token: str) -> str:
    return base64.b64encode(token.encode()).decode()


async def test_the_emsp_gets_the_cpos_location_as_the_cpo_sent_it(placed: Placed) -> None:
    emsp_node, _ = placed
    emsp, cpo = await _parties(placed)
    # Spacing and a field 2.2 does not know: the eMSP must get exactly these bytes.
    location = b'{"status_code": 1000, "data": {"id": "LOC1",  "x_future": ["\\u00e9"]}}'
    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), lambda r: response(200, location))
    got = await emsp_node.send(emsp, "GET", "/scpi/sender/2.2.1/locations/LOC1?x=1", to=cpo)
    assert (got.status, got.body) == (200, location)
    received = cpo.module_requests()[-1]
    assert (received.path, received.query) == ("/scpi/cpo/2.2/locations/sender/LOC1", "x=1")
    assert received.headers["Authorization"] == f"Token {cpo.token_b}"
    assert (got.headers["SCPI-from-party-id"], got.headers["SCPI-to-party-id"]) == ("CPO", "MSP")


async def test_a_command_result_reaches_the_emsp_at_its_2_2_1_url(placed: Placed) -> None:
    emsp_node, cpo_node = placed
    emsp, cpo = await _parties(placed)
    result_url = f"{emsp.endpoint('commands', 'SENDER')}/START_SESSION/42"
    assert "/2.2.1/" in result_url
    command = (
        b'{"response_url": "' + result_url.encode() + b'", "token": {"uid": "T1"},\n'
        b' "location_id": "LOC1", "connector_id": "1"}'
    )
    sent = await emsp_node.send(
        emsp, "POST", "/scpi/receiver/2.2.1/commands/START_SESSION", to=cpo, body=command
    )
    assert (sent.status, sent.status_code) == (200, 1000)
    arrived = cpo.module_requests()[-1]
    assert (arrived.method, arrived.path) == (
        "POST",
        "/scpi/cpo/2.2/commands/receiver/START_SESSION",
    )
    hidden = arrived.json()["response_url"]
    assert hidden.startswith(f"{cpo_node.url}/scpi/2.2/proxy/")
    assert arrived.body == command.replace(result_url.encode(), hidden.encode())

    outcome = b'{"result": "ACCEPTED",  "message": []}'
    result = await cpo_node.send(cpo, "POST", hidden, to=emsp, body=outcome)
    assert (result.status, result.status_code) == (200, 1000)
    delivered = emsp.module_requests()[-1]
    assert (delivered.method, delivered.path, delivered.body) == (
        "POST",
        "/scpi/emsp/2.2.1/commands/sender/START_SESSION/42",
        outcome,
    )
    assert delivered.headers["Authorization"] == f"Token {_base64(emsp.token_b)}"


async def test_a_cdr_is_posted_to_the_emsp_and_read_back_through_its_location(
    placed: Placed,
) -> None:
    _, cpo_node = placed
    emsp, cpo = await _parties(placed)
    stored_at = f"{emsp.endpoint('cdrs', 'RECEIVER')}/CDR1"
    cdr = b'{"country_code": "NL", "party_id": "CPO", "id": "CDR1", "total_cost": {"excl_vat": 1}}'
    stored: list[bytes] = []

    def keep(received: Received) -> PartyResponse:
        stored.append(received.body)
        return answer(headers={"Location": stored_at})

    emsp.on("POST", emsp.endpoint_path("cdrs", "RECEIVER"), keep)
    emsp.on("GET", emsp.endpoint_path("cdrs", "RECEIVER"), lambda r: response(200, stored[-1]))

    posted = await cpo_node.send(cpo, "POST", "/scpi/receiver/2.2/cdrs", to=emsp, body=cdr)
    assert (posted.status, posted.status_code) == (200, 1000)
    assert emsp.module_requests()[-1].path == "/scpi/emsp/2.2.1/cdrs/receiver"
    assert stored == [cdr]
    location = posted.headers["Location"]
    assert location.startswith(f"{cpo_node.url}/scpi/2.2/proxy/") and emsp.base_url not in location

    read = await cpo_node.send(cpo, "GET", location, to=emsp)
    assert (read.status, read.body) == (200, cdr)
    (get,) = [r for r in emsp.module_requests() if r.method == "GET"]
    assert get.path == "/scpi/emsp/2.2.1/cdrs/receiver/CDR1"
    assert get.headers["Authorization"] == f"Token {_base64(emsp.token_b)}"


async def test_the_2_2_cpo_is_called_at_its_2_2_paths_when_the_emsp_sends(
    placed: Placed,
) -> None:
    """The sender's version does not choose the receiver's paths: its own registration does."""
    emsp_node, _ = placed
    emsp, cpo = await _parties(placed)
    body = json.dumps({"uid": "T1", "type": "RFID"}).encode()
    got = await emsp_node.send(
        emsp, "PUT", "/scpi/receiver/2.2.1/tokens/DE/MSP/T1", to=cpo, body=body
    )
    assert got.status_code == 1000
    received = cpo.module_requests()[-1]
    assert (received.path, received.body) == ("/scpi/cpo/2.2/tokens/receiver/DE/MSP/T1", body)
