"""A party's own credentials handshake (POST with TOKEN_A) through the real Handshake and store.

Each test asserts what the party sees (HTTP status, SCPI status_code, message fragments), what
its backoffice received, and, for a refused handshake, that nothing of it was kept: the party
has no connection and cannot be reached, and the same TOKEN_A still registers it afterwards.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import pytest

from scn_node.hub.model import PartyResponse
from scn_node.scpi.party import Role
from tests.fakes.backoffice import FakeBackoffice, Received, answer
from tests.fakes.hub import Answer, HubUnderTest

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
OTHER_OPERATOR = "0x" + "ab" * 20


# ---------------------------------------------------------------- helpers (test_handshake too)


def expect(got: Answer, http_status: int, status_code: int, *fragments: str) -> Any:
    """Assert an SCPI envelope's HTTP status, status_code and message fragments; return it."""
    assert got.status == http_status, got.body
    body = got.json()
    assert body["status_code"] == status_code, body
    assert TIMESTAMP.fullmatch(body["timestamp"]), body
    for fragment in fragments:
        assert fragment in body.get("status_message", ""), body
    return body


def calls(party: FakeBackoffice) -> list[tuple[str, str, str]]:
    return [(r.method, r.path, r.headers.get("Authorization", "")) for r in party.received]


def node_credentials(node: HubUnderTest, token: str) -> dict[str, Any]:
    """The node's Credentials as a party must receive them."""
    role = {"role": "HUB", "business_details": {"name": "Smart Charging Network Node"}}
    role |= {"party_id": "SCN", "country_code": "DE"}
    return {"token": token, "url": f"{node.url}/scpi/versions", "roles": [role]}


def list_as(
    node: HubUnderTest,
    party: FakeBackoffice,
    roles: list[Role] | None = None,
    operator: str | None = None,
) -> None:
    """List (or re-list) `party`, so a wrong listing can be corrected."""
    assert party.account is not None
    node.registry.list_party(
        party.party, roles or [party.role], operator or node.address, party.account.address
    )


def token_roles(*roles: dict[str, str]) -> bytes:
    """The admin API body that restricts a TOKEN_A to `roles`."""
    return json.dumps(list(roles)).encode()


async def probe_and_listed_cpo(
    node: HubUnderTest, **kwargs: Any
) -> tuple[FakeBackoffice, FakeBackoffice]:
    """A connected DE MSP to probe routing with, and a listed, unregistered DE CPO."""
    probe = await node.connect("DE", "MSP", Role.EMSP)
    cpo = node.new_party("DE", "CPO", **kwargs)
    node.list_party(cpo)
    return probe, cpo


async def assert_not_registered(
    node: HubUnderTest, party: FakeBackoffice, probe: FakeBackoffice
) -> None:
    """Nothing of a failed handshake was saved: no connection, and the party cannot be reached."""
    assert await node.directory.platform_of(party.party) is None
    got = await node.send(probe, "GET", "/scpi/sender/2.2/locations", to=party)
    assert got.status == 200, got.body
    # 4001 when the registry does not list it here, 4003 when it does but it never connected.
    assert got.status_code in (4001, 4003), got.body
    assert str(party.party) in got.json()["status_message"]
    assert party.module_requests() == []


async def assert_registers(node: HubUnderTest, party: FakeBackoffice, token_a: str) -> str:
    """`token_a` (still unused) completes the handshake; the party is then connected."""
    body = expect(await node.register(party, token_a), 200, 1000)
    party.token_c = body["data"]["token"]
    platform = await node.directory.platform_of(party.party)
    assert platform is not None and platform.status.value == "CONNECTED"
    return party.token_c


@dataclass
class Switch:
    """A versions responder that misbehaves until `broken` is cleared."""

    party: FakeBackoffice
    http_status: int
    status_code: int
    broken: bool = True

    def __call__(self, received: Received) -> PartyResponse:
        if self.broken:
            return answer(status=self.http_status, status_code=self.status_code)
        return answer([{"version": "2.2", "url": f"{self.party.base_url}/scpi/2.2"}])


