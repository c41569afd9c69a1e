"""The credentials handshake, versions, the admin API and the node's own endpoints, end to end.

Each test drives a real node and real FakeParty backoffices and asserts what a user sees: the
HTTP status, the SCPI status_code, message fragments, what the party received, and the node's
state as its API shows it afterwards.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from aiohttp import web
from eth_account.signers.local import LocalAccount

from scn_node.scpi.party import Role
from tests.node.conftest import ADMIN_KEY, Network
from tests.node.parties import FakeParty, Received, ok
from tests.node.test_client_info import WATCHING, eventually, statuses

MODULES = ("cdrs", "chargingprofiles", "commands", "locations", "sessions", "tariffs", "tokens")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")


# ---------------------------------------------------------------- helpers


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


ADMIN = auth(ADMIN_KEY)


def b64(token: str) -> str:
    return base64.b64encode(token.encode()).decode()


def expect(response: httpx.Response, http_status: int, status_code: int, *fragments: str) -> Any:
    """Assert an SCPI envelope's HTTP status, status_code and message fragments; return it."""
    assert response.status_code == http_status, response.text
    body = response.json()
    assert body["status_code"] == status_code, body
    assert TIMESTAMP.fullmatch(body["timestamp"]), body
    for fragment in fragments:
        assert fragment in body.get("status_message", ""), body
    return body


def calls(party: FakeParty) -> list[tuple[str, str, str]]:
    return [(r.method, r.path, r.headers.get("Authorization", "")) for r in party.received]


def node_credentials(network: Network, token: str) -> dict[str, Any]:
    """The node's Credentials as a party must receive them."""
    role = {"role": "HUB", "business_details": {"name": "Smart Charging Network Node"}}
    role |= {"party_id": "SCN", "country_code": "DE"}
    return {"token": token, "url": f"{network.url}/scpi/versions", "roles": [role]}


async def post_raw(network: Network, token: str, content: str) -> httpx.Response:
    return await network.client.post(
        "/scpi/2.2/credentials", headers=auth(token), content=content.encode()
    )


async def list_as(
    network: Network,
    account: LocalAccount,
    party: FakeParty,
    roles: list[Role] | None = None,
    operator: str | None = None,
) -> None:
    """List (or re-list) `party` from a fixed account, so a wrong listing can be corrected."""
    await network.registry.set_party(
        account, party.party, roles or [party.role], operator or network.node_account.address
    )


async def connection_status(network: Network, party: FakeParty) -> httpx.Response:
    cc, pid = party.party.country_code, party.party.party_id
    return await network.client.get(f"/admin/connection-status/{cc}/{pid}", headers=ADMIN)


async def probe_and_listed_cpo(network: Network, **kwargs: Any) -> tuple[FakeParty, FakeParty]:
    """A connected DE MSP to probe routing with, and a started, listed, unregistered DE CPO."""
    probe = await network.connect("DE", "MSP", Role.EMSP)
    cpo = await network.start_party("DE", "CPO", **kwargs)
    await network.list_party(cpo)
    return probe, cpo


async def assert_not_registered(network: Network, party: FakeParty, probe: FakeParty) -> None:
    """Nothing of a failed handshake was saved: no status, and the party cannot be reached."""
    expect(await connection_status(network, party), 404, 2000, "never connected")
    response = await network.send(probe, "GET", "/scpi/sender/2.2/locations", to=party)
    assert response.status_code == 200, response.text
    # 4001 when the registry does not list it here, 4003 when it does but it never connected.
    assert response.json()["status_code"] in (4001, 4003), response.text
    assert str(party.party) in response.json()["status_message"]
    assert party.module_requests() == []


async def assert_registers(network: Network, party: FakeParty, token_a: str) -> str:
    """`token_a` (still unused) completes the handshake; the party is then reachable."""
    body = expect(await network.post_credentials(party, token_a), 200, 1000)
    party.token_c = body["data"]["token"]
    status = (await connection_status(network, party)).json()
    assert status["status"] == "CONNECTED"
    return party.token_c


