"""Signature policy in the pipeline: what is checked, what is refused, when a signature is
required, and how the node signs its own refusals. Parties sign with the public Notary API
(`scn_node.scpi.notary`), as a backoffice would, and every receiver checks what it got with that
same API over exactly the values it received.

The helpers here serve test_signature_policy.py, test_signature_answers.py and
test_signature_chains.py too.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl

from eth_account import Account

from scn_node.scpi.notary import Notary, request_values, response_values, sign
from scn_node.scpi.party import PartyId, Role
from tests.fakes.backoffice import FakeBackoffice, Received, ok
from tests.fakes.hub import Answer, HubUnderTest, key
from tests.fakes.transport import response

LOCATIONS = "/scpi/sender/2.2/locations"
COMMANDS = "/scpi/receiver/2.2/commands/START_SESSION"
TOKENS = "/scpi/receiver/2.2/tokens/DE/MSP/T1?type=RFID"
TOKEN = b'{"uid": "T1", "type": "RFID", "valid": true, "x": [1, 2.5, "\\u00e9"], "none": null}'
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")  # the node's, or a party's


# ---------------------------------------------------------------- helpers


def account(party: FakeBackoffice) -> Any:
    """The party's registry account: its signing key."""
    assert party.account is not None
    return party.account


def signed(
    sender: FakeBackoffice,
    to: FakeBackoffice,
    path: str,
    body: bytes | None = None,
    *,
    by: Any = None,
) -> dict[str, str]:
    """The SCN-Signature header `sender` (or the key `by`) puts on a request as `send` makes it."""
    query = path.partition("?")[2]
    values = request_values(
        correlation_id="corr-1",
        sender=sender.party,
        receiver=to.party,
        params=dict(parse_qsl(query, keep_blank_values=True)) if query else None,
        body=json.loads(body) if body else None,
    )
    return {"SCN-Signature": sign(values, by or account(sender).key).encode()}


