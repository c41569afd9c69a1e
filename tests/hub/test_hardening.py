"""Hostile and broken routed requests and answers: each gets a clear SCPI answer, reaches no one,
and the node lives on. (How the web adapter reads hostile bytes off the wire is tested in
tests/node/test_hardening.py.)"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import brotli
import pytest

from scn_node.hub.model import PartyResponse
from scn_node.hub.rules import PartyRules
from scn_node.scpi.party import PartyId, Role
from tests.fakes.backoffice import FakeBackoffice, Received, Responder, answer
from tests.fakes.hub import Answer, HubUnderTest
from tests.fakes.transport import response


def status(got: Answer) -> tuple[int, int]:
    return got.status, got.status_code


async def pair(node: HubUnderTest) -> tuple[FakeBackoffice, FakeBackoffice]:
    cpo = await node.connect("DE", "CPO", Role.CPO, custom_modules=("lite-locations",))
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    return cpo, emsp


async def test_the_custom_path_cannot_reach_standard_endpoints(node: HubUnderTest) -> None:
    cpo, emsp = await pair(node)
    evil = json.dumps({"token": "evil", "url": "http://attacker.example/versions", "roles": []})
    for method, path in (
        ("PUT", "/scpi/custom/sender/credentials"),
        ("GET", "/scpi/custom/sender/credentials"),
        ("PUT", "/scpi/custom/receiver/hubclientinfo/DE/MSP"),
        ("PUT", "/scpi/custom/receiver/locations/NL/CPO/LOC1"),
        ("POST", "/scpi/custom/receiver/commands/START_SESSION"),
    ):
        got = await node.send(emsp, method, path, to=cpo, body=evil)
        assert status(got) == (200, 2001), path
        assert "standard module" in got.json()["status_message"]
    assert cpo.module_requests() == []


async def test_a_receiver_refusing_the_node_token_is_4003_not_401(node: HubUnderTest) -> None:
    cpo, emsp = await pair(node)
    cpo.token_b = "changed-by-the-cpo"  # the CPO no longer accepts what the node holds
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert status(got) == (200, 4003)
    assert "refused the node's credentials" in got.json()["status_message"]


async def test_the_nodes_own_errors_carry_the_routing_headers_swapped(node: HubUnderTest) -> None:
    cpo, emsp = await pair(node)
    node.network.drop(cpo.base_url)
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert status(got) == (200, 4003)
    assert got.headers["SCPI-from-party-id"] == "CPO"
    assert got.headers["SCPI-to-party-id"] == "MSP"
    assert got.headers["OCPI-to-country-code"] == "DE"


def relaying(**headers: str) -> Responder:
    def respond(received: Received) -> PartyResponse:
        return answer([], headers={"X-Total-Count": "7", **headers})

    return respond


@pytest.mark.parametrize(
    ("header", "value", "why"),
    [
        ("Link", '<http://[::1>; rel="next"', "not a valid URL"),
        ("Link", '<javascript:alert(1)>; rel="next"', "not an http(s) URL with a host"),
        ("Link", '<ftp://files.example.com/page2>; rel="next"', "not an http(s) URL with a host"),
        ("Location", "http://[bad", "not a valid URL"),
        ("Location", "http://cpo.example.com:99999/x", "not a valid URL"),
        ("Location", "javascript:alert(1)", "not an http(s) URL with a host"),
        ("Location", "data:text/html,hi", "not an http(s) URL with a host"),
    ],
)
async def test_a_link_or_location_that_is_no_http_url_is_dropped_with_a_warning(
    node: HubUnderTest, caplog: pytest.LogCaptureFixture, header: str, value: str, why: str
) -> None:
    cpo, emsp = await pair(node)
    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), relaying(**{header: value}))
    caplog.clear()
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert status(got) == (200, 1000)
    assert header not in got.headers
    assert got.headers["X-Total-Count"] == "7"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [f"dropped the {header} header of DE CPO's answer: {why}"]


async def test_routed_error_answers_are_signed_only_when_signatures_are_in_play(
    node: HubUnderTest, tmp_path: Path
) -> None:
    _, emsp = await pair(node)
    nobody = PartyId("NL", "ZZZ")
    plain = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=nobody)
    signed = await node.send(
        emsp, "GET", "/scpi/sender/2.2/locations", to=nobody, headers={"SCN-Signature": "x"}
    )
    assert status(plain) == status(signed) == (200, 4001)
    assert "scn_signature" not in plain.json()
    assert "scn_signature" in signed.json()
    strict = await HubUnderTest.start(tmp_path, name="node-strict", signatures=True)
    try:
        emsp = await strict.connect("DE", "MSP", Role.EMSP)
        required = await strict.send(emsp, "GET", "/scpi/sender/2.2/locations", to=nobody)
        assert status(required) == (200, 4001)
        assert "scn_signature" in required.json()
    finally:
        await strict.close()


async def test_a_deeply_nested_answer_is_read_as_no_envelope_not_a_crash(
    node: HubUnderTest,
) -> None:
    """An answer the node must read (the sender wants signed answers) that nests deeper than
    any parser should follow: 3000 (no valid scn_signature), not a fault."""
    cpo, emsp = await pair(node)
    await node.set_rules(emsp, PartyRules(signatures=True))
    nested = b"[" * 100_000 + b"]" * 100_000
    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), lambda got: response(200, nested))
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert status(got) == (200, 3000)


async def test_a_signature_that_nests_too_deep_is_refused_as_a_bad_signature(
    node: HubUnderTest,
) -> None:
    cpo, emsp = await pair(node)
    nested = base64.b64encode(brotli.compress(b"[" * 5000 + b"]" * 5000)).decode()
    got = await node.send(
        emsp, "GET", "/scpi/sender/2.2/locations", to=cpo, headers={"SCN-Signature": nested}
    )
    assert status(got) == (200, 2001)
    assert "Signature is not JSON" in got.json()["status_message"]
    assert cpo.module_requests() == []