@dataclass
class Switch:
    """A FakeParty versions responder that misbehaves until `broken` is cleared."""

    party: FakeParty
    http_status: int
    status_code: int
    broken: bool = True

    async def __call__(self, request: web.Request, received: Received) -> web.Response:
        if self.broken:
            return web.json_response(ok(status_code=self.status_code), status=self.http_status)
        details = f"{self.party.base_url}/scpi/2.2"
        return web.json_response(ok([{"version": "2.2", "url": details}]))


# ---------------------------------------------------------------- the happy handshake


async def test_handshake_returns_node_credentials_and_fetches_party_endpoints(
    network: Network,
) -> None:
    """POST with TOKEN_A: 1000, the node's credentials, and versions fetched with TOKEN_B."""
    cpo = await network.start_party("DE", "CPO", Role.CPO)
    await network.list_party(cpo)
    body = expect(await network.post_credentials(cpo, await network.token_a()), 200, 1000)
    token_c = body["data"]["token"]
    assert token_c
    assert body["data"] == node_credentials(network, token_c)
    bearer = f"Token {cpo.token_b}"
    assert calls(cpo) == [("GET", "/scpi/versions", bearer), ("GET", "/scpi/2.2", bearer)]

    cpo.token_c = token_c
    mine = expect(
        await network.client.get("/scpi/2.2/credentials", headers=auth(token_c)), 200, 1000
    )
    assert mine["data"] == body["data"]
    response = await network.send(cpo, "GET", "/scpi/receiver/2.2/locations/DE/CPO/L1", to=cpo)
    assert response.status_code == 200, response.text
    assert (
        response.json()["data"]["path"] == cpo.endpoint_path("locations", "RECEIVER") + "/DE/CPO/L1"
    )
    assert cpo.module_requests()[-1].headers["Authorization"] == bearer


# ---------------------------------------------------------------- failures save nothing


async def test_party_not_listed_is_rejected_and_token_a_survives(network: Network) -> None:
    probe = await network.connect("DE", "MSP", Role.EMSP)
    cpo = await network.start_party("DE", "CPO")
    token_a = await network.token_a()
    response = await network.post_credentials(cpo, token_a)
    expect(response, 200, 2001, "DE CPO is not listed in the SCN Registry")
    assert cpo.received == []
    await assert_not_registered(network, cpo, probe)
    await network.list_party(cpo)
    await assert_registers(network, cpo, token_a)


async def test_party_listed_with_another_operator_is_rejected(network: Network) -> None:
    probe = await network.connect("DE", "MSP", Role.EMSP)
    other = network.new_account()
    await network.registry.set_node(other, "http://other-node.example")
    cpo = await network.start_party("DE", "CPO")
    account = network.new_account()
    await list_as(network, account, cpo, operator=other.address)
    token_a = await network.token_a()
    response = await network.post_credentials(cpo, token_a)
    expect(response, 200, 2001, "node operator", other.address)
    await assert_not_registered(network, cpo, probe)
    await list_as(network, account, cpo)
    await assert_registers(network, cpo, token_a)


