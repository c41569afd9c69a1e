"""Signature policy in the pipeline: what is checked, when one is required, and how the node signs
and re-signs. Parties sign with the public Notary API, as a backoffice would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from scn_node.hub.rules import PartyRules
from scn_node.scpi.notary import Notary, request_values, response_values, sign
from scn_node.scpi.party import PartyId, Role
from tests.fakes.backoffice import FakeBackoffice, Received, answer, ok
from tests.fakes.hub import Answer, HubUnderTest, key
from tests.fakes.transport import response

LOCATIONS = "/scpi/sender/2.2/locations"
COMMANDS = "/scpi/receiver/2.2/commands/START_SESSION"


def signed(
    sender: FakeBackoffice, to: FakeBackoffice, path: str, body: bytes = b"", *, by: Any = None
) -> dict[str, str]:
    query = path.partition("?")[2]
    values = request_values(
        correlation_id="corr-1",
        sender=sender.party,
        receiver=to.party,
        params=dict(parse_qsl(query, keep_blank_values=True)) if query else None,
        body=json.loads(body) if body else None,
    )
    assert sender.account is not None
    return {"SCN-Signature": sign(values, by or sender.account.key).encode()}


def values_received(got: Received) -> dict[str, object]:
    headers = {k.lower(): v for k, v in got.headers.items()}
    return request_values(
        correlation_id=headers["x-correlation-id"],
        sender=PartyId(headers["scpi-from-country-code"], headers["scpi-from-party-id"]),
        receiver=PartyId(headers["scpi-to-country-code"], headers["scpi-to-party-id"]),
        params=dict(parse_qsl(got.query, keep_blank_values=True)) if got.query else None,
        body=json.loads(got.body) if got.body else None,
    )


def verify_reply(got: Answer) -> Notary:
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


def signed_answer(party: FakeBackoffice, data: Any = None, **headers: str) -> bytes:
    envelope = ok(data)
    assert party.account is not None
    values = response_values(envelope=envelope, **{k.lower(): v for k, v in headers.items()})
    envelope["scn_signature"] = sign(values, party.account.key).encode()
    return json.dumps(envelope).encode()


async def _pair(node: HubUnderTest) -> tuple[FakeBackoffice, FakeBackoffice]:
    return await node.connect("DE", "MSP", Role.EMSP), await node.connect("NL", "CPO", Role.CPO)


async def test_a_signed_request_arrives_with_its_signature(node: HubUnderTest) -> None:
    emsp, cpo = await _pair(node)
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


async def test_a_signature_by_another_account_is_refused(node: HubUnderTest) -> None:
    emsp, cpo = await _pair(node)
    got = await node.send(
        emsp, "GET", LOCATIONS, to=cpo, headers=signed(emsp, cpo, LOCATIONS, by=key(7777))
    )
    assert (got.status, got.status_code) == (200, 2904)
    assert cpo.module_requests() == []


async def test_a_body_changed_after_signing_is_refused(node: HubUnderTest) -> None:
    emsp, cpo = await _pair(node)
    path = "/scpi/receiver/2.2/tokens/DE/MSP/T1"
    headers = signed(emsp, cpo, path, b'{"uid":"T1"}')
    got = await node.send(emsp, "PUT", path, to=cpo, body=b'{"uid":"T2"}', headers=headers)
    assert got.status_code == 2904


async def test_garbage_is_no_signature(node: HubUnderTest) -> None:
    emsp, cpo = await _pair(node)
    got = await node.send(emsp, "GET", LOCATIONS, to=cpo, headers={"SCN-Signature": "not-base64!"})
    assert got.status_code == 2904
    assert "Invalid SCN-Signature" in got.json()["status_message"]


async def test_the_node_requires_signed_requests_and_signs_its_refusal(tmp_path: Path) -> None:
    node = await HubUnderTest.start(tmp_path, signatures=True)
    try:
        emsp, cpo = await _pair(node)
        got = await node.send(emsp, "GET", LOCATIONS, to=cpo)
        assert got.status_code == 2903
        assert "This node requires signed requests" in got.json()["status_message"]
        assert verify_reply(got).signatory.lower() == node.address.lower()
    finally:
        await node.close()


async def test_the_node_requires_signed_answers(tmp_path: Path) -> None:
    node = await HubUnderTest.start(tmp_path, signatures=True)
    try:
        emsp, cpo = await _pair(node)
        got = await node.send(emsp, "GET", LOCATIONS, to=cpo, headers=signed(emsp, cpo, LOCATIONS))
        assert got.status_code == 3000  # the CPO's answer is not signed
        cpo.on(
            "GET",
            cpo.endpoint_path("locations", "SENDER"),
            lambda _: response(200, signed_answer(cpo, [])),
        )
        got = await node.send(emsp, "GET", LOCATIONS, to=cpo, headers=signed(emsp, cpo, LOCATIONS))
        assert got.status_code == 1000
        assert verify_reply(got).signatory.lower() == cpo.account.address.lower()  # type: ignore[union-attr]
    finally:
        await node.close()


async def test_a_receivers_rule_requires_signed_requests_to_it(node: HubUnderTest) -> None:
    emsp, cpo = await _pair(node)
    await node.set_rules(cpo, PartyRules(signatures=True))
    got = await node.send(emsp, "GET", LOCATIONS, to=cpo)
    assert got.status_code == 2903
    assert "Receiver NL CPO requires signed requests" in got.json()["status_message"]
    assert "scn_signature" not in got.json()  # the sender asked for nothing signed
    other = await node.connect("BE", "CPO", Role.CPO)
    unsigned = await node.send(emsp, "GET", LOCATIONS, to=other)  # the rule is the CPO's alone
    assert unsigned.status_code == 1000


async def test_a_senders_rule_requires_signed_answers_and_signed_refusals(
    node: HubUnderTest,
) -> None:
    emsp, cpo = await _pair(node)
    await node.set_rules(emsp, PartyRules(signatures=True))
    got = await node.send(emsp, "GET", LOCATIONS, to=cpo)
    assert got.status_code == 3000
    assert "answered without the scn_signature" in got.json()["status_message"]
    assert verify_reply(got).signatory.lower() == node.address.lower()


async def test_a_signed_request_gets_signed_refusals(node: HubUnderTest) -> None:
    emsp, cpo = await _pair(node)
    path = "/scpi/sender/2.2/tariffs"
    cpo_modules = await node.connect("BE", "CPO", Role.CPO, modules=("locations",))
    got = await node.send(
        emsp, "GET", path, to=cpo_modules, headers=signed(emsp, cpo_modules, path)
    )
    assert got.status_code == 4900
    assert verify_reply(got).signatory.lower() == node.address.lower()
    assert cpo.module_requests() == []


async def test_a_tampered_answer_is_refused(node: HubUnderTest) -> None:
    emsp, cpo = await _pair(node)
    tampered = signed_answer(cpo, []).replace(b'"data": []', b'"data": [1]')
    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), lambda _: response(200, tampered))
    got = await node.send(emsp, "GET", LOCATIONS, to=cpo)
    assert got.status_code == 3000
    assert "Unable to verify the scn_signature of receiver NL CPO" in got.json()["status_message"]


async def test_a_signed_response_url_is_re_signed_by_the_node(node: HubUnderTest) -> None:
    emsp, cpo = await _pair(node)
    body = json.dumps({"response_url": f"{emsp.base_url}/r/1", "token": {"uid": "T1"}}).encode()
    got = await node.send(
        emsp, "POST", COMMANDS, to=cpo, body=body, headers=signed(emsp, cpo, COMMANDS, body)
    )
    assert got.status_code == 1000
    received = cpo.module_requests()[-1]
    notary = Notary.decode(received.headers["SCN-Signature"])
    notary.verify_exactly(values_received(received))  # the node's signature, then the party's
    assert [s.lower() for s in notary.signatories()] == [
        node.address.lower(),
        emsp.account.address.lower(),
    ]  # type: ignore[union-attr]
    assert notary.rewrites[0].rewritten_fields == {
        "$['body']['response_url']": f"{emsp.base_url}/r/1"
    }


async def test_a_signed_next_page_link_is_re_signed_by_the_node(node: HubUnderTest) -> None:
    emsp, cpo = await _pair(node)
    link = f'<{cpo.endpoint("locations", "SENDER")}?offset=5>; rel="next"'
    cpo.on(
        "GET",
        cpo.endpoint_path("locations", "SENDER"),
        lambda _: response(200, signed_answer(cpo, [], link=link), {"Link": link}),
    )
    got = await node.send(emsp, "GET", LOCATIONS, to=cpo)
    assert got.headers["Link"].startswith(f"<{node.url}/scpi/2.2/proxy/")
    notary = verify_reply(got)
    assert notary.rewrites[0].rewritten_fields == {"$['headers']['link']": link}


async def test_an_answer_of_a_party_without_signature_rules_is_passed_unchecked(
    node: HubUnderTest,
) -> None:
    emsp, cpo = await _pair(node)
    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), lambda _: answer([1]))
    got = await node.send(emsp, "GET", LOCATIONS, to=cpo)
    assert got.json()["data"] == [1] and "scn_signature" not in got.json()