def lower_keys(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


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
    """The request's signature as the receiver got it, under both header names."""
    headers = lower_keys(got.headers)
    assert headers["ocn-signature"] == headers["scn-signature"]
    return Notary.decode(headers["scn-signature"])


def verify_reply(got: Answer) -> Notary:
    """The reply's scn_signature, verified over the headers and body the sender got."""
    envelope = got.json()
    notary = Notary.decode(envelope["scn_signature"])
    notary.verify_exactly(
        response_values(
            envelope=envelope,
            limit=got.headers.get("X-Limit"),
            total_count=got.headers.get("X-Total-Count"),
            link=got.headers.get("Link"),
            location=got.headers.get("Location"),
        )
    )
    return notary


def signed_envelope(
    party: FakeBackoffice, data: Any = None, *, tamper: bool = False, **headers: str
) -> dict[str, Any]:
    """An answer signed by `party` over `headers` (limit, total_count, link, location)."""
    envelope = ok(data)
    notary = sign(response_values(envelope=envelope, **headers), account(party).key)
    if tamper:  # a signed value changed after signing
        envelope["timestamp"] = "2026-11-23T10:00:01Z"
    envelope["scn_signature"] = notary.encode()
    return envelope


def signed_answer(party: FakeBackoffice, data: Any = None, **headers: str) -> bytes:
    """`signed_envelope` as bytes."""
    envelope = ok(data)
    values = response_values(envelope=envelope, **{k.lower(): v for k, v in headers.items()})
    envelope["scn_signature"] = sign(values, account(party).key).encode()
    return json.dumps(envelope).encode()


def answers(party: FakeBackoffice, method: str, path: str, body: Any, **headers: str) -> None:
    """`party` answers `method` requests under `path` with the JSON `body` and `headers`."""
    content = json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json", **headers}
    party.on(method, path, lambda _: response(200, content, all_headers))


def expect(got: Answer, status_code: int, message: str = "") -> dict[str, Any]:
    """Assert an SCPI envelope with HTTP 200, `status_code` and `message`; return it."""
    assert got.status == 200, got.body
    body: dict[str, Any] = got.json()
    assert body["status_code"] == status_code, body
    assert TIMESTAMP.fullmatch(body["timestamp"]), body
    assert message in body.get("status_message", ""), body
    return body


def same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


async def connect_pair(node: HubUnderTest) -> tuple[FakeBackoffice, FakeBackoffice]:
    """The CPO DE CPO and the eMSP DE MSP, both registered with `node`."""
    cpo = await node.connect("DE", "CPO", Role.CPO)
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    return cpo, emsp


async def pair(node: HubUnderTest) -> tuple[FakeBackoffice, FakeBackoffice]:
    """The eMSP DE MSP and the CPO NL CPO, both registered with `node`."""
    return await node.connect("DE", "MSP", Role.EMSP), await node.connect("NL", "CPO", Role.CPO)


# ---------------------------------------------------------------- 1. signed requests


async def test_a_signed_request_arrives_with_its_signature(node: HubUnderTest) -> None:
    emsp, cpo = await pair(node)
    got = await node.send(
        emsp,
        "GET",
        LOCATIONS + "?limit=5",
        to=cpo,
        headers=signed(emsp, cpo, LOCATIONS + "?limit=5"),
    )
    assert got.status_code == 1000
    received = cpo.module_requests()[-1]
    assert received.headers["SCN-Signature"] == received.headers["OCN-Signature"]
    Notary.decode(received.headers["SCN-Signature"]).verify_exactly(values_received(received))


async def test_a_signed_request_is_delivered_with_its_signature(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    headers = signed(emsp, cpo, TOKENS, TOKEN)

    got = await node.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN, headers=headers)

    expect(got, 1000)
    (received,) = cpo.module_requests()
    assert received.body == TOKEN and received.query == "type=RFID"
    assert lower_keys(received.headers)["scn-signature"] == headers["SCN-Signature"]
    notary = signature_received(received)
    notary.verify_exactly(values_received(received))
    assert notary.signatories() == [account(emsp).address]


async def test_a_node_signature_alone_does_not_speak_for_a_party(node: HubUnderTest) -> None:
    # OCN took its node operator's signature as the party's: then anything the node ever signed
    # could be passed off as the party's message. A node may only re-sign what the party signed.
    cpo, emsp = await connect_pair(node)
    headers = signed(emsp, cpo, TOKENS, TOKEN, by=key(1))  # the node's own key
    assert same(Account.from_key(key(1)).address, node.address)

    got = await node.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN, headers=headers)

    expect(got, 2001, "a node may only re-sign what the party signed")
    assert cpo.module_requests() == []


# ---------------------------------------------------------------- 2. invalid signatures


async def test_a_signature_by_another_account_is_refused(node: HubUnderTest) -> None:
    emsp, cpo = await pair(node)
    got = await node.send(
        emsp, "GET", LOCATIONS, to=cpo, headers=signed(emsp, cpo, LOCATIONS, by=key(7777))
    )
    assert (got.status, got.status_code) == (200, 2001)
    assert cpo.module_requests() == []


async def test_a_signature_by_another_account_is_refused_naming_the_signer(
    node: HubUnderTest,
) -> None:
    cpo, emsp = await connect_pair(node)
    # A well-formed signature of the right values, by another party's key.
    headers = signed(emsp, cpo, TOKENS, TOKEN, by=account(cpo).key)

    got = await node.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN, headers=headers)

    expect(got, 2001, f"The signature is by {account(cpo).address}, not by DE MSP")
    assert cpo.module_requests() == []