# ---------------------------------------------------------------- the happy handshake


async def test_handshake_returns_node_credentials_and_fetches_party_endpoints(
    node: HubUnderTest,
) -> None:
    """POST with TOKEN_A: 1000, the node's credentials, and versions fetched with TOKEN_B."""
    cpo = node.new_party("DE", "CPO", Role.CPO)
    node.list_party(cpo)
    body = expect(await node.register(cpo, await node.token_a()), 200, 1000)
    token_c = body["data"]["token"]
    assert token_c
    assert body["data"] == node_credentials(node, token_c)
    bearer = f"Token {cpo.token_b}"
    assert calls(cpo) == [("GET", "/scpi/versions", bearer), ("GET", "/scpi/2.2", bearer)]

    cpo.token_c = token_c
    mine = expect(await node.read_credentials(f"Token {token_c}"), 200, 1000)
    assert mine["data"] == body["data"]
    got = await node.send(cpo, "GET", "/scpi/receiver/2.2/locations/DE/CPO/L1", to=cpo)
    assert got.status == 200, got.body
    assert got.json()["data"]["path"] == cpo.endpoint_path("locations", "RECEIVER") + "/DE/CPO/L1"
    assert cpo.module_requests()[-1].headers["Authorization"] == bearer


# ---------------------------------------------------------------- failures save nothing


async def test_party_not_listed_is_rejected_and_token_a_survives(node: HubUnderTest) -> None:
    probe = await node.connect("DE", "MSP", Role.EMSP)
    cpo = node.new_party("DE", "CPO")
    token_a = await node.token_a()
    got = await node.register(cpo, token_a)
    expect(got, 200, 2001, "DE CPO is not listed in the SCN Registry")
    assert cpo.received == []
    await assert_not_registered(node, cpo, probe)
    node.list_party(cpo)
    await assert_registers(node, cpo, token_a)


async def test_party_listed_with_another_operator_is_rejected(node: HubUnderTest) -> None:
    probe = await node.connect("DE", "MSP", Role.EMSP)
    node.registry.set_node(OTHER_OPERATOR, "http://other-node.example")
    cpo = node.new_party("DE", "CPO")
    list_as(node, cpo, operator=OTHER_OPERATOR)
    token_a = await node.token_a()
    got = await node.register(cpo, token_a)
    expect(got, 200, 2001, "node operator", OTHER_OPERATOR)
    await assert_not_registered(node, cpo, probe)
    list_as(node, cpo)
    await assert_registers(node, cpo, token_a)


