"""The web adapter's side of the URLs the node hides: the OCPI/OCN dialect aliases (paths,
headers, credentials, versions, node-info), header names read case-insensitively off the wire,
and the message ids echoed in every reply. The rewrites themselves (Link, Location,
response_url), followed to the end, are tested over the fakes in tests/hub/test_rewrites*.py.
"""

from __future__ import annotations

import json
import re

import httpx
from aiohttp import web

from scn_node.scpi.party import Role
from tests.node.conftest import Network
from tests.node.parties import FakeParty, Received, ok

LOCATIONS = "/scpi/sender/2.2/locations"
UNTIL = "date_to=2026-11-23T10%3A00%3A00Z"  # in the CPO's next-page URLs, percent-encoded


# ---------------------------------------------------------------- helpers


async def connect_pair(network: Network) -> tuple[FakeParty, FakeParty]:
    cpo = await network.connect("DE", "CPO", Role.CPO)
    emsp = await network.connect("DE", "MSP", Role.EMSP)
    return cpo, emsp


def proxy_prefix(network: Network) -> str:
    return f"{network.url}/scpi/2.2/proxy/"


def next_url(response: httpx.Response) -> str:
    """The target of a reply's Link header, which must be exactly one rel="next" link."""
    match = re.fullmatch(r'<([^<>]+)>; rel="next"', response.headers.get("Link", ""))
    assert match, f"no next Link in {dict(response.headers)}"
    return match.group(1)


async def call(
    network: Network,
    sender: FakeParty,
    method: str,
    url: str,
    *,
    to: FakeParty,
    body: bytes | None = None,
    family: str = "SCPI",
) -> httpx.Response:
    """A request to any node URL (e.g. a proxy URL) as `sender`, addressed to `to`."""
    headers = network.headers(sender, to, family=family)
    if body is not None:
        headers["Content-Type"] = "application/json"
    return await network.client.request(method, url, headers=headers, content=body)


def assert_success(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.json()["status_code"] == 1000, response.text


def assert_error(response: httpx.Response, http_status: int, status_code: int) -> None:
    assert response.status_code == http_status, response.text
    assert response.json()["status_code"] == status_code, response.text


def lower_keys(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def paginate(cpo: FakeParty, *, total: int = 5, limit: int = 2) -> None:
    """The CPO's locations SENDER list: `limit` per page, a Link to its own next page."""
    endpoint = cpo.endpoint("locations", "SENDER")

    async def page(request: web.Request, received: Received) -> web.StreamResponse:
        offset = int(request.query.get("offset", "0"))
        headers = {"X-Total-Count": str(total), "X-Limit": str(limit)}
        if offset + limit < total:
            next_page = f"{endpoint}?offset={offset + limit}&limit={limit}&{UNTIL}"
            headers["Link"] = f'<{next_page}>; rel="next"'
        items = [{"id": f"LOC{i}"} for i in range(offset, min(offset + limit, total))]
        return web.json_response(ok(items), headers=headers)

    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), page)


# ---------------------------------------------------------------- dialect aliases


async def test_ocpi_paths_and_headers_route_and_the_party_gets_both_header_families(
    network: Network,
) -> None:
    cpo, emsp = await connect_pair(network)
    paginate(cpo)

    first = await network.client.get(
        "/ocpi/sender/2.2/locations", headers=network.headers(emsp, cpo, family="OCPI")
    )
    assert_success(first)
    got = cpo.module_requests()[-1]
    assert (got.path, got.query) == (cpo.endpoint_path("locations", "SENDER"), "")
    headers = lower_keys(got.headers)
    for family in ("scpi", "ocpi"):
        assert headers[f"{family}-from-country-code"] == "DE"
        assert headers[f"{family}-from-party-id"] == "MSP"
        assert headers[f"{family}-to-country-code"] == "DE"
        assert headers[f"{family}-to-party-id"] == "CPO"

    page2_url = next_url(first)
    assert page2_url.startswith(network.url)
    assert cpo.base_url not in page2_url
    second = await call(network, emsp, "GET", page2_url, to=cpo, family="OCPI")
    assert_success(second)
    assert cpo.module_requests()[-1].query == f"offset=2&limit=2&{UNTIL}"
    # The proxy is served under the /ocpi alias too.
    page3_url = next_url(second).replace("/scpi/2.2/proxy/", "/ocpi/2.2/proxy/")
    assert "/ocpi/2.2/proxy/" in page3_url
    last = await call(network, emsp, "GET", page3_url, to=cpo, family="OCPI")
    assert_success(last)
    assert cpo.module_requests()[-1].query == f"offset=4&limit=2&{UNTIL}"


