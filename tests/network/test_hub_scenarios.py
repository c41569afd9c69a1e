"""The hub's own scenarios on two real `scn-node serve` processes: broadcast push, GET All and
open routing, with OCN's topology (CPO CH/CPA on node 1, CPO CH/CPB on node 2, eMSP DE/MSP on
node 1). The core is tested over fakes in tests/hub; these passes show the same behaviour over
sockets, signed node messages and the chain's registry.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web

from scn_node.scpi.credentials import NODE_PARTY
from tests.network.harness import EXAMPLE_CDR, OcnParties, TwoNodes, eventually, scpi
from tests.node.parties import Received

pytestmark = [pytest.mark.ganache, pytest.mark.asyncio(loop_scope="module")]

# Bytes a re-serialiser would change: each receiver must get exactly these.
LOCATION = (
    '{"country_code":"CH", "party_id":"CPB", "id":"LOC-B1",  "publish":true,'
    ' "x_extra":{"z":1.0,"a":"Z\\u00fcrich ⚡"}, "last_updated":"2026-12-04T10:00:00Z"}'
)


@pytest.fixture
def two_nodes(shared_network: TwoNodes) -> TwoNodes:
    return shared_network


@pytest.fixture
def ocn(fresh_ocn: OcnParties) -> OcnParties:
    return fresh_ocn


def _from(response_headers: Any) -> tuple[str, str]:
    return response_headers["SCPI-from-country-code"], response_headers["SCPI-from-party-id"]


async def test_a_broadcast_from_node_2_reaches_the_emsp_on_node_1_from_the_hub(
    two_nodes: TwoNodes, ocn: OcnParties
) -> None:
    path = "/scpi/receiver/2.2/locations/CH/CPB/LOC-B1"
    response = await two_nodes.send(ocn.cpb, "PUT", path, to=NODE_PARTY, body=LOCATION)
    assert scpi(response) is None
    assert _from(response.headers) == ("DE", "SCN")
    prefix = ocn.msp.endpoint_path("locations", "RECEIVER")

    def arrived() -> list[Received]:
        return [r for r in ocn.msp.received if r.path == prefix + "/CH/CPB/LOC-B1"]

    [leg] = await ocn.msp.heard(arrived, what="the broadcast location")
    assert leg.method == "PUT"
    assert leg.body == LOCATION.encode()
    assert (leg.headers["SCPI-from-country-code"], leg.headers["SCPI-from-party-id"]) == (
        "DE",
        "SCN",
    )
    assert (leg.headers["SCPI-to-country-code"], leg.headers["SCPI-to-party-id"]) == ("DE", "MSP")
    assert leg.headers["Authorization"] == f"Token {ocn.msp.token_b}"
    assert leg.headers["X-Correlation-ID"] == response.request.headers["X-Correlation-ID"]
    # CPOs do not receive another CPO's locations, and the sender is not sent its own.
    assert ocn.cpa.requests_to("locations", "RECEIVER") == []
    assert ocn.cpb.requests_to("locations", "RECEIVER") == []


def _cdrs_of(party_id: str, count: int) -> Any:
    async def respond(request: web.Request, received: Received) -> web.StreamResponse:
        data = [
            dict(EXAMPLE_CDR, party_id=party_id, id=f"CDR-{party_id}-{i}") for i in range(count)
        ]
        body = {"status_code": 1000, "data": data, "timestamp": "2026-12-04T10:00:00Z"}
        return web.json_response(body, headers={"X-Total-Count": str(count), "X-Limit": "10"})

    return respond


async def test_get_all_cdrs_pages_through_both_cpos_across_the_network(
    two_nodes: TwoNodes, ocn: OcnParties
) -> None:
    ocn.cpa.on("GET", ocn.cpa.endpoint_path("cdrs", "SENDER"), _cdrs_of("CPA", 2))
    ocn.cpb.on("GET", ocn.cpb.endpoint_path("cdrs", "SENDER"), _cdrs_of("CPB", 3))
    response = await two_nodes.send(
        ocn.msp, "GET", "/scpi/sender/2.2/cdrs?date_from=2026-12-01T00:00:00Z", to=NODE_PARTY
    )
    pages = [response]
    while "Link" in response.headers:
        next_url = response.headers["Link"].split(">")[0].lstrip("<")
        assert next_url.startswith(two_nodes.url(1) + "/")  # a node URL, never a party's
        response = await two_nodes.send(ocn.msp, "GET", next_url, to=NODE_PARTY)
        pages.append(response)
    ids = [cdr["id"] for page in pages for cdr in scpi(page)]
    assert ids == [f"CDR-CPA-{i}" for i in range(2)] + [f"CDR-CPB-{i}" for i in range(3)]
    assert pages[0].headers["X-Total-Count"] == "5"
    assert all(_from(page.headers) == ("DE", "SCN") for page in pages)
    # Each source's first page is asked for once, at once (for the totals), and relayed in
    # its turn.
    for cpo in (ocn.cpa, ocn.cpb):
        asked = cpo.requests_to("cdrs", "SENDER")
        assert len(asked) == 1
        for request in asked:
            assert request.headers["SCPI-from-party-id"] == "MSP"  # asked for the eMSP
            assert request.headers["SCPI-to-party-id"] == cpo.party.party_id
            assert request.query == "date_from=2026-12-01T00%3A00%3A00Z"


async def test_get_all_with_a_source_down_fails_the_page_naming_it(
    two_nodes: TwoNodes, ocn: OcnParties
) -> None:
    ocn.cpa.on("GET", ocn.cpa.endpoint_path("cdrs", "SENDER"), _cdrs_of("CPA", 1))

    async def broken(request: web.Request, received: Received) -> web.StreamResponse:
        return web.Response(status=502, text="bad gateway")

    ocn.cpb.on("GET", ocn.cpb.endpoint_path("cdrs", "SENDER"), broken)
    response = await two_nodes.send(ocn.msp, "GET", "/scpi/sender/2.2/cdrs", to=NODE_PARTY)
    assert response.status_code == 200
    body = response.json()
    assert body["status_code"] == 4000 and "data" not in body  # no partial list
    assert "CH CPB" in body["status_message"]


async def test_open_routing_finds_the_emsp_on_the_other_node_by_its_contract_id(
    two_nodes: TwoNodes, ocn: OcnParties
) -> None:
    authorized = {"allowed": "ALLOWED", "token": {"uid": "DE-MSP-C12345678-X"}}

    async def authorize(request: web.Request, received: Received) -> web.StreamResponse:
        body = {"status_code": 1000, "data": authorized, "timestamp": "2026-12-04T10:00:00Z"}
        return web.json_response(body)

    ocn.msp.on("POST", ocn.msp.endpoint_path("tokens", "SENDER"), authorize)
    path = "/scpi/sender/2.2/tokens/DE-MSP-C12345678-X/authorize?type=APP_USER"
    response = await two_nodes.send(ocn.cpb, "POST", path, to=None, body=json.dumps({}))
    assert scpi(response) == authorized
    assert _from(response.headers) == ("DE", "MSP")  # the sender learns who answered
    [arrived] = ocn.msp.requests_to("tokens", "SENDER")
    assert arrived.path.endswith("/DE-MSP-C12345678-X/authorize")
    assert arrived.query == "type=APP_USER"
    assert (arrived.headers["SCPI-to-country-code"], arrived.headers["SCPI-to-party-id"]) == (
        "DE",
        "MSP",
    )


async def test_tariffs_broadcast_on_both_nodes_are_served_by_get_all_from_node_1s_store(
    two_nodes: TwoNodes, ocn: OcnParties
) -> None:
    tariffs = [
        (
            cpo,
            f'{{"country_code":"CH","party_id":"{cpo.party.party_id}","id":"T1",'
            '"currency":"CHF", "elements":[{"price_components":[{"type":"ENERGY",'
            '"price":0.3,"step_size":1}]}], "last_updated":"2026-12-04T11:00:00Z"}',
        )
        for cpo in (ocn.cpa, ocn.cpb)
    ]
    for cpo, tariff in tariffs:
        path = f"/scpi/receiver/2.2/tariffs/CH/{cpo.party.party_id}/T1"
        assert scpi(await two_nodes.send(cpo, "PUT", path, to=NODE_PARTY, body=tariff)) is None
    prefix = ocn.msp.endpoint_path("tariffs", "RECEIVER")
    await ocn.msp.heard(
        lambda: len([r for r in ocn.msp.received if r.path.startswith(prefix)]) == 2,
        what="both tariffs",
    )

    async def both_kept() -> Any:
        # Node 1 keeps NL's tariff beside the leg to DE MSP, not before it: poll the store.
        got = await two_nodes.send(ocn.msp, "GET", "/scpi/sender/2.2/tariffs", to=NODE_PARTY)
        return got if got.headers.get("X-Total-Count") == "2" else None

    response = await eventually(both_kept, what="both tariffs kept on node 1")
    assert _from(response.headers) == ("DE", "SCN")
    # Built from the kept bytes: each tariff exactly as its CPO pushed it.
    for _, tariff in tariffs:
        assert tariff.encode() in response.content
    assert ocn.cpa.requests_to("tariffs", "SENDER") == []  # no source was asked
    assert ocn.cpb.requests_to("tariffs", "SENDER") == []
