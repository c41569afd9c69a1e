"""GET All via the hub, around the sources: signed pages, service copies, stored objects."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from scn_node.hub.exchange import Exchange
from scn_node.hub.message import ScpiReply
from scn_node.hub.model import PartyResponse
from scn_node.hub.rules import PartyRules
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.notary import response_values, sign
from scn_node.scpi.pagination import next_link
from scn_node.scpi.party import Role
from scn_node.scpi.services import ServicePermission
from tests.fakes.backoffice import FakeBackoffice, Received, ok
from tests.fakes.hub import HubUnderTest
from tests.fakes.transport import response
from tests.hub.test_get_all import Nodes, follow, get_all, list_requests, parties, serve_pages
from tests.hub.test_signatures import account, verify_reply


def serve_signed_pages(party: FakeBackoffice, module: str, sizes: list[int]) -> None:
    """As `serve_pages`, each page signed by the party over the headers it sends."""

    def respond(got: Received) -> PartyResponse:
        number = int(dict(parse_qsl(got.query)).get("page", "0"))
        link = None
        if number + 1 < len(sizes):
            link = f'<{party.endpoint(module, "SENDER")}?page={number + 1}>; rel="next"'
        data = [{"id": f"{party.party.party_id}-{number}-{i}"} for i in range(sizes[number])]
        envelope = ok(data)
        values = response_values(
            envelope=envelope, limit="2", total_count=str(sum(sizes)), link=link
        )
        envelope["scn_signature"] = sign(values, account(party).key).encode()
        headers = {
            "X-Total-Count": str(sum(sizes)),
            "X-Limit": "2",
            **({"Link": link} if link else {}),
        }
        return response(200, json.dumps(envelope).encode(), headers)

    party.on("GET", party.endpoint_path(module, "SENDER"), respond)


async def test_signed_pages_stay_verifiable_back_to_each_source(two_nodes: Nodes) -> None:
    one, two = two_nodes
    emsp, cpa, cpb, cpc = await parties(two_nodes)
    await one.set_rules(emsp, PartyRules(signatures=True))  # it wants signed answers
    serve_signed_pages(cpa, "cdrs", [1, 1])
    serve_signed_pages(cpb, "cdrs", [1])
    serve_signed_pages(cpc, "cdrs", [1, 1])

    pages = [await get_all(one, emsp)]
    while "Link" in pages[-1].headers:
        pages.append(await follow(one, emsp, pages[-1]))

    node_a, node_b = one.address, two.address
    chains = [verify_reply(page).signatories() for page in pages]
    assert chains == [
        [node_a, account(cpa).address],
        [node_a, account(cpa).address],  # the source's last page: the hub's Link is added
        [node_a, account(cpb).address],
        [node_a, node_b, account(cpc).address],  # node B re-signed its own Link first
        [node_a, account(cpc).address],  # the last page of all: no Link on either node
    ]
    ids = [item["id"] for page in pages for item in page.json()["data"]]
    assert ids == ["CPA-0-0", "CPA-1-0", "CPB-0-0", "CPC-0-0", "CPC-1-0"]
    assert all(page.headers["X-Total-Count"] == "5" for page in pages)


async def test_an_unsigned_page_fails_when_signed_answers_are_wanted(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpa = await node.connect("DE", "CPA")
    await node.set_rules(emsp, PartyRules(signatures=True))
    serve_pages(cpa, "cdrs", [1])

    got = await get_all(node, emsp)

    assert got.status_code == 3000
    assert "DE CPA" in got.json()["status_message"]


async def test_the_empty_list_is_signed_when_signed_answers_are_wanted(
    node: HubUnderTest,
) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    await node.set_rules(emsp, PartyRules(signatures=True))

    got = await get_all(node, emsp)

    assert got.json()["data"] == []
    assert verify_reply(got).signatories() == [node.address]


async def test_services_get_the_one_request_never_the_legs(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpa = await node.connect("DE", "CPA")
    cpb = await node.connect("DE", "CPB")
    service = await node.connect("CH", "SRV", Role.OTHER)  # OTHER: not a source of an eMSP
    assert service.account is not None
    node.registry.add_service(
        emsp.party,
        service.party,
        service.account.address,
        ServicePermission.FORWARD_MODULE_CDRS_SENDER,
    )
    serve_pages(cpa, "cdrs", [1])
    serve_pages(cpb, "cdrs", [1])

    first = await get_all(node, emsp)
    await follow(node, emsp, first)
    await node.drain()

    (copy,) = service.module_requests()  # the first page's request; no leg, no follow-up
    assert copy.path == "/scpi/other/2.2/cdrs/sender"
    assert (copy.headers["SCPI-from-party-id"], copy.headers["SCPI-to-party-id"]) == ("MSP", "SRV")


@pytest.mark.parametrize(("module", "asked"), [("locations", True), ("cdrs", False)])
async def test_stored_objects_answer_first_for_stored_modules(
    node: HubUnderTest, module: str, asked: bool
) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpa = await node.connect("DE", "CPA")
    serve_pages(cpa, module, [1])
    stored = ScpiReply(200, b'{"data":[],"status_code":1000}', {"X-Total-Count": "0"})
    seen: list[Any] = []

    async def page(exchange: Exchange) -> ScpiReply | None:
        seen.append(exchange.request.module)
        return stored

    node.hub.forwarder.get_all.stored.page = page  # type: ignore[method-assign]

    got = await get_all(node, emsp, module)

    assert seen == ([module] if asked else [])
    assert (got.body == stored.body) is asked
    assert (list_requests(cpa, module) == []) is asked


async def test_stored_objects_that_keep_none_fall_back_to_the_sources(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpa = await node.connect("DE", "CPA")
    expected = serve_pages(cpa, "locations", [1])

    got = await get_all(node, emsp, "locations")  # the stub keeps nothing

    assert got.body == expected[0]
    assert next_link(got.headers.get("Link")) is None
    assert NODE_PARTY.party_id == got.headers["SCPI-from-party-id"]


async def test_the_requests_own_signature_is_checked(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpa = await node.connect("DE", "CPA")
    serve_pages(cpa, "cdrs", [1])

    got = await node.send(
        emsp, "GET", "/scpi/sender/2.2/cdrs", to=NODE_PARTY, headers={"SCN-Signature": "x"}
    )

    assert got.status_code == 2001
    assert "Invalid SCN-Signature" in got.json()["status_message"]
    assert list_requests(cpa, "cdrs") == []


async def test_a_get_all_of_locations_teaches_open_routing_who_owns_them(
    node: HubUnderTest,
) -> None:
    """Nothing kept: the sources answer, and their pages name their own locations' owner."""
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpa = await node.connect("DE", "CPA")
    listed = [{"country_code": "DE", "party_id": "CPA", "id": "LOC-A7"}]
    cpa.on(
        "GET",
        cpa.endpoint_path("locations", "SENDER"),
        lambda got: response(200, json.dumps(ok(listed)).encode()),
    )
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=NODE_PARTY)
    assert got.status_code == 1000 and got.json()["data"] == listed
    await node.drain()
    found = await node.send(emsp, "GET", "/scpi/sender/2.2/locations/LOC-A7", to=None)
    assert found.status_code == 1000
    assert found.headers["SCPI-from-party-id"] == "CPA"  # answered by the owner it learned
    assert cpa.module_requests()[-1].path == cpa.endpoint_path("locations", "SENDER") + "/LOC-A7"