async def test_party_listed_without_the_claimed_role_is_rejected_and_logged(
    network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    probe = await network.connect("DE", "MSP", Role.EMSP)
    cpo = await network.start_party("DE", "CPO", Role.CPO)
    account = network.new_account()
    await list_as(network, account, cpo, roles=[Role.EMSP])
    token_a = await network.token_a()
    caplog.set_level(logging.INFO, logger="scn_node")
    response = await network.post_credentials(cpo, token_a)
    message = "DE CPO is listed in the SCN Registry with the roles EMSP, not CPO"
    expect(response, 200, 2001, message)
    # The refusal is logged with its SCPI status and message, once, and with no token.
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert [(r.levelname, r.getMessage()) for r in refusals] == [
        ("WARNING", f"Credentials registration refused: 2001 {message}")
    ]
    assert all(token_a not in r.getMessage() for r in caplog.records)
    await assert_not_registered(network, cpo, probe)
    await list_as(network, account, cpo, roles=[Role.CPO])
    await assert_registers(network, cpo, token_a)


async def test_party_listed_only_as_other_registers_with_a_warning(
    network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    """OCN's client library lists every role as OTHER; the OCN node accepts such a party."""
    cpo = await network.start_party("DE", "CPO", Role.CPO)
    await list_as(network, network.new_account(), cpo, roles=[Role.OTHER])
    caplog.set_level(logging.WARNING, logger="scn_node")
    await assert_registers(network, cpo, await network.token_a())
    operator = network.node_account.address
    assert [r.getMessage() for r in caplog.records if r.name.startswith("scn_node.hub")] == [
        "DE CPO registers as CPO, but its SCN Registry listing holds the roles OTHER "
        f"(operator {operator}): accepted"
    ]


async def test_node_listed_at_another_url_rejects_registration(network: Network) -> None:
    probe, cpo = await probe_and_listed_cpo(network)
    token_a = await network.token_a()
    await network.registry.set_node(network.node_account, "http://elsewhere.example:9")
    response = await network.post_credentials(cpo, token_a)
    expect(response, 200, 2001, "with the URL http://elsewhere.example:9", network.url)
    await network.registry.set_node(network.node_account, network.url)
    await assert_not_registered(network, cpo, probe)
    await assert_registers(network, cpo, token_a)


async def test_token_a_is_single_use(network: Network) -> None:
    cpo = await network.start_party("DE", "CPO")
    await network.list_party(cpo)
    token_a = await network.token_a()
    token_c = await assert_registers(network, cpo, token_a)
    again = await network.post_credentials(cpo, token_a)
    expect(again, 401, 2000, "Unknown credentials token")
    expect(await network.client.get("/scpi/2.2/credentials", headers=auth(token_c)), 200, 1000)


async def test_token_a_is_single_use_under_concurrent_posts(network: Network) -> None:
    """Two POSTs racing with one TOKEN_A: one registers, the other is refused like a reuse."""
    cpo = await network.start_party("DE", "CPO")
    await network.list_party(cpo)
    token_a = await network.token_a()
    first, second = await asyncio.gather(
        network.post_credentials(cpo, token_a), network.post_credentials(cpo, token_a)
    )
    winners = [r for r in (first, second) if r.json()["status_code"] == 1000]
    losers = [r for r in (first, second) if r.json()["status_code"] != 1000]
    assert len(winners) == 1, (first.text, second.text)
    expect(losers[0], 401, 2000, "Unknown credentials token")
    token_c = winners[0].json()["data"]["token"]
    expect(await network.client.get("/scpi/2.2/credentials", headers=auth(token_c)), 200, 1000)


async def test_unreachable_versions_fail_with_3001(network: Network) -> None:
    probe, cpo = await probe_and_listed_cpo(network)
    token_a = await network.token_a()
    await cpo.stop()
    response = await network.post_credentials(cpo, token_a)
    expect(response, 200, 3001, f"Could not fetch {cpo.versions_url}")
    await assert_not_registered(network, cpo, probe)
    await cpo.start()
    await assert_registers(network, cpo, token_a)


@pytest.mark.parametrize(
    ("http_status", "status_code", "fragment"),
    [(200, 3000, "answered status_code 3000, not 1000"), (500, 3000, "answered HTTP 500")],
    ids=["status-3000", "http-500"],
)
async def test_failing_versions_endpoint_fails_with_3001(
    network: Network, http_status: int, status_code: int, fragment: str
) -> None:
    probe, cpo = await probe_and_listed_cpo(network)
    switch = Switch(cpo, http_status, status_code)
    cpo.on("GET", "/scpi/versions", switch)
    token_a = await network.token_a()
    response = await network.post_credentials(cpo, token_a)
    expect(response, 200, 3001, cpo.versions_url, fragment)
    assert [r.path for r in cpo.received] == ["/scpi/versions"]
    await assert_not_registered(network, cpo, probe)
    switch.broken = False
    await assert_registers(network, cpo, token_a)


async def test_party_without_version_2_2_fails_with_3002(network: Network) -> None:
    probe, cpo = await probe_and_listed_cpo(network, versions=["2.1.1"])
    token_a = await network.token_a()
    response = await network.post_credentials(cpo, token_a)
    expect(response, 200, 3002, "offers no SCPI 2.2.1 or 2.2 (offered: 2.1.1)")
    await assert_not_registered(network, cpo, probe)
    cpo.versions = ["2.1.1", "2.2"]
    await assert_registers(network, cpo, token_a)


async def test_malformed_credentials_json_is_400_2001(network: Network) -> None:
    probe, cpo = await probe_and_listed_cpo(network)
    token_a = await network.token_a()
    response = await post_raw(network, token_a, '{"token": "abc", "url": ')
    expect(response, 400, 2001, "not valid JSON")
    assert cpo.received == []
    await assert_not_registered(network, cpo, probe)
    await assert_registers(network, cpo, token_a)


@pytest.mark.parametrize("missing", ["token", "url", "roles"])
async def test_credentials_missing_a_field_are_200_2001(network: Network, missing: str) -> None:
    probe, cpo = await probe_and_listed_cpo(network)
    token_a = await network.token_a()
    body = cpo.credentials()
    del body[missing]
    response = await network.post_credentials(cpo, token_a, body)
    expect(response, 200, 2001, "Invalid credentials", f"{missing}: Field required")
    assert cpo.received == []
    await assert_not_registered(network, cpo, probe)
    await assert_registers(network, cpo, token_a)


async def test_token_a_for_another_party_cannot_register(network: Network) -> None:
    probe, cpo = await probe_and_listed_cpo(network)
    token_a = await network.token_a([{"country_code": "DE", "party_id": "XXX"}])
    response = await network.post_credentials(cpo, token_a)
    expect(response, 200, 2001, "This TOKEN_A is for DE XXX", "cannot register DE CPO")
    assert cpo.received == []
    await assert_not_registered(network, cpo, probe)
    xxx = await network.start_party("DE", "XXX")
    await network.list_party(xxx)
    await assert_registers(network, xxx, token_a)


async def test_token_a_restricted_to_the_party_registers_it(network: Network) -> None:
    cpo = await network.start_party("DE", "CPO")
    await network.list_party(cpo)
    token_a = await network.token_a([{"country_code": "de", "party_id": "cpo", "role": "CPO"}])
    await assert_registers(network, cpo, token_a)


async def test_token_a_restricted_to_another_role_rejects_cpo(network: Network) -> None:
    probe, cpo = await probe_and_listed_cpo(network)
    token_a = await network.token_a([{"country_code": "DE", "party_id": "CPO", "role": "EMSP"}])
    response = await network.post_credentials(cpo, token_a)
    expect(response, 200, 2001, "cannot register DE CPO")
    await assert_not_registered(network, cpo, probe)


async def test_party_listed_here_but_not_connected_is_not_said_to_be_elsewhere(
    network: Network,
) -> None:
    """A receiver listed with this node that never connected: the error must not send the
    sender looking for another node."""
    probe, cpo = await probe_and_listed_cpo(network)
    response = await network.send(probe, "GET", "/scpi/sender/2.2/locations", to=cpo)
    body = expect(response, 200, 4003, "DE CPO is listed with this node but has not connected yet")
    assert "does not route to other nodes" not in body["status_message"], body


# ---------------------------------------------------------------- registry URL comparison


async def test_node_listed_with_upper_case_host_still_registers(network: Network) -> None:
    """The registry's node URL is compared case-insensitively in scheme and host."""
    port = urlsplit(network.url).port
    await network.stop_node()
    await network.start_node(node_url=f"http://localhost:{port}")
    await network.registry.set_node(network.node_account, f"http://LOCALHOST:{port}")
    cpo = await network.start_party("DE", "CPO")
    await network.list_party(cpo)
    await assert_registers(network, cpo, await network.token_a())


# ---------------------------------------------------------------- wrong registration state


async def test_post_with_token_c_is_405(network: Network) -> None:
    cpo = await network.connect("DE", "CPO")
    response = await post_raw(network, cpo.token_c, '{"x": 1}')
    expect(response, 405, 2000, "Already registered; use PUT")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_credentials_calls_with_token_a_are_405(network: Network, method: str) -> None:
    cpo = await network.start_party("DE", "CPO")
    await network.list_party(cpo)
    token_a = await network.token_a()
    response = await network.client.request(
        method, "/scpi/2.2/credentials", headers=auth(token_a), json=cpo.credentials()
    )
    expect(response, 405, 2000, "Not registered yet")
    assert cpo.received == []
    await assert_registers(network, cpo, token_a)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
async def test_credentials_without_or_with_unknown_token_are_401(
    network: Network, method: str
) -> None:
    path = "/scpi/2.2/credentials"
    response = await network.client.request(method, path, content=b"{}")
    expect(response, 401, 2000, "Missing Authorization header")
    response = await network.client.request(method, path, headers=auth("nope"), content=b"{}")
    expect(response, 401, 2000, "Unknown credentials token")


async def test_token_a_is_refused_on_modules(network: Network) -> None:
    cpo = await network.connect("DE", "CPO")
    token_a = await network.token_a()
    headers = {**network.headers(cpo, cpo), **auth(token_a)}
    response = await network.client.get("/scpi/sender/2.2/locations", headers=headers)
    expect(response, 401, 2000, "only valid for versions and credentials")
    assert cpo.module_requests() == []


# ---------------------------------------------------------------- PUT and DELETE


async def test_put_rotates_token_c_and_refetches_endpoints(network: Network) -> None:
    cpo = await network.connect("DE", "CPO")
    emsp = await network.connect("DE", "MSP", Role.EMSP)
    old_c = cpo.token_c
    cpo.token_b = "token-b-rotated"
    cpo.modules = ("locations",)
    cpo.received.clear()
    response = await network.client.put(
        "/scpi/2.2/credentials", headers=auth(old_c), json=cpo.credentials()
    )
    body = expect(response, 200, 1000)
    new_c = body["data"]["token"]
    assert new_c != old_c
    assert body["data"] == node_credentials(network, new_c)
    bearer = "Token token-b-rotated"
    assert calls(cpo) == [("GET", "/scpi/versions", bearer), ("GET", "/scpi/2.2", bearer)]

    old = await network.client.get("/scpi/2.2/credentials", headers=auth(old_c))
    expect(old, 401, 2000)
    new = await network.client.get("/scpi/2.2/credentials", headers=auth(new_c))
    assert expect(new, 200, 1000)["data"]["token"] == new_c

    response = await network.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert response.json()["data"]["path"] == cpo.endpoint_path("locations", "SENDER")
    assert cpo.module_requests()[-1].headers["Authorization"] == bearer
    response = await network.send(emsp, "GET", "/scpi/sender/2.2/cdrs", to=cpo)
    expect(response, 200, 4900, "no cdrs SENDER endpoint")


async def test_delete_suspends_the_party_until_it_registers_again(network: Network) -> None:
    cpo = await network.connect("DE", "CPO")
    emsp = await network.connect("DE", "MSP", Role.EMSP)
    response = await network.client.delete("/scpi/2.2/credentials", headers=auth(cpo.token_c))
    assert "data" not in expect(response, 200, 1000)
    gone = await network.client.get("/scpi/2.2/credentials", headers=auth(cpo.token_c))
    expect(gone, 401, 2000, "Unknown credentials token")

    response = await network.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    expect(response, 200, 4003, "not connected")
    assert cpo.module_requests() == []
    status = (await connection_status(network, cpo)).json()
    assert (status["status"], status["roles"]) == ("SUSPENDED", ["CPO"])

    await assert_registers(network, cpo, await network.token_a())
    response = await network.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert response.json()["data"]["path"] == cpo.endpoint_path("locations", "SENDER")
    infos = await network.client.get("/scpi/2.2/hubclientinfo", headers=auth(emsp.token_c))
    listed = [i["status"] for i in expect(infos, 200, 1000)["data"] if i["party_id"] == "CPO"]
    assert listed == ["CONNECTED"]  # the suspended connection is superseded, not listed too


# ---------------------------------------------------------------- token forms


async def test_base64_party_is_called_with_base64_token_b_and_plain_with_plain(
    network: Network,
) -> None:
    plain = await network.connect("DE", "CPO")
    coded = await network.connect("NL", "B64", Role.EMSP, base64_tokens=True)
    plain_bearer = f"Token {plain.token_b}"
    coded_bearer = f"Token {b64(coded.token_b)}"
    assert [c[2] for c in calls(plain)] == [plain_bearer, plain_bearer]
    assert [c[2] for c in calls(coded)] == [coded_bearer, coded_bearer]

    response = await network.send(coded, "GET", "/scpi/sender/2.2/locations", to=plain)
    expect(response, 200, 1000)
    assert plain.module_requests()[-1].headers["Authorization"] == plain_bearer
    response = await network.send(plain, "GET", "/scpi/sender/2.2/tokens", to=coded)
    expect(response, 200, 1000)
    assert coded.module_requests()[-1].headers["Authorization"] == coded_bearer
    credentials = await network.client.get(
        "/scpi/2.2/credentials", headers={"Authorization": coded.authorization()}
    )
    assert expect(credentials, 200, 1000)["data"]["token"] == coded.token_c


# ---------------------------------------------------------------- versions


async def test_versions_answer_token_a_and_c_but_not_anonymous(network: Network) -> None:
    cpo = await network.connect("DE", "CPO")
    token_a = await network.token_a()
    for path in ("/scpi/versions", "/scpi/2.2"):
        expect(await network.client.get(path), 401, 2000, "Missing Authorization header")
        expect(await network.client.get(path, headers=auth("nope")), 401, 2000)
        with_a = expect(await network.client.get(path, headers=auth(token_a)), 200, 1000)
        with_c = expect(await network.client.get(path, headers=auth(cpo.token_c)), 200, 1000)
        assert with_a["data"] == with_c["data"]
    versions = await network.client.get("/scpi/versions", headers=auth(token_a))
    assert versions.json()["data"] == [{"version": "2.2", "url": f"{network.url}/scpi/2.2"}]


@pytest.mark.parametrize("prefix", ["scpi", "ocpi"])
async def test_every_advertised_endpoint_is_served_at_its_url(
    network: Network, prefix: str
) -> None:
    """Each URL in the version details answers (OCN advertised three URLs it did not serve)."""
    cpo = await network.connect("DE", "CPO")
    emsp = await network.connect("DE", "MSP", Role.EMSP)
    versions = await network.client.get(f"/{prefix}/versions", headers=auth(emsp.token_c))
    details_url = f"{network.url}/{prefix}/2.2"
    assert expect(versions, 200, 1000)["data"] == [{"version": "2.2", "url": details_url}]
    details = expect(await network.client.get(details_url, headers=auth(emsp.token_c)), 200, 1000)
    endpoints = details["data"]["endpoints"]
    assert details["data"]["version"] == "2.2"
    expected = {
        ("credentials", "SENDER"),
        ("hubclientinfo", "SENDER"),
        ("scnrules", "RECEIVER"),
    } | {(m, i) for m in MODULES for i in ("SENDER", "RECEIVER")}
    assert {(e["identifier"], e["role"]) for e in endpoints} == expected
    assert len(endpoints) == len(expected)

    family = prefix.upper()
    for endpoint in endpoints:
        url, identifier, role = endpoint["url"], endpoint["identifier"], endpoint["role"]
        assert url.startswith(f"{network.url}/{prefix}/"), url
        if identifier in ("credentials", "hubclientinfo", "scnrules"):
            response = await network.client.get(url, headers=auth(emsp.token_c))
            assert response.status_code == 200, (url, response.text)
            continue
        # GET ActiveChargingProfile needs a response_url (OCPI 2.2 mod_charging_profiles).
        query = {"duration": "60", "response_url": emsp.versions_url}
        params = query if (identifier, role) == ("chargingprofiles", "RECEIVER") else None
        headers = network.headers(emsp, cpo, family=family)
        response = await network.client.get(url, headers=headers, params=params)
        assert response.status_code == 200, (url, response.text)
        data = response.json().get("data", {})
        assert data.get("path") == cpo.endpoint_path(identifier, role), (url, response.text)


# ---------------------------------------------------------------- admin API


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_generate_registration_token_issues_usable_token_a(
    network: Network, method: str
) -> None:
    response = await network.client.request(
        method, "/admin/generate-registration-token", headers=ADMIN
    )
    assert response.status_code == 200, response.text
    issued = response.json()
    assert set(issued) == {"token", "versions"}
    assert issued["versions"] == f"{network.url}/scpi/versions"
    cpo = await network.start_party("DE", "CPO")
    await network.list_party(cpo)
    await assert_registers(network, cpo, issued["token"])


@pytest.mark.parametrize(
    "headers",
    [{}, auth("wrong-key"), {"Authorization": ADMIN_KEY}],
    ids=["missing", "wrong", "no-scheme"],
)
async def test_admin_api_refuses_wrong_or_missing_key(
    network: Network, headers: dict[str, str]
) -> None:
    for method, path in [
        ("GET", "/admin/generate-registration-token"),
        ("POST", "/admin/generate-registration-token"),
        ("GET", "/admin/connection-status/DE/CPO"),
    ]:
        response = await network.client.request(method, path, headers=headers)
        expect(response, 401, 2000, "missing or wrong admin API key")


async def test_a_party_that_lost_its_handshake_answer_takes_its_connection_over(
    network: Network,
) -> None:
    """The node saved a registration whose answer (TOKEN_C) never reached the party. A TOKEN_A
    issued for the party takes the connection over: the lost TOKEN_C stops working, the party
    is listed once, and the others hear it CONNECTED, never SUSPENDED."""
    emsp = await network.connect("DE", "MSP", Role.EMSP, modules=WATCHING)
    cpo = await network.start_party("DE", "CPO")
    await network.list_party(cpo)
    lost = expect(await network.post_credentials(cpo, await network.token_a()), 200, 1000)
    lost_c = lost["data"]["token"]

    # A TOKEN_A for anyone (as a new party gets) cannot displace a connected party from
    # another backoffice...
    elsewhere = {**cpo.credentials(), "url": "http://127.0.0.1:9/scpi/versions"}
    response = await network.post_credentials(cpo, await network.token_a(), elsewhere)
    expect(response, 200, 2001, "DE CPO is already connected", "a TOKEN_A issued for DE CPO")
    # ...but the same backoffice retrying with a fresh TOKEN_A takes its connection over.
    await assert_registers(network, cpo, await network.token_a())

    gone = await network.client.get("/scpi/2.2/credentials", headers=auth(lost_c))
    expect(gone, 401, 2000, "Unknown credentials token")
    # A TOKEN_A issued for the party takes it over too, from any versions URL.
    second_c = cpo.token_c
    token_a = await network.token_a([{"country_code": "DE", "party_id": "CPO"}])
    await assert_registers(network, cpo, token_a)
    gone = await network.client.get("/scpi/2.2/credentials", headers=auth(second_c))
    expect(gone, 401, 2000, "Unknown credentials token")
    response = await network.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert response.json()["data"]["path"] == cpo.endpoint_path("locations", "SENDER")
    platforms = expect(await network.client.get("/admin/platforms", headers=ADMIN), 200, 1000)
    held = [(r["party_id"], p["status"]) for p in platforms["data"] for r in p["roles"]]
    assert sorted(held) == [("CPO", "CONNECTED"), ("MSP", "CONNECTED")]
    infos = await network.client.get("/scpi/2.2/hubclientinfo", headers=auth(emsp.token_c))
    listed = [i["status"] for i in expect(infos, 200, 1000)["data"] if i["party_id"] == "CPO"]
    assert listed == ["CONNECTED"]

    async def told_thrice() -> bool:
        return len(statuses(emsp, cpo)) >= 3

    await eventually(told_thrice, "DE MSP hearing of DE CPO three times")
    assert statuses(emsp, cpo) == ["CONNECTED", "CONNECTED", "CONNECTED"]


async def test_a_takeover_must_register_every_role_of_the_connection(network: Network) -> None:
    cpo = await network.start_party("DE", "CPO")
    await list_as(network, network.new_account(), cpo, roles=[Role.CPO, Role.EMSP])
    both = cpo.credentials()
    both["roles"].append({**both["roles"][0], "role": "EMSP"})
    response = await network.post_credentials(cpo, await network.token_a(), both)
    old_c = expect(response, 200, 1000)["data"]["token"]
    token_a = await network.token_a([{"country_code": "DE", "party_id": "CPO"}])
    response = await network.post_credentials(cpo, token_a)  # the CPO role alone
    expect(response, 200, 2001, "with DE CPO EMSP too", "registers all of its roles")
    expect(await network.client.get("/scpi/2.2/credentials", headers=auth(old_c)), 200, 1000)
    expect(await network.post_credentials(cpo, token_a, both), 200, 1000)
    expect(await network.client.get("/scpi/2.2/credentials", headers=auth(old_c)), 401, 2000)


async def test_connection_status_reports_connected_and_unknown(network: Network) -> None:
    cpo = await network.connect("DE", "CPO")
    response = await network.client.get("/admin/connection-status/de/cpo", headers=ADMIN)
    assert response.status_code == 200, response.text
    status = response.json()
    assert TIMESTAMP.fullmatch(status.pop("last_updated"))
    assert status == {
        "country_code": "DE",
        "party_id": "CPO",
        "status": "CONNECTED",
        "roles": ["CPO"],
    }
    # A TOKEN_A alone (even one restricted to a party) records no connection for that party.
    await network.token_a([{"country_code": "DE", "party_id": "NEW"}])
    response = await network.client.get("/admin/connection-status/DE/NEW", headers=ADMIN)
    expect(response, 404, 2000, "DE NEW has never connected")
    assert cpo.module_requests() == []


# ---------------------------------------------------------------- node endpoints


@pytest.mark.parametrize("prefix", ["scn", "ocn"])
async def test_health_node_info_and_party_lookup(network: Network, prefix: str) -> None:
    health = await network.client.get("/health")
    assert (health.status_code, health.text) == (200, "OK")
    address = network.node_account.address.lower()
    info = await network.client.get(f"/{prefix}/registry/node-info")
    assert info.status_code == 200, info.text
    assert info.json() == {"url": network.url, "address": address}

    cpo = await network.start_party("DE", "CPO")
    await network.list_party(cpo)
    found = await network.client.get(f"/{prefix}/registry/node/de/cpo")
    assert found.status_code == 200, found.text
    assert found.json() == {"url": network.url, "address": address}

    missing = await network.client.get(f"/{prefix}/registry/node/DE/ZZZ")
    expect(missing, 404, 2000, "DE ZZZ is not listed")
