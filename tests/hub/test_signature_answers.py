"""Signed answers in the pipeline: a receiver's signature reaches the sender and verifies, and an
answer whose signature does not hold never does (helpers: test_signatures.py)."""

from __future__ import annotations

import json

from scn_node.hub.rules import PartyRules
from scn_node.scpi.party import Role
from tests.fakes.backoffice import ok
from tests.fakes.hub import HubUnderTest
from tests.fakes.transport import response
from tests.hub.test_signatures import (
    LOCATIONS,
    account,
    answers,
    connect_pair,
    expect,
    signed_answer,
    signed_envelope,
    verify_reply,
)

TOKEN = "/scpi/receiver/2.2/tokens/DE/MSP/T1"


async def test_a_signed_answer_reaches_the_sender_and_verifies(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    answers(
        cpo, "GET", cpo.endpoint_path("tokens", "RECEIVER"), signed_envelope(cpo, {"uid": "T1"})
    )

    got = await node.send(emsp, "GET", TOKEN, to=cpo)

    expect(got, 1000)
    assert got.json()["data"] == {"uid": "T1"}
    assert verify_reply(got).signatories() == [account(cpo).address]


async def test_a_tampered_answer_is_refused(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    tampered = signed_answer(cpo, []).replace(b'"data": []', b'"data": [1]')
    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), lambda _: response(200, tampered))
    got = await node.send(emsp, "GET", LOCATIONS, to=cpo)
    assert got.status_code == 3000
    assert "Unable to verify the scn_signature of receiver NL CPO" in got.json()["status_message"]


async def test_a_tampered_answer_signature_is_refused(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    answers(
        cpo,
        "GET",
        cpo.endpoint_path("tokens", "RECEIVER"),
        signed_envelope(cpo, {"uid": "T1"}, tamper=True),
    )

    got = await node.send(emsp, "GET", TOKEN, to=cpo)

    body = expect(got, 3000, "Unable to verify the scn_signature of receiver DE CPO")
    assert "data" not in body


async def test_a_value_added_to_a_signed_answer_is_refused(node: HubUnderTest) -> None:
    # OCN's check hashes only the paths the signer listed: an added value slipped through.
    cpo, emsp = await connect_pair(node)
    envelope = signed_envelope(cpo, {"uid": "T1"})
    envelope["status_message"] = "added after signing"
    answers(cpo, "GET", cpo.endpoint_path("tokens", "RECEIVER"), envelope)

    got = await node.send(emsp, "GET", TOKEN, to=cpo)

    body = expect(got, 3000, "Not signed: $['body']['status_message']")
    assert "data" not in body


async def test_an_answer_by_another_signer_is_refused(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    answers(cpo, "GET", cpo.endpoint_path("tokens", "RECEIVER"), signed_envelope(emsp))

    got = await node.send(emsp, "GET", TOKEN, to=cpo)

    expect(got, 3000, f"The signature is by {account(emsp).address}, not by DE CPO")


async def test_a_senders_rule_requires_signed_answers(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    await node.set_rules(emsp, PartyRules(signatures=True))  # PUT scnrules/signatures

    # The eMSP's own (unsigned) request passes; the CPO's unsigned 1000 answer does not.
    got = await node.send(emsp, "GET", TOKEN, to=cpo)
    expect(got, 3000, "Receiver DE CPO answered without the scn_signature")
    assert len(cpo.module_requests()) == 1

    # An unsigned error answer passes: errors may come from a node, not the party.
    answers(cpo, "GET", cpo.endpoint_path("tokens", "RECEIVER"), ok(status_code=2004))
    unknown = await node.send(emsp, "GET", TOKEN, to=cpo)
    expect(unknown, 2004)

    # Anything that does not report an error must be signed: a 1xxx, a text "1000", no code.
    dodges: list[dict[str, object]] = [
        {"status_code": 1001, "data": {}},
        {"status_code": "1000"},
        {"data": {}},
    ]
    for dodge in dodges:
        answers(cpo, "GET", cpo.endpoint_path("tokens", "RECEIVER"), dodge)
        dodged = await node.send(emsp, "GET", TOKEN, to=cpo)
        expect(dodged, 3000, "answered without the scn_signature")


async def test_an_escaped_signature_key_is_still_checked(node: HubUnderTest) -> None:
    # "scn\u005fsignature" is the same JSON key: the node must not relay it unchecked.
    cpo, emsp = await connect_pair(node)
    forged = json.dumps(signed_envelope(emsp, {"uid": "T1"})).replace(
        '"scn_signature"', '"scn\\u005fsignature"'
    )
    cpo.on(
        "GET",
        cpo.endpoint_path("tokens", "RECEIVER"),
        lambda _: response(200, forged.encode(), {"Content-Type": "application/json"}),
    )

    got = await node.send(emsp, "GET", TOKEN, to=cpo)

    expect(got, 3000, f"The signature is by {account(emsp).address}, not by DE CPO")
