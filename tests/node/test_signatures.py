"""Party message signing on a running node: what it checks, what it refuses, and the re-signed
rewrite chains a receiver verifies back to the party, on one node and across two.

Parties sign with the public Notary API (`scn_node.scpi.notary`), as a backoffice would, and
every receiver checks what it got with that same API over exactly the values it received.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx
from aiohttp import web

from scn_node.scpi.notary import Notary, request_values, response_values, sign
from scn_node.scpi.party import PartyId, Role
from tests.node.conftest import Network
from tests.node.parties import FakeParty, Received, ok

TOKENS = "/scpi/receiver/2.2/tokens/DE/MSP/T1?type=RFID"
TOKEN = b'{"uid": "T1", "type": "RFID", "valid": true, "x": [1, 2.5, "\\u00e9"], "none": null}'
COMMANDS = "/scpi/receiver/2.2/commands/START_SESSION"
LOCATIONS = "/scpi/sender/2.2/locations"
CDRS = "/scpi/receiver/2.2/cdrs"
PROFILES = "/scpi/receiver/2.2/chargingprofiles"
RESPONSE_URL_PATH = "$['body']['response_url']"
RESPONSE_URL_PARAM = "$['params']['response_url']"
LINK_PATH = "$['headers']['link']"
LOCATION_PATH = "$['headers']['location']"


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
    *,
    key: Any = None,
) -> dict[str, str]:
    """The SCN-Signature header `sender` (or `key`) puts on a request as Network.send makes it."""
    query = path.partition("?")[2]
    values = request_values(
        correlation_id="corr-1",
        sender=sender.party,
        receiver=receiver.party,
        params=dict(parse_qsl(query, keep_blank_values=True)) if query else None,
        body=json.loads(body) if body else None,
    )
    return {"SCN-Signature": sign(values, key or sender.account.key).encode()}


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


def signed_envelope(
    party: FakeParty, data: Any = None, *, tamper: bool = False, **headers: str
) -> dict[str, Any]:
    """An answer signed by `party` over `headers` (limit, total_count, link, location)."""
    envelope = ok(data)
    notary = sign(response_values(envelope=envelope, **headers), party.account.key)
    if tamper:  # a signed value changed after signing
        envelope["timestamp"] = "2026-11-23T10:00:01Z"
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


def answer(party: FakeParty, method: str, path: str, body: Any, **headers: str) -> None:
    async def respond(request: web.Request, received: Received) -> web.StreamResponse:
        return web.json_response(body, headers=headers)

    party.on(method, path, respond)


def expect(response: httpx.Response, status_code: int, message: str = "") -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["status_code"] == status_code, body
    assert message in body.get("status_message", ""), body
    return body


def same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def start_session(response_url: str) -> bytes:
    return json.dumps(
        {"response_url": response_url, "token": {"uid": "T1", "type": "RFID"}, "location_id": "L1"}
    ).encode()


# ---------------------------------------------------------------- 1. signed requests


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


async def test_a_node_signature_alone_does_not_speak_for_a_party(network: Network) -> None:
    # OCN took its node operator's signature as the party's: then anything the node ever signed
    # could be passed off as the party's message. A node may only re-sign what the party signed.
    cpo, emsp = await connect_pair(network)
    headers = signed(emsp, cpo, TOKENS, TOKEN, key=network.node_account.key)

    response = await network.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN, headers=headers)

    expect(response, 2904, "a node may only re-sign what the party signed")
    assert cpo.module_requests() == []


# ---------------------------------------------------------------- 2. invalid signatures


async def test_a_body_changed_after_signing_is_refused(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    headers = signed(emsp, cpo, TOKENS, TOKEN)
    altered = TOKEN.replace(b'"valid": true', b'"valid": false')

    response = await network.send(emsp, "PUT", TOKENS, to=cpo, body=altered, headers=headers)

    expect(response, 2904, "Request has been modified")
    assert cpo.module_requests() == []


async def test_the_nodes_own_error_answers_are_signed_by_the_node(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    headers = signed(emsp, cpo, TOKENS, TOKEN)
    altered = TOKEN.replace(b'"valid": true', b'"valid": false')

    refused = await network.send(emsp, "PUT", TOKENS, to=cpo, body=altered, headers=headers)
    # Signed only when signatures are in play: here the request carried one.
    unknown = await network.send(emsp, "GET", LOCATIONS, to=PartyId("NL", "ZZZ"), headers=headers)

    expect(refused, 2904)
    expect(unknown, 4001)
    for answer in (refused, unknown):
        assert verify_reply(answer).signatories() == [network.node_account.address]


async def test_a_signature_by_another_account_is_refused_naming_the_signer(
    network: Network,
) -> None:
    cpo, emsp = await connect_pair(network)
    # A well-formed signature of the right values, by another party's key.
    headers = signed(emsp, cpo, TOKENS, TOKEN, key=cpo.account.key)

    response = await network.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN, headers=headers)

    expect(response, 2904, f"The signature is by {cpo.account.address}, not by DE MSP")
    assert cpo.module_requests() == []


async def test_a_garbage_signature_is_refused(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    for garbage in ("not a signature", "AAAA", "eyJmaWVsZHMiOiBbXX0="):
        response = await network.send(
            emsp, "PUT", TOKENS, to=cpo, body=TOKEN, headers={"SCN-Signature": garbage}
        )
        expect(response, 2904, "Invalid SCN-Signature")
    assert cpo.module_requests() == []


# ---------------------------------------------------------------- 3. missing signatures


async def test_the_node_requires_signed_requests_and_answers(network: Network) -> None:
    await network.stop_node()
    await network.start_node(signatures=True)
    cpo, emsp = await connect_pair(network)

    unsigned = await network.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN)
    expect(unsigned, 2903, "This node requires signed requests")
    assert cpo.module_requests() == []

    # Signed, but the CPO answers 1000 without a signature.
    headers = signed(emsp, cpo, TOKENS, TOKEN)
    response = await network.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN, headers=headers)
    expect(response, 3000, "Receiver DE CPO answered without the scn_signature")
    assert len(cpo.module_requests()) == 1

    answer(cpo, "PUT", cpo.endpoint_path("tokens", "RECEIVER"), signed_envelope(cpo))
    response = await network.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN, headers=headers)
    expect(response, 1000)
    assert verify_reply(response).signatories() == [cpo.account.address]
    assert len(cpo.module_requests()) == 2


async def test_a_receivers_rule_requires_signed_requests_to_it_only(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    other = await network.connect("DE", "OTH", Role.CPO)
    rule = await network.client.put(
        "/scpi/2.2/scnrules/signatures",
        headers={"Authorization": cpo.authorization()},
        json={"signatures": True},
    )
    assert expect(rule, 1000)["data"]["signatures"] is True

    refused = await network.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN)
    expect(refused, 2903, "Receiver DE CPO requires signed requests")
    assert cpo.module_requests() == []

    passed = await network.send(emsp, "PUT", TOKENS, to=other, body=TOKEN)
    expect(passed, 1000)
    assert len(other.module_requests()) == 1

    headers = signed(emsp, cpo, TOKENS, TOKEN)
    accepted = await network.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN, headers=headers)
    expect(accepted, 1000)
    (got,) = cpo.module_requests()
    signature_received(got).verify(values_received(got))


# ---------------------------------------------------------------- 4. responses


async def test_a_signed_answer_reaches_the_sender_and_verifies(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    answer(cpo, "GET", cpo.endpoint_path("tokens", "RECEIVER"), signed_envelope(cpo, {"uid": "T1"}))

    response = await network.send(emsp, "GET", "/scpi/receiver/2.2/tokens/DE/MSP/T1", to=cpo)

    expect(response, 1000)
    assert response.json()["data"] == {"uid": "T1"}
    assert verify_reply(response).signatories() == [cpo.account.address]


async def test_a_tampered_answer_signature_is_refused(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    answer(
        cpo,
        "GET",
        cpo.endpoint_path("tokens", "RECEIVER"),
        signed_envelope(cpo, {"uid": "T1"}, tamper=True),
    )

    response = await network.send(emsp, "GET", "/scpi/receiver/2.2/tokens/DE/MSP/T1", to=cpo)

    body = expect(response, 3000, "Unable to verify the scn_signature of receiver DE CPO")
    assert "data" not in body


async def test_a_value_added_to_a_signed_answer_is_refused(network: Network) -> None:
    # OCN's check hashes only the paths the signer listed: an added value slipped through.
    cpo, emsp = await connect_pair(network)
    envelope = signed_envelope(cpo, {"uid": "T1"})
    envelope["status_message"] = "added after signing"
    answer(cpo, "GET", cpo.endpoint_path("tokens", "RECEIVER"), envelope)

    response = await network.send(emsp, "GET", "/scpi/receiver/2.2/tokens/DE/MSP/T1", to=cpo)

    body = expect(response, 3000, "Not signed: $['body']['status_message']")
    assert "data" not in body


async def test_a_request_value_left_out_of_the_signature_is_refused(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    values = request_values(
        correlation_id="corr-1", sender=emsp.party, receiver=cpo.party, params=None, body=None
    )
    path = "/scpi/receiver/2.2/tokens/DE/MSP/T1?type=RFID"
    signature = sign(values, emsp.account.key).encode()  # the query is not signed

    response = await network.send(emsp, "GET", path, to=cpo, headers={"SCN-Signature": signature})

    expect(response, 2904, "Not signed: $['params']['type']")
    assert not cpo.module_requests()


async def test_an_answer_by_another_signer_is_refused(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    answer(cpo, "GET", cpo.endpoint_path("tokens", "RECEIVER"), signed_envelope(emsp))

    response = await network.send(emsp, "GET", "/scpi/receiver/2.2/tokens/DE/MSP/T1", to=cpo)

    expect(response, 3000, f"The signature is by {emsp.account.address}, not by DE CPO")


async def test_a_senders_rule_requires_signed_answers(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    rule = await network.client.put(
        "/scpi/2.2/scnrules/signatures",
        headers={"Authorization": emsp.authorization()},
        json={"signatures": True},
    )
    expect(rule, 1000)

    # The eMSP's own (unsigned) request passes; the CPO's unsigned 1000 answer does not.
    response = await network.send(emsp, "GET", "/scpi/receiver/2.2/tokens/DE/MSP/T1", to=cpo)
    expect(response, 3000, "Receiver DE CPO answered without the scn_signature")
    assert len(cpo.module_requests()) == 1

    # An unsigned error answer passes: errors may come from a node, not the party.
    answer(cpo, "GET", cpo.endpoint_path("tokens", "RECEIVER"), ok(status_code=2004))
    unknown = await network.send(emsp, "GET", "/scpi/receiver/2.2/tokens/DE/MSP/T1", to=cpo)
    expect(unknown, 2004)

    # Anything that does not report an error must be signed: a 1xxx, a text "1000", no code.
    for dodge in ({"status_code": 1001, "data": {}}, {"status_code": "1000"}, {"data": {}}):
        answer(cpo, "GET", cpo.endpoint_path("tokens", "RECEIVER"), dodge)
        dodged = await network.send(emsp, "GET", "/scpi/receiver/2.2/tokens/DE/MSP/T1", to=cpo)
        expect(dodged, 3000, "answered without the scn_signature")


async def test_an_escaped_signature_key_is_still_checked(network: Network) -> None:
    # "scn\u005fsignature" is the same JSON key: the node must not relay it unchecked.
    cpo, emsp = await connect_pair(network)
    forged = json.dumps(signed_envelope(emsp, {"uid": "T1"})).replace(
        '"scn_signature"', '"scn\\u005fsignature"'
    )

    async def respond(request: web.Request, received: Received) -> web.StreamResponse:
        return web.Response(body=forged.encode(), content_type="application/json")

    cpo.on("GET", cpo.endpoint_path("tokens", "RECEIVER"), respond)
    response = await network.send(emsp, "GET", "/scpi/receiver/2.2/tokens/DE/MSP/T1", to=cpo)
    expect(response, 3000, f"The signature is by {emsp.account.address}, not by DE CPO")


async def test_a_signature_with_more_rewrites_than_any_route_is_refused_unchecked(
    network: Network,
) -> None:
    # A few hundred bytes of brotli can hold thousands of rewrites, each costing a recovery.
    cpo, emsp = await connect_pair(network)
    notary = Notary.decode(signed(emsp, cpo, TOKENS, TOKEN)["SCN-Signature"])
    for _ in range(17):
        notary = notary.stash({})
    headers = {"SCN-Signature": notary.encode()}

    response = await network.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN, headers=headers)

    expect(response, 2904, "More than 16 rewrites")
    assert cpo.module_requests() == []


async def test_signed_fields_in_another_order_are_refused(network: Network) -> None:
    # The values are joined without separators: fields read in another order could make the
    # same hash stand for another message.
    cpo, emsp = await connect_pair(network)
    notary = Notary.decode(signed(emsp, cpo, TOKENS, TOKEN)["SCN-Signature"])
    shuffled = replace(notary, fields=(notary.fields[1], notary.fields[0], *notary.fields[2:]))
    headers = {"SCN-Signature": shuffled.encode()}

    response = await network.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN, headers=headers)

    expect(response, 2904, "not the message's values, in their order")
    assert cpo.module_requests() == []


# ---------------------------------------------------------------- 5. rewrite chains


async def test_a_signed_command_response_url_is_re_signed_by_the_node(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    original = f"{emsp.base_url}/scpi/emsp/2.2/commands/START_SESSION/42"
    body = start_session(original)
    headers = signed(emsp, cpo, COMMANDS, body)

    response = await network.send(emsp, "POST", COMMANDS, to=cpo, body=body, headers=headers)

    expect(response, 1000)
    (got,) = cpo.module_requests()
    proxy_url = got.json()["response_url"]
    assert proxy_url.startswith(f"{network.url}/scpi/2.2/proxy/")
    notary = signature_received(got)
    assert same(notary.signatory, network.node_account.address)
    (rewrite,) = notary.rewrites
    assert rewrite.rewritten_fields == {RESPONSE_URL_PATH: original}
    assert rewrite.signatory == emsp.account.address
    notary.verify(values_received(got))


async def test_a_signed_charging_profile_response_url_param_is_re_signed(
    network: Network,
) -> None:
    cpo, emsp = await connect_pair(network)
    original = f"{emsp.base_url}/scpi/emsp/2.2/chargingprofiles/result/1?ref=a%2Fb"
    path = f"{PROFILES}/SESSION1?duration=900&response_url={quote(original, safe='')}"
    headers = signed(emsp, cpo, path)

    response = await network.send(emsp, "GET", path, to=cpo, headers=headers)

    expect(response, 1000)
    (got,) = cpo.module_requests()
    params = dict(parse_qsl(got.query))
    assert params["duration"] == "900"
    assert params["response_url"].startswith(f"{network.url}/scpi/2.2/proxy/")
    notary = signature_received(got)
    assert same(notary.signatory, network.node_account.address)
    (rewrite,) = notary.rewrites
    assert rewrite.rewritten_fields == {RESPONSE_URL_PARAM: original}
    assert rewrite.signatory == emsp.account.address
    notary.verify(values_received(got))


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


async def test_a_signed_cdr_location_is_re_signed_by_the_node(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    location = f"{emsp.base_url}/scpi/emsp/2.2/cdrs/CDR1"
    answer(
        emsp,
        "POST",
        emsp.endpoint_path("cdrs", "RECEIVER"),
        signed_envelope(emsp, location=location),
        Location=location,
    )
    cdr = b'{"id": "CDR1"}'
    headers = signed(cpo, emsp, CDRS, cdr)

    response = await network.send(cpo, "POST", CDRS, to=emsp, body=cdr, headers=headers)

    expect(response, 1000)
    assert response.headers["Location"].startswith(f"{network.url}/scpi/2.2/proxy/")
    notary = verify_reply(response)
    assert same(notary.signatory, network.node_account.address)
    (rewrite,) = notary.rewrites
    assert rewrite.rewritten_fields == {LOCATION_PATH: location}
    assert rewrite.signatory == emsp.account.address


async def test_a_result_posted_to_a_response_url_proxy_is_checked_and_delivered_signed(
    network: Network,
) -> None:
    """The eMSP's rule requires signatures: the CPO's result to the node URL must be signed."""
    cpo, emsp = await connect_pair(network)
    rule = await network.client.put(
        "/scpi/2.2/scnrules/signatures",
        headers={"Authorization": emsp.authorization()},
        json={"signatures": True},
    )
    expect(rule, 1000)
    result_path = "/scpi/emsp/2.2/commands/START_SESSION/42"
    body = start_session(emsp.base_url + result_path)
    command = await network.send(
        emsp, "POST", COMMANDS, to=cpo, body=body, headers=signed(emsp, cpo, COMMANDS, body)
    )
    expect(command, 3000, "Receiver DE CPO answered without the scn_signature")
    proxy_url = cpo.module_requests()[-1].json()["response_url"]
    answer(emsp, "POST", result_path, signed_envelope(emsp))
    result = b'{"result": "ACCEPTED"}'

    unsigned = await network.send(cpo, "POST", proxy_url, to=emsp, body=result)
    expect(unsigned, 2903, "Receiver DE MSP requires signed requests")
    assert emsp.module_requests() == []

    headers = signed(cpo, emsp, proxy_url, result)
    delivered = await network.send(cpo, "POST", proxy_url, to=emsp, body=result, headers=headers)
    expect(delivered, 1000)
    assert verify_reply(delivered).signatories() == [emsp.account.address]
    (got,) = emsp.module_requests()
    assert (got.path, got.body) == (result_path, result)
    notary = signature_received(got)
    notary.verify(values_received(got))
    assert notary.signatories() == [cpo.account.address]


# ---------------------------------------------------------------- 6. across two nodes


async def test_a_signed_command_chain_verifies_end_to_end_across_nodes(
    peers: tuple[Network, Network],
) -> None:
    one, two = peers
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    original = f"{emsp.base_url}/scpi/emsp/2.2/commands/START_SESSION/42"
    body = start_session(original)
    headers = signed(emsp, cpo, COMMANDS, body)

    response = await one.send(emsp, "POST", COMMANDS, to=cpo, body=body, headers=headers)

    expect(response, 1000)
    (got,) = cpo.module_requests()
    notary = signature_received(got)
    notary.verify(values_received(got))
    signatories = [address.lower() for address in notary.signatories()]
    assert signatories == [
        two.node_account.address.lower(),
        one.node_account.address.lower(),
        emsp.account.address.lower(),
    ]
    # Each rewrite holds the response_url its signer saw: node one's URL, then the eMSP's own.
    seen_by_two = got.json()["response_url"]
    assert seen_by_two.startswith(f"{two.url}/scpi/2.2/proxy/")
    by_emsp, by_one = notary.rewrites
    seen_by_one = by_one.rewritten_fields[RESPONSE_URL_PATH]
    assert isinstance(seen_by_one, str) and seen_by_one.startswith(f"{one.url}/scpi/2.2/proxy/")
    assert by_emsp.rewritten_fields == {RESPONSE_URL_PATH: original}


async def test_a_signed_page_link_chain_verifies_end_to_end_across_nodes(
    peers: tuple[Network, Network],
) -> None:
    one, two = peers
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    link = f'<{cpo.endpoint("locations", "SENDER")}?offset=1&limit=1>; rel="next"'
    answer(
        cpo,
        "GET",
        cpo.endpoint_path("locations", "SENDER"),
        signed_envelope(cpo, [{"id": "LOC0"}], link=link),
        Link=link,
    )

    response = await one.send(emsp, "GET", LOCATIONS, to=cpo)

    expect(response, 1000)
    assert response.headers["Link"].startswith(f"<{one.url}/scpi/2.2/proxy/")
    notary = verify_reply(response)
    signatories = [address.lower() for address in notary.signatories()]
    assert signatories == [
        one.node_account.address.lower(),
        two.node_account.address.lower(),
        cpo.account.address.lower(),
    ]
    by_cpo, by_two = notary.rewrites
    assert by_cpo.rewritten_fields == {LINK_PATH: link}
    seen_by_one = by_two.rewritten_fields[LINK_PATH]
    assert isinstance(seen_by_one, str) and seen_by_one.startswith(f"<{two.url}/scpi/2.2/proxy/")


async def test_an_invalid_signature_never_reaches_a_remote_receiver(
    peers: tuple[Network, Network],
) -> None:
    one, two = peers
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    headers = signed(emsp, cpo, TOKENS, TOKEN)
    altered = TOKEN.replace(b"T1", b"T2")

    response = await one.send(emsp, "PUT", TOKENS, to=cpo, body=altered, headers=headers)

    expect(response, 2904, "Request has been modified")
    assert cpo.module_requests() == []
