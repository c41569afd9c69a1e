"""Routing over a real socket: what the web adapter reads off the wire and hands to the hub.

The raw path, query and body of a request reach the receiver byte for byte, a custom module
has its own route, the body limit and unknown routes are the adapter's, and GET hubclientinfo
pages with its own headers. Everything else about routing is hub behaviour: tests/hub/test_routing.py
and tests/hub/test_routing_errors.py (the same endpoint table, over the in-memory harness).
"""

from __future__ import annotations

import re

import httpx
import pytest
from aiohttp import web

from scn_node.scpi.party import PartyId, Role
from tests.hub.test_routing import REPLY, REPLY_HEADERS, ROUTES, Route
from tests.node.conftest import Network
from tests.node.parties import FakeParty, Received, Responder

DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?")
# What the adapter must not touch on the way in: a raw path and query, bodies of each method.
WIRE = {
    "locations-sender-GET/LOC%201?q=M%C3%BCnchen+Nord&",
    "cdrs-receiver-POST/",
    "tokens-receiver-PATCH/DE/MSP/012345678?type=APP_USER",
    "tariffs-receiver-DELETE/DE/CPO/TARIFF1",
}
WIRE_ROUTES = [route for route in ROUTES if route.id in WIRE]


# ---------------------------------------------------------------- helpers


async def connect_pair(network: Network, **cpo_options: object) -> tuple[FakeParty, FakeParty]:
    cpo = await network.connect("DE", "CPO", Role.CPO, **cpo_options)
    emsp = await network.connect("DE", "MSP", Role.EMSP)
    return cpo, emsp


def answer(
    body: bytes = REPLY, status: int = 200, headers: dict[str, str] | None = None
) -> Responder:
    """A responder that answers with exactly these bytes."""

    async def responder(request: web.Request, received: Received) -> web.Response:
        return web.Response(
            status=status, body=body, content_type="application/json", headers=headers or {}
        )

    return responder


