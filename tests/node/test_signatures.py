"""Party message signing through the HTTP adapter: the SCN-Signature header read off the wire and
delivered under both names, and a signed answer's headers (Link, X-Limit, X-Total-Count) and
scn_signature as the sender gets them, with the node URL followed over HTTP.

The signature policy itself (what is checked, refused, required, re-signed, across two nodes)
is tested over the hub core in tests/hub/test_signature*.py.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import httpx
from aiohttp import web

from scn_node.scpi.notary import Notary, request_values, response_values, sign
from scn_node.scpi.party import PartyId, Role
from tests.node.conftest import Network
from tests.node.parties import FakeParty, Received, ok

TOKENS = "/scpi/receiver/2.2/tokens/DE/MSP/T1?type=RFID"
TOKEN = b'{"uid": "T1", "type": "RFID", "valid": true, "x": [1, 2.5, "\\u00e9"], "none": null}'
LOCATIONS = "/scpi/sender/2.2/locations"
LINK_PATH = "$['headers']['link']"


# ---------------------------------------------------------------- helpers


async def connect_pair(network: Network) -> tuple[FakeParty, FakeParty]:
    cpo = await network.connect("DE", "CPO", Role.CPO)
    emsp = await network.connect("DE", "MSP", Role.EMSP)
    return cpo, emsp


def lower_keys(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def signed(
    sender: FakeParty,
    receiver: FakeParty,
    path: str,
    body: bytes | None = None,
) -> dict[str, str]:
    """The SCN-Signature header `sender` puts on a request as Network.send makes it."""
    query = path.partition("?")[2]
    values = request_values(
        correlation_id="corr-1",
        sender=sender.party,
        receiver=receiver.party,
        params=dict(parse_qsl(query, keep_blank_values=True)) if query else None,
        body=json.loads(body) if body else None,
    )
    return {"SCN-Signature": sign(values, sender.account.key).encode()}


def values_received(got: Received) -> dict[str, object]:
    """What a receiver's signature covers, read from the request exactly as it arrived."""
    headers = lower_keys(got.headers)
    return request_values(
        correlation_id=headers["x-correlation-id"],
        sender=PartyId(headers["scpi-from-country-code"], headers["scpi-from-party-id"]),
        receiver=PartyId(headers["scpi-to-country-code"], headers["scpi-to-party-id"]),
        params=dict(parse_qsl(got.query, keep_blank_values=True)) if got.query else None,
        body=json.loads(got.body) if got.body else None,
    )


def signature_received(got: Received) -> Notary:
    headers = lower_keys(got.headers)
    assert headers["ocn-signature"] == headers["scn-signature"]
    return Notary.decode(headers["scn-signature"])


def signed_envelope(party: FakeParty, data: Any = None, **headers: str) -> dict[str, Any]:
    """An answer signed by `party` over `headers` (limit, total_count, link, location)."""
    envelope = ok(data)
    notary = sign(response_values(envelope=envelope, **headers), party.account.key)
    envelope["scn_signature"] = notary.encode()
    return envelope


def verify_reply(response: httpx.Response) -> Notary:
    """The reply's scn_signature, verified over the headers and body the sender got."""
    envelope = response.json()
    notary = Notary.decode(envelope["scn_signature"])
    notary.verify(
        response_values(
            envelope=envelope,
            limit=response.headers.get("X-Limit"),
            total_count=response.headers.get("X-Total-Count"),
            link=response.headers.get("Link"),
            location=response.headers.get("Location"),
        )
    )
    return notary


def expect(response: httpx.Response, status_code: int, message: str = "") -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["status_code"] == status_code, body
    assert message in body.get("status_message", ""), body
    return body


def same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


# ---------------------------------------------------------------- requests


async def test_a_signed_request_is_delivered_with_its_signature(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    headers = signed(emsp, cpo, TOKENS, TOKEN)

    response = await network.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN, headers=headers)

    expect(response, 1000)
    (got,) = cpo.module_requests()
    assert got.body == TOKEN and got.query == "type=RFID"
    assert lower_keys(got.headers)["scn-signature"] == headers["SCN-Signature"]
    notary = signature_received(got)
    notary.verify(values_received(got))
    assert notary.signatories() == [emsp.account.address]


# ---------------------------------------------------------------- answers


async def test_a_signed_page_link_is_re_signed_by_the_node(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    endpoint = cpo.endpoint("locations", "SENDER")
    link = f'<{endpoint}?offset=2&limit=2>; rel="next"'

    async def page(request: web.Request, received: Received) -> web.StreamResponse:
        if received.query:  # the last page: no Link, nothing for the node to rewrite
            body = signed_envelope(cpo, [{"id": "LOC2"}], limit="2", total_count="3")
            return web.json_response(body, headers={"X-Limit": "2", "X-Total-Count": "3"})
        first = {"X-Limit": "2", "X-Total-Count": "3", "Link": link}
        data = [{"id": "LOC0"}, {"id": "LOC1"}]
        body = signed_envelope(cpo, data, limit="2", total_count="3", link=link)
        return web.json_response(body, headers=first)

    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), page)

    response = await network.send(emsp, "GET", LOCATIONS, to=cpo)

    expect(response, 1000)
    node_link = response.headers["Link"]
    assert node_link.startswith(f"<{network.url}/scpi/2.2/proxy/")
    assert (response.headers["X-Limit"], response.headers["X-Total-Count"]) == ("2", "3")
    notary = verify_reply(response)
    assert same(notary.signatory, network.node_account.address)
    (rewrite,) = notary.rewrites
    assert rewrite.rewritten_fields == {LINK_PATH: link}
    assert rewrite.signatory == cpo.account.address

    last = await network.send(emsp, "GET", node_link[1 : node_link.index(">")], to=cpo)
    expect(last, 1000)
    assert "Link" not in last.headers
    assert verify_reply(last).signatories() == [cpo.account.address]
