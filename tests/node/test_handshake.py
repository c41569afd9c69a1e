"""The credentials, versions, admin and node endpoints as the web adapter serves them over HTTP.

Which method and token each credentials call takes, the versions and every advertised URL under
both dialects, the admin API's key and answers, and the node's own endpoints. The handshake's
behaviour itself (registration, updates, takeovers, token forms) is tested over the fakes in
tests/hub/test_registration.py and tests/hub/test_handshake.py.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from scn_node.scpi.party import Role
from tests.node.conftest import ADMIN_KEY, Network
from tests.node.parties import FakeParty

MODULES = ("cdrs", "chargingprofiles", "commands", "locations", "sessions", "tariffs", "tokens")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")


# ---------------------------------------------------------------- helpers


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


ADMIN = auth(ADMIN_KEY)


def expect(response: httpx.Response, http_status: int, status_code: int, *fragments: str) -> Any:
    """Assert an SCPI envelope's HTTP status, status_code and message fragments; return it."""
    assert response.status_code == http_status, response.text
    body = response.json()
    assert body["status_code"] == status_code, body
    assert TIMESTAMP.fullmatch(body["timestamp"]), body
    for fragment in fragments:
        assert fragment in body.get("status_message", ""), body
    return body


async def post_raw(network: Network, token: str, content: str) -> httpx.Response:
    return await network.client.post(
        "/scpi/2.2/credentials", headers=auth(token), content=content.encode()
    )


async def connection_status(network: Network, party: FakeParty) -> httpx.Response:
    cc, pid = party.party.country_code, party.party.party_id
    return await network.client.get(f"/admin/connection-status/{cc}/{pid}", headers=ADMIN)


async def assert_registers(network: Network, party: FakeParty, token_a: str) -> str:
    """`token_a` (still unused) completes the handshake; the party is then reachable."""
    body = expect(await network.post_credentials(party, token_a), 200, 1000)
    party.token_c = body["data"]["token"]
    status = (await connection_status(network, party)).json()
    assert status["status"] == "CONNECTED"
    return party.token_c


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
    assert versions.json()["data"] == [
        {"version": "2.2.1", "url": f"{network.url}/scpi/2.2.1"},
        {"version": "2.2", "url": f"{network.url}/scpi/2.2"},
    ]


@pytest.mark.parametrize("version", ["2.2.1", "2.2"])
@pytest.mark.parametrize("prefix", ["scpi", "ocpi"])
async def test_every_advertised_endpoint_is_served_at_its_url(
    network: Network, prefix: str, version: str
) -> None:
    """Each URL in the version details answers (OCN advertised three URLs it did not serve)."""
    cpo = await network.connect("DE", "CPO")
    emsp = await network.connect("DE", "MSP", Role.EMSP)
    versions = await network.client.get(f"/{prefix}/versions", headers=auth(emsp.token_c))
    details_url = f"{network.url}/{prefix}/{version}"
    assert {"version": version, "url": details_url} in expect(versions, 200, 1000)["data"]
    details = expect(await network.client.get(details_url, headers=auth(emsp.token_c)), 200, 1000)
    endpoints = details["data"]["endpoints"]
    assert details["data"]["version"] == version
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
        assert f"/{version}/" in url, url
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