def lower(headers: dict[str, str] | httpx.Headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def routing(family: str, sender: PartyId, receiver: PartyId) -> dict[str, str]:
    f = family.lower()
    return {
        f"{f}-from-country-code": sender.country_code,
        f"{f}-from-party-id": sender.party_id,
        f"{f}-to-country-code": receiver.country_code,
        f"{f}-to-party-id": receiver.party_id,
    }


def assert_forwarded_headers(got: Received, sender: FakeParty, receiver: FakeParty) -> None:
    headers = lower(got.headers)
    assert headers["authorization"] == f"Token {receiver.token_b}"
    assert headers["x-request-id"] not in ("", "req-1")
    assert headers["x-correlation-id"] == "corr-1"
    for family in ("SCPI", "OCPI"):
        expected = routing(family, sender.party, receiver.party)
        assert {k: headers.get(k) for k in expected} == expected
    if got.body:
        assert headers["content-type"].split(";")[0] == "application/json"


def assert_reply_headers(response: httpx.Response, sender: FakeParty, receiver: FakeParty) -> None:
    headers = lower(response.headers)
    assert headers["x-request-id"] == "req-1"
    assert headers["x-correlation-id"] == "corr-1"
    for family in ("SCPI", "OCPI"):
        swapped = routing(family, receiver.party, sender.party)
        assert {k: headers.get(k) for k in swapped} == swapped


def assert_error(response: httpx.Response, http_status: int, status_code: int) -> str:
    """An SCPI error envelope with exactly this HTTP status and status_code; returns the message."""
    assert response.status_code != 500, response.text
    assert response.status_code == http_status, response.text
    body = response.json()
    assert body["status_code"] == status_code, body
    assert isinstance(body["status_message"], str) and body["status_message"], body
    assert DATETIME.fullmatch(body["timestamp"]), body
    return str(body["status_message"])


# ---------------------------------------------------------------- read off the wire unchanged


@pytest.mark.parametrize("route", WIRE_ROUTES, ids=[r.id for r in WIRE_ROUTES])
async def test_request_and_reply_travel_byte_for_byte(network: Network, route: Route) -> None:
    """The receiver gets the sender's method, path tail, query and body unchanged, with node
    headers; the sender gets the receiver's status, body and paging headers unchanged."""
    cpo, emsp = await connect_pair(network)
    sender, receiver = (cpo, emsp) if route.sender == "cpo" else (emsp, cpo)
    receiver.on(
        "*", receiver.endpoint_path(route.module, route.interface), answer(headers=REPLY_HEADERS)
    )

    response = await network.send(
        sender, route.method, route.node_path, to=receiver, body=route.body
    )

    assert response.status_code == 200, response.text
    assert response.content == REPLY
    assert_reply_headers(response, sender, receiver)
    assert response.headers["X-Total-Count"] == "42"
    assert response.headers["X-Limit"] == "7"
    assert response.headers["Content-Type"] == "application/json"

    [got] = receiver.module_requests()
    assert got.method == route.method
    assert got.path == receiver.endpoint_path(route.module, route.interface) + route.tail
    assert got.query == route.query
    assert got.body == (route.body or "").encode()
    assert_forwarded_headers(got, sender, receiver)
    assert sender.module_requests() == []


async def test_custom_module_reaches_the_party_custom_endpoint(network: Network) -> None:
    """Its own route: sub-path, query and a non-JSON body go to the party's custom endpoint
    (every method: tests/hub/test_routing.py)."""
    cpo, emsp = await connect_pair(network, custom_modules=("lite-locations",))
    path = "/scpi/custom/receiver/lite-locations/sub/path?x=1"
    response = await network.send(emsp, "PUT", path, to=cpo, body="simple string")
    assert response.status_code == 200, response.text
    assert response.json()["status_code"] == 1000
    [got] = cpo.module_requests()
    assert (got.method, got.path, got.query) == (
        "PUT",
        cpo.endpoint_path("lite-locations", "RECEIVER") + "/sub/path",
        "x=1",
    )
    assert got.body == b"simple string"
    assert_forwarded_headers(got, emsp, cpo)
    assert_reply_headers(response, emsp, cpo)


# ---------------------------------------------------------------- the adapter's own refusals


def body_of(size: int) -> str:
    """A JSON body of exactly `size` bytes."""
    text = '{"id":"' + "x" * (size - 9) + '"}'
    assert len(text.encode()) == size
    return text


@pytest.mark.parametrize(
    ("size", "forwarded"), [(999, True), (1000, True), (1001, False), (5000, False)]
)
async def test_body_limit(network: Network, size: int, forwarded: bool) -> None:
    """Bodies up to max_body_bytes are forwarded; larger ones are refused: 200/2001 on a
    standard route (413/2901 on SCN routes)."""
    await network.stop_node()
    await network.start_node(max_body_bytes=1000)
    cpo, emsp = await connect_pair(network)
    body = body_of(size)
    response = await network.send(emsp, "POST", "/scpi/receiver/2.2/cdrs", to=cpo, body=body)
    if forwarded:
        assert response.status_code == 200, response.text
        assert response.json()["status_code"] == 1000
        assert cpo.module_requests()[0].body == body.encode()
    else:
        assert_error(response, 200, 2001)
        assert cpo.module_requests() == []


@pytest.mark.parametrize(
    "path", ["/scpi/sender/2.2/nonsense", "/scpi/receiver/2.2/nonsense/DE/CPO/1"]
)
async def test_unknown_module_is_404(network: Network, path: str) -> None:
    cpo, emsp = await connect_pair(network)
    response = await network.send(emsp, "GET", path, to=cpo)
    assert_error(response, 404, 2000)
    assert cpo.module_requests() == []


# ---------------------------------------------------------------- GET hubclientinfo (its headers)

HUB_CLIENT_INFO = "/scpi/2.2/hubclientinfo"


def next_url(response: httpx.Response) -> str | None:
    match = re.fullmatch(r'<([^>]+)>; *rel="?next"?', response.headers.get("Link", ""))
    return match.group(1) if match else None


async def test_hub_client_info_pages_follow_the_link(network: Network) -> None:
    """limit=1 gives one item a page, X-Total-Count, X-Limit and a Link that itself works."""
    _, emsp = await connect_pair(network)
    await network.connect("NL", "OTH", Role.CPO)
    auth = {"Authorization": emsp.authorization()}
    url: str | None = f"{HUB_CLIENT_INFO}?limit=1"
    seen: list[tuple[str, str]] = []
    total = None
    while url is not None:
        response = await network.client.get(url, headers=auth)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert len(data) == 1
        seen += [(i["country_code"], i["party_id"]) for i in data]
        total = total or int(response.headers["X-Total-Count"])
        assert response.headers["X-Total-Count"] == str(total)
        assert response.headers["X-Limit"] == "100"
        url = next_url(response)
        if url is not None:
            assert url.startswith(network.url + HUB_CLIENT_INFO + "?")
        assert len(seen) <= 10, "the Link never ends"
    assert len(seen) == total >= 2
    assert len(set(seen)) == len(seen)
    assert {("DE", "CPO"), ("NL", "OTH")} <= set(seen)


async def test_hub_client_info_needs_a_token(network: Network) -> None:
    await connect_pair(network)
    assert_error(await network.client.get(HUB_CLIENT_INFO), 401, 2000)