async def test_a_body_changed_after_signing_is_refused(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    headers = signed(emsp, cpo, TOKENS, TOKEN)
    altered = TOKEN.replace(b'"valid": true', b'"valid": false')

    got = await node.send(emsp, "PUT", TOKENS, to=cpo, body=altered, headers=headers)

    expect(got, 2001, "Request has been modified")
    assert cpo.module_requests() == []


async def test_garbage_is_no_signature(node: HubUnderTest) -> None:
    emsp, cpo = await pair(node)
    got = await node.send(emsp, "GET", LOCATIONS, to=cpo, headers={"SCN-Signature": "not-base64!"})
    assert got.status_code == 2001
    assert "Invalid SCN-Signature" in got.json()["status_message"]


async def test_a_garbage_signature_is_refused(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    for garbage in ("not a signature", "AAAA", "eyJmaWVsZHMiOiBbXX0="):
        got = await node.send(
            emsp, "PUT", TOKENS, to=cpo, body=TOKEN, headers={"SCN-Signature": garbage}
        )
        expect(got, 2001, "Invalid SCN-Signature")
    assert cpo.module_requests() == []


async def test_a_request_value_left_out_of_the_signature_is_refused(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    values = request_values(
        correlation_id="corr-1", sender=emsp.party, receiver=cpo.party, params=None, body=None
    )
    path = "/scpi/receiver/2.2/tokens/DE/MSP/T1?type=RFID"
    signature = sign(values, account(emsp).key).encode()  # the query is not signed

    got = await node.send(emsp, "GET", path, to=cpo, headers={"SCN-Signature": signature})

    expect(got, 2001, "Not signed: $['params']['type']")
    assert not cpo.module_requests()


async def test_a_signature_with_more_rewrites_than_any_route_is_refused_unchecked(
    node: HubUnderTest,
) -> None:
    # A few hundred bytes of brotli can hold thousands of rewrites, each costing a recovery.
    cpo, emsp = await connect_pair(node)
    notary = Notary.decode(signed(emsp, cpo, TOKENS, TOKEN)["SCN-Signature"])
    for _ in range(17):
        notary = notary.stash({})
    headers = {"SCN-Signature": notary.encode()}

    got = await node.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN, headers=headers)

    expect(got, 2001, "More than 16 rewrites")
    assert cpo.module_requests() == []


async def test_signed_fields_in_another_order_are_refused(node: HubUnderTest) -> None:
    # The values are joined without separators: fields read in another order could make the
    # same hash stand for another message.
    cpo, emsp = await connect_pair(node)
    notary = Notary.decode(signed(emsp, cpo, TOKENS, TOKEN)["SCN-Signature"])
    shuffled = replace(notary, fields=(notary.fields[1], notary.fields[0], *notary.fields[2:]))
    headers = {"SCN-Signature": shuffled.encode()}

    got = await node.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN, headers=headers)

    expect(got, 2001, "not the message's values, in their order")
    assert cpo.module_requests() == []


async def test_the_nodes_own_error_answers_are_signed_by_the_node(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    headers = signed(emsp, cpo, TOKENS, TOKEN)
    altered = TOKEN.replace(b'"valid": true', b'"valid": false')

    refused = await node.send(emsp, "PUT", TOKENS, to=cpo, body=altered, headers=headers)
    # Signed only when signatures are in play: here the request carried one.
    unknown = await node.send(emsp, "GET", LOCATIONS, to=PartyId("NL", "ZZZ"), headers=headers)

    expect(refused, 2001)
    expect(unknown, 4001)
    for got in (refused, unknown):
        assert [s.lower() for s in verify_reply(got).signatories()] == [node.address.lower()]


async def test_a_signed_request_gets_signed_refusals(node: HubUnderTest) -> None:
    emsp, cpo = await pair(node)
    path = "/scpi/sender/2.2/tariffs"
    cpo_modules = await node.connect("BE", "CPO", Role.CPO, modules=("locations",))
    got = await node.send(
        emsp, "GET", path, to=cpo_modules, headers=signed(emsp, cpo_modules, path)
    )
    assert got.status_code == 4001
    assert verify_reply(got).signatory.lower() == node.address.lower()
    assert cpo.module_requests() == []
