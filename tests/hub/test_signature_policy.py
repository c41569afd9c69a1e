"""Missing signatures: the node's setting and the parties' own rules require signed requests and
signed answers; refusals are signed when the sender's policy asks for signatures (helpers:
test_signatures.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from scn_node.hub.rules import PartyRules
from scn_node.scpi.party import Role
from tests.fakes.backoffice import answer
from tests.fakes.hub import HubUnderTest
from tests.fakes.transport import response
from tests.hub.test_signatures import (
    LOCATIONS,
    TOKEN,
    TOKENS,
    account,
    answers,
    connect_pair,
    expect,
    pair,
    signature_received,
    signed,
    signed_answer,
    signed_envelope,
    values_received,
    verify_reply,
)


@pytest.fixture
async def signing_node(tmp_path: Path) -> AsyncIterator[HubUnderTest]:
    """A node that requires signed requests and signed answers of everyone."""
    node = await HubUnderTest.start(tmp_path, signatures=True)
    try:
        yield node
    finally:
        await node.close()


async def test_the_node_requires_signed_requests_and_signs_its_refusal(
    signing_node: HubUnderTest,
) -> None:
    node = signing_node
    emsp, cpo = await pair(node)
    got = await node.send(emsp, "GET", LOCATIONS, to=cpo)
    assert got.status_code == 2002
    assert "This node requires signed requests" in got.json()["status_message"]
    assert verify_reply(got).signatory.lower() == node.address.lower()


async def test_the_node_requires_signed_answers(signing_node: HubUnderTest) -> None:
    node = signing_node
    emsp, cpo = await pair(node)
    got = await node.send(emsp, "GET", LOCATIONS, to=cpo, headers=signed(emsp, cpo, LOCATIONS))
    assert got.status_code == 3000  # the CPO's answer is not signed
    cpo.on(
        "GET",
        cpo.endpoint_path("locations", "SENDER"),
        lambda _: response(200, signed_answer(cpo, [])),
    )
    got = await node.send(emsp, "GET", LOCATIONS, to=cpo, headers=signed(emsp, cpo, LOCATIONS))
    assert got.status_code == 1000
    assert verify_reply(got).signatory.lower() == account(cpo).address.lower()


async def test_the_node_requires_signed_requests_and_answers(signing_node: HubUnderTest) -> None:
    node = signing_node
    cpo, emsp = await connect_pair(node)

    unsigned = await node.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN)
    expect(unsigned, 2002, "This node requires signed requests")
    assert cpo.module_requests() == []

    # Signed, but the CPO answers 1000 without a signature.
    headers = signed(emsp, cpo, TOKENS, TOKEN)
    got = await node.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN, headers=headers)
    expect(got, 3000, "Receiver DE CPO answered without the scn_signature")
    assert len(cpo.module_requests()) == 1

    answers(cpo, "PUT", cpo.endpoint_path("tokens", "RECEIVER"), signed_envelope(cpo))
    got = await node.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN, headers=headers)
    expect(got, 1000)
    assert verify_reply(got).signatories() == [account(cpo).address]
    assert len(cpo.module_requests()) == 2


async def test_a_receivers_rule_requires_signed_requests_to_it(node: HubUnderTest) -> None:
    emsp, cpo = await pair(node)
    await node.set_rules(cpo, PartyRules(signatures=True))
    got = await node.send(emsp, "GET", LOCATIONS, to=cpo)
    assert got.status_code == 2002
    assert "Receiver NL CPO requires signed requests" in got.json()["status_message"]
    assert "scn_signature" not in got.json()  # the sender asked for nothing signed
    other = await node.connect("BE", "CPO", Role.CPO)
    unsigned = await node.send(emsp, "GET", LOCATIONS, to=other)  # the rule is the CPO's alone
    assert unsigned.status_code == 1000


async def test_a_receivers_rule_requires_signed_requests_to_it_only(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    other = await node.connect("DE", "OTH", Role.CPO)
    await node.set_rules(cpo, PartyRules(signatures=True))  # PUT scnrules/signatures

    refused = await node.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN)
    expect(refused, 2002, "Receiver DE CPO requires signed requests")
    assert cpo.module_requests() == []

    passed = await node.send(emsp, "PUT", TOKENS, to=other, body=TOKEN)
    expect(passed, 1000)
    assert len(other.module_requests()) == 1

    headers = signed(emsp, cpo, TOKENS, TOKEN)
    accepted = await node.send(emsp, "PUT", TOKENS, to=cpo, body=TOKEN, headers=headers)
    expect(accepted, 1000)
    (got,) = cpo.module_requests()
    signature_received(got).verify_exactly(values_received(got))


async def test_a_senders_rule_requires_signed_answers_and_signed_refusals(
    node: HubUnderTest,
) -> None:
    emsp, cpo = await pair(node)
    await node.set_rules(emsp, PartyRules(signatures=True))
    got = await node.send(emsp, "GET", LOCATIONS, to=cpo)
    assert got.status_code == 3000
    assert "answered without the scn_signature" in got.json()["status_message"]
    assert verify_reply(got).signatory.lower() == node.address.lower()


async def test_an_answer_of_a_party_without_signature_rules_is_passed_unchecked(
    node: HubUnderTest,
) -> None:
    emsp, cpo = await pair(node)
    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), lambda _: answer([1]))
    got = await node.send(emsp, "GET", LOCATIONS, to=cpo)
    assert got.json()["data"] == [1] and "scn_signature" not in got.json()