async def test_ocpi_credentials_and_versions_advertise_ocpi_urls(network: Network) -> None:
    """A party written for OCN registers at /ocpi/2.2/credentials and is shown /ocpi/ URLs."""
    cpo = await network.connect("DE", "CPO", Role.CPO)
    party = await network.start_party("DE", "OCP", Role.EMSP)
    await network.list_party(party)
    registered = await network.client.post(
        "/ocpi/2.2/credentials",
        headers={"Authorization": f"Token {await network.token_a()}"},
        content=json.dumps(party.credentials()),
    )
    assert_success(registered)
    assert registered.json()["data"]["url"] == f"{network.url}/ocpi/versions"
    party.token_c = registered.json()["data"]["token"]
    auth = {"Authorization": party.authorization()}

    versions = await network.client.get("/ocpi/versions", headers=auth)
    assert_success(versions)
    assert versions.json()["data"] == [
        {"version": "2.2.1", "url": f"{network.url}/ocpi/2.2.1"},
        {"version": "2.2", "url": f"{network.url}/ocpi/2.2"},
    ]
    details = await network.client.get("/ocpi/2.2", headers=auth)
    assert_success(details)
    urls = {(e["identifier"], e["role"]): e["url"] for e in details.json()["data"]["endpoints"]}
    assert urls[("credentials", "SENDER")] == f"{network.url}/ocpi/2.2/credentials"
    assert urls[("locations", "SENDER")] == f"{network.url}/ocpi/sender/2.2/locations"
    assert all(url.startswith(f"{network.url}/ocpi/") for url in urls.values())
    credentials = await network.client.get("/ocpi/2.2/credentials", headers=auth)
    assert_success(credentials)
    assert credentials.json()["data"]["url"] == f"{network.url}/ocpi/versions"

    routed = await network.client.get(
        "/ocpi/sender/2.2/locations/LOC1", headers=network.headers(party, cpo, family="OCPI")
    )
    assert_success(routed)
    assert cpo.module_requests()[-1].path == cpo.endpoint_path("locations", "SENDER") + "/LOC1"


async def test_ocn_node_info_alias(network: Network) -> None:
    response = await network.client.get("/ocn/registry/node-info")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "url": network.url,
        "address": network.node_account.address.lower(),
    }


async def test_header_names_are_case_insensitive(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    headers = {
        "authorization": emsp.authorization(),
        "x-request-id": "req-case",
        "X-CORRELATION-ID": "corr-case",
        "scpi-FROM-country-code": "DE",
        "Scpi-From-Party-Id": "MSP",
        "ocpi-to-COUNTRY-code": "DE",
        "OCPI-TO-PARTY-ID": "CPO",
    }
    response = await network.client.get("/scpi/sender/2.2/locations/LOC1", headers=headers)
    assert_success(response)
    got = cpo.module_requests()[-1]
    assert got.path == cpo.endpoint_path("locations", "SENDER") + "/LOC1"
    assert lower_keys(got.headers)["x-correlation-id"] == "corr-case"


# ---------------------------------------------------------------- message ids


async def test_replies_echo_the_senders_request_and_correlation_ids(network: Network) -> None:
    """Routed, proxied and error replies all carry the sender's X-Request-ID/X-Correlation-ID."""
    cpo, emsp = await connect_pair(network)
    paginate(cpo)
    headers = network.headers(emsp, cpo, request_id="req-echo-7", correlation_id="corr-echo-7")

    routed = await network.client.get(LOCATIONS, headers=headers)
    proxied = await network.client.get(next_url(routed), headers=headers)
    missing = await network.client.get(proxy_prefix(network) + "no-such-proxy", headers=headers)

    assert_success(routed)
    assert_success(proxied)
    assert_error(missing, 404, 2000)
    for response in (routed, proxied, missing):
        assert response.headers["X-Request-ID"] == "req-echo-7"
        assert response.headers["X-Correlation-ID"] == "corr-echo-7"
    # The party itself gets the correlation id, but a request id of the node's own.
    got = lower_keys(cpo.module_requests()[-1].headers)
    assert got["x-correlation-id"] == "corr-echo-7"
    assert got["x-request-id"] != "req-echo-7"