async def test_party_listed_without_the_claimed_role_is_rejected_and_logged(
    node: HubUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    probe = await node.connect("DE", "MSP", Role.EMSP)
    cpo = node.new_party("DE", "CPO", Role.CPO)
    list_as(node, cpo, roles=[Role.EMSP])
    token_a = await node.token_a()
    caplog.set_level(logging.INFO, logger="scn_node")
    got = await node.register(cpo, token_a)
    message = "DE CPO is listed in the SCN Registry with the roles EMSP, not CPO"
    expect(got, 200, 2001, message)
    # The refusal is logged with its SCPI status and message, once, and with no token.
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert [(r.levelname, r.getMessage()) for r in refusals] == [
        ("WARNING", f"Credentials registration refused: 2001 {message}")
    ]
    assert all(token_a not in r.getMessage() for r in caplog.records)
    await assert_not_registered(node, cpo, probe)
    list_as(node, cpo, roles=[Role.CPO])
    await assert_registers(node, cpo, token_a)


async def test_party_listed_only_as_other_registers_with_a_warning(
    node: HubUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    """OCN's client library lists every role as OTHER; the OCN node accepts such a party."""
    cpo = node.new_party("DE", "CPO", Role.CPO)
    list_as(node, cpo, roles=[Role.OTHER])
    caplog.set_level(logging.WARNING, logger="scn_node")
    await assert_registers(node, cpo, await node.token_a())
    assert [r.getMessage() for r in caplog.records if r.name.startswith("scn_node.hub")] == [
        "DE CPO registers as CPO, but its SCN Registry listing holds the roles OTHER "
        f"(operator {node.address}): accepted"
    ]


async def test_node_listed_at_another_url_rejects_registration(node: HubUnderTest) -> None:
    probe, cpo = await probe_and_listed_cpo(node)
    token_a = await node.token_a()
    node.registry.set_node(node.address, "http://elsewhere.example:9")
    got = await node.register(cpo, token_a)
    expect(got, 200, 2001, "with the URL http://elsewhere.example:9", node.url)
    node.registry.set_node(node.address, node.url)
    await assert_not_registered(node, cpo, probe)
    await assert_registers(node, cpo, token_a)


async def test_node_listed_with_upper_case_host_still_registers(node: HubUnderTest) -> None:
    """The registry's node URL is compared case-insensitively in scheme and host."""
    node.registry.set_node(node.address, node.url.replace("node-a.node.test", "NODE-A.node.test"))
    cpo = node.new_party("DE", "CPO")
    node.list_party(cpo)
    await assert_registers(node, cpo, await node.token_a())


async def test_token_a_is_single_use(node: HubUnderTest) -> None:
    cpo = node.new_party("DE", "CPO")
    node.list_party(cpo)
    token_a = await node.token_a()
    token_c = await assert_registers(node, cpo, token_a)
    again = await node.register(cpo, token_a)
    expect(again, 401, 2000, "Unknown credentials token")
    expect(await node.read_credentials(f"Token {token_c}"), 200, 1000)


async def test_token_a_is_single_use_under_concurrent_posts(node: HubUnderTest) -> None:
    """Two POSTs racing with one TOKEN_A: one registers, the other is refused like a reuse."""
    cpo = node.new_party("DE", "CPO")
    node.list_party(cpo)
    token_a = await node.token_a()
    first, second = await asyncio.gather(node.register(cpo, token_a), node.register(cpo, token_a))
    winners = [r for r in (first, second) if r.status_code == 1000]
    losers = [r for r in (first, second) if r.status_code != 1000]
    assert len(winners) == 1, (first.body, second.body)
    expect(losers[0], 401, 2000, "Unknown credentials token")
    token_c = winners[0].json()["data"]["token"]
    expect(await node.read_credentials(f"Token {token_c}"), 200, 1000)


async def test_unreachable_versions_fail_with_3001(node: HubUnderTest) -> None:
    probe, cpo = await probe_and_listed_cpo(node)
    token_a = await node.token_a()
    node.network.drop(cpo.base_url)
    got = await node.register(cpo, token_a)
    expect(got, 200, 3001, f"Could not fetch {cpo.versions_url}")
    await assert_not_registered(node, cpo, probe)
    node.network.serve(cpo.base_url, cpo.handle)
    await assert_registers(node, cpo, token_a)


@pytest.mark.parametrize(
    ("http_status", "status_code", "fragment"),
    [(200, 3000, "answered status_code 3000, not 1000"), (500, 3000, "answered HTTP 500")],
    ids=["status-3000", "http-500"],
)
async def test_failing_versions_endpoint_fails_with_3001(
    node: HubUnderTest, http_status: int, status_code: int, fragment: str
) -> None:
    probe, cpo = await probe_and_listed_cpo(node)
    switch = Switch(cpo, http_status, status_code)
    cpo.on("GET", "/scpi/versions", switch)
    token_a = await node.token_a()
    got = await node.register(cpo, token_a)
    expect(got, 200, 3001, cpo.versions_url, fragment)
    assert [r.path for r in cpo.received] == ["/scpi/versions"]
    await assert_not_registered(node, cpo, probe)
    switch.broken = False
    await assert_registers(node, cpo, token_a)


async def test_party_without_version_2_2_fails_with_3002(node: HubUnderTest) -> None:
    probe, cpo = await probe_and_listed_cpo(node, versions=["2.1.1"])
    token_a = await node.token_a()
    got = await node.register(cpo, token_a)
    expect(got, 200, 3002, "offers no SCPI 2.2.1 or 2.2 (offered: 2.1.1)")
    await assert_not_registered(node, cpo, probe)
    cpo.versions = ["2.1.1", "2.2"]
    await assert_registers(node, cpo, token_a)


async def test_malformed_credentials_json_is_400_2001(node: HubUnderTest) -> None:
    probe, cpo = await probe_and_listed_cpo(node)
    token_a = await node.token_a()
    got = await node.register(cpo, token_a, body=b'{"token": "abc", "url": ')
    expect(got, 400, 2001, "not valid JSON")
    assert cpo.received == []
    await assert_not_registered(node, cpo, probe)
    await assert_registers(node, cpo, token_a)


@pytest.mark.parametrize("missing", ["token", "url", "roles"])
async def test_credentials_missing_a_field_are_200_2001(node: HubUnderTest, missing: str) -> None:
    probe, cpo = await probe_and_listed_cpo(node)
    token_a = await node.token_a()
    body = cpo.credentials()
    del body[missing]
    got = await node.register(cpo, token_a, body=json.dumps(body).encode())
    expect(got, 200, 2001, "Invalid credentials", f"{missing}: Field required")
    assert cpo.received == []
    await assert_not_registered(node, cpo, probe)
    await assert_registers(node, cpo, token_a)


async def test_token_a_for_another_party_cannot_register(node: HubUnderTest) -> None:
    probe, cpo = await probe_and_listed_cpo(node)
    token_a = await node.token_a(token_roles({"country_code": "DE", "party_id": "XXX"}))
    got = await node.register(cpo, token_a)
    expect(got, 200, 2001, "This TOKEN_A is for DE XXX", "cannot register DE CPO")
    assert cpo.received == []
    await assert_not_registered(node, cpo, probe)
    xxx = node.new_party("DE", "XXX")
    node.list_party(xxx)
    await assert_registers(node, xxx, token_a)


async def test_token_a_restricted_to_the_party_registers_it(node: HubUnderTest) -> None:
    cpo = node.new_party("DE", "CPO")
    node.list_party(cpo)
    token_a = await node.token_a(
        token_roles({"country_code": "de", "party_id": "cpo", "role": "CPO"})
    )
    await assert_registers(node, cpo, token_a)


async def test_token_a_restricted_to_another_role_rejects_cpo(node: HubUnderTest) -> None:
    probe, cpo = await probe_and_listed_cpo(node)
    token_a = await node.token_a(
        token_roles({"country_code": "DE", "party_id": "CPO", "role": "EMSP"})
    )
    got = await node.register(cpo, token_a)
    expect(got, 200, 2001, "cannot register DE CPO")
    await assert_not_registered(node, cpo, probe)


async def test_nobody_registers_as_the_node_itself(node: HubUnderTest) -> None:
    party = node.new_party("DE", "SCN")
    node.list_party(party)
    got = await node.register(party, await node.token_a())
    assert (got.status, got.status_code) == (200, 2001)
    assert "this node's own identity" in got.json()["status_message"]


async def test_party_listed_here_but_not_connected_is_not_said_to_be_elsewhere(
    node: HubUnderTest,
) -> None:
    """A receiver listed with this node that never connected: the error must not send the
    sender looking for another node."""
    probe, cpo = await probe_and_listed_cpo(node)
    got = await node.send(probe, "GET", "/scpi/sender/2.2/locations", to=cpo)
    body = expect(got, 200, 4003, "DE CPO is listed with this node but has not connected yet")
    assert "does not route to other nodes" not in body["status_message"], body
