"""URLs the node hides behind its own: pagination Link, CDR Location and response_url.

Each rewrite is followed to the end: the party that gets a node URL calls it, and the party
that made the original URL receives exactly that URL's request. Also: the proxies survive a
restart, the OCPI/OCN dialect aliases, Base64 tokens, and message ids echoed in replies.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote

import httpx
import pytest
from aiohttp import web

from scn_node.scpi.party import Role
from tests.node.conftest import Network
from tests.node.parties import FakeParty, Received, ok

COMMANDS = "/scpi/receiver/2.2/commands/START_SESSION"
LOCATIONS = "/scpi/sender/2.2/locations"
CDRS = "/scpi/receiver/2.2/cdrs"
PROFILES = "/scpi/receiver/2.2/chargingprofiles"
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


def ids(response: httpx.Response) -> list[str]:
    return [item["id"] for item in response.json()["data"]]


# ---------------------------------------------------------------- 1. pagination Link


async def test_link_next_points_at_the_node_and_leads_through_every_page(
    network: Network,
) -> None:
    """Each page's Link is a node URL that reaches exactly the CPO's next-page URL."""
    cpo, emsp = await connect_pair(network)
    paginate(cpo)
    list_path = cpo.endpoint_path("locations", "SENDER")

    first = await network.send(emsp, "GET", LOCATIONS, to=cpo)
    assert_success(first)
    assert ids(first) == ["LOC0", "LOC1"]
    assert (first.headers["X-Total-Count"], first.headers["X-Limit"]) == ("5", "2")
    page2_url = next_url(first)
    assert page2_url.startswith(proxy_prefix(network))
    assert cpo.base_url not in first.headers["Link"]

    second = await call(network, emsp, "GET", page2_url, to=cpo)
    assert_success(second)
    got = cpo.module_requests()[-1]
    assert (got.method, got.path, got.query) == ("GET", list_path, f"offset=2&limit=2&{UNTIL}")
    assert got.body == b""
    assert ids(second) == ["LOC2", "LOC3"]
    assert (second.headers["X-Total-Count"], second.headers["X-Limit"]) == ("5", "2")
    page3_url = next_url(second)
    assert page3_url.startswith(proxy_prefix(network))
    assert page3_url != page2_url

    last = await call(network, emsp, "GET", page3_url, to=cpo)
    assert_success(last)
    got = cpo.module_requests()[-1]
    assert (got.path, got.query) == (list_path, f"offset=4&limit=2&{UNTIL}")
    assert ids(last) == ["LOC4"]
    assert "Link" not in last.headers


async def test_link_proxy_is_refused_to_anyone_but_the_party_it_was_made_for(
    network: Network,
) -> None:
    """Another party, or the same pair the other way round, gets 404 and nothing is forwarded."""
    cpo, emsp = await connect_pair(network)
    other = await network.connect("DE", "OTH", Role.EMSP)
    paginate(cpo)
    page2_url = next_url(await network.send(emsp, "GET", LOCATIONS, to=cpo))
    forwarded = len(cpo.module_requests()) + len(other.module_requests())

    for sender, receiver in ((other, cpo), (cpo, emsp), (emsp, other)):
        response = await call(network, sender, "GET", page2_url, to=receiver)
        assert_error(response, 404, 2000)

    assert len(cpo.module_requests()) + len(other.module_requests()) == forwarded
    assert emsp.module_requests() == []


# ---------------------------------------------------------------- 2. CDR Location


def answer_cdr_post_with(emsp: FakeParty, location: str) -> None:
    async def created(request: web.Request, received: Received) -> web.StreamResponse:
        return web.json_response(ok(), headers={"Location": location})

    emsp.on("POST", emsp.endpoint_path("cdrs", "RECEIVER"), created)


async def test_cdr_location_is_a_node_url_that_fetches_the_cdr_from_the_emsp(
    network: Network,
) -> None:
    cpo, emsp = await connect_pair(network)
    cdr_path = "/scpi/emsp/2.2/cdrs/1"
    answer_cdr_post_with(emsp, emsp.base_url + cdr_path)
    cdr = b'{"status_code": 1000, "data": {"id": "CDR1",  "total_cost": {"excl_vat": 1.50}}}'

    async def stored_cdr(request: web.Request, received: Received) -> web.StreamResponse:
        return web.Response(body=cdr, content_type="application/json")

    emsp.on("GET", cdr_path, stored_cdr)

    posted = await network.send(cpo, "POST", CDRS, to=emsp, body='{"id": "CDR1"}')
    assert_success(posted)
    location = posted.headers["Location"]
    assert location.startswith(proxy_prefix(network))
    assert emsp.base_url not in location

    fetched = await call(network, cpo, "GET", location, to=emsp)
    assert fetched.status_code == 200
    assert fetched.content == cdr
    got = emsp.module_requests()[-1]
    assert (got.method, got.path, got.query) == ("GET", cdr_path, "")
    assert got.headers["Authorization"] == f"Token {emsp.token_b}"


async def test_relative_cdr_location_is_resolved_against_the_emsp_url(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    answer_cdr_post_with(emsp, "/x/cdrs/9")

    posted = await network.send(cpo, "POST", CDRS, to=emsp, body='{"id": "CDR9"}')
    assert_success(posted)
    assert posted.headers["Location"].startswith(proxy_prefix(network))

    fetched = await call(network, cpo, "GET", posted.headers["Location"], to=emsp)
    assert_success(fetched)
    got = emsp.module_requests()[-1]
    assert (got.method, got.path, got.query) == ("GET", "/x/cdrs/9", "")


# ---------------------------------------------------------------- 3. commands response_url

# Odd whitespace, unknown members and non-ASCII: everything but the URL must arrive unchanged.
START_SESSION = (
    '{ "token": {"uid": "012345678", "type" :"RFID", "x_vendor": [1, 2.50 ,"\u00e9"]},\n'
    '\t"response_url" :  @URL@ ,  "location_id":"LOC1","x_unknown" : null }'
)


def start_session(response_url: str) -> bytes:
    return START_SESSION.replace("@URL@", json.dumps(response_url)).encode()


async def test_command_result_posted_before_the_answer_reaches_the_emsp_url(
    network: Network,
) -> None:
    """The CPO posts the CommandResult while the command request is still open."""
    cpo, emsp = await connect_pair(network)
    result_path = "/scpi/emsp/2.2/commands/START_SESSION/42"
    original = emsp.base_url + result_path
    result = b'{"result":"ACCEPTED"}'
    emsp_answer = json.dumps(ok({"thanks": True})).encode()
    delivered = asyncio.Event()
    order: list[str] = []
    callback: dict[str, Any] = {}

    async def emsp_takes_result(request: web.Request, received: Received) -> web.StreamResponse:
        order.append("result delivered")
        delivered.set()
        return web.Response(body=emsp_answer, content_type="application/json")

    async def cpo_answers_command(request: web.Request, received: Received) -> web.StreamResponse:
        proxy_url = received.json()["response_url"]
        callback["url"] = proxy_url
        headers = {**network.headers(cpo, emsp), "Content-Type": "application/json"}
        async with httpx.AsyncClient(timeout=5) as client:
            callback["response"] = await client.post(proxy_url, headers=headers, content=result)
        await asyncio.wait_for(delivered.wait(), timeout=5)
        order.append("callback answered")
        return web.json_response(ok({"result": "ACCEPTED", "timeout": 30}))

    emsp.on("POST", result_path, emsp_takes_result)
    cpo.on("POST", cpo.endpoint_path("commands", "RECEIVER"), cpo_answers_command)

    response = await network.send(emsp, "POST", COMMANDS, to=cpo, body=start_session(original))
    order.append("command answered")

    assert_success(response)
    assert response.json()["data"] == {"result": "ACCEPTED", "timeout": 30}
    assert order == ["result delivered", "callback answered", "command answered"]
    # The CPO saw a node URL, and not one other byte changed.
    command = cpo.module_requests()[0]
    assert command.path == cpo.endpoint_path("commands", "RECEIVER") + "/START_SESSION"
    assert callback["url"].startswith(proxy_prefix(network))
    assert command.body == start_session(callback["url"])
    # The eMSP got the result at its own URL, from the CPO, and the CPO got the eMSP's answer.
    (got,) = [r for r in emsp.module_requests() if r.path == result_path]
    assert (got.method, got.query, got.body) == ("POST", "", result)
    assert got.headers["Authorization"] == f"Token {emsp.token_b}"
    headers = lower_keys(got.headers)
    assert (headers["scpi-from-party-id"], headers["scpi-to-party-id"]) == ("CPO", "MSP")
    assert callback["response"].status_code == 200
    assert callback["response"].content == emsp_answer


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('{"location_id": "LOC1", "token": {"uid": "1"}}', id="missing"),
        pytest.param('{"response_url": "not a url", "location_id": "LOC1"}', id="not-a-url"),
        pytest.param('{"response_url": 42, "location_id": "LOC1"}', id="not-a-string"),
    ],
)
async def test_command_without_a_usable_response_url_is_rejected(
    network: Network, body: str
) -> None:
    cpo, emsp = await connect_pair(network)
    response = await network.send(emsp, "POST", COMMANDS, to=cpo, body=body)
    assert_error(response, 200, 2001)
    assert cpo.module_requests() == []


# ---------------------------------------------------------------- 4. chargingprofiles response_url

SET_PROFILE = (
    '{"charging_profile": {"charging_rate_unit": "W",  "charging_profile_period": '
    '[{"start_period": 0, "limit": 11000.0}]},\n "response_url" : @URL@ , "x_note":"keep"}'
)


def put_profile(url: str) -> tuple[str, bytes | None]:
    return f"{PROFILES}/SESSION1", SET_PROFILE.replace("@URL@", json.dumps(url)).encode()


def get_profile(url: str) -> tuple[str, bytes | None]:
    return f"{PROFILES}/SESSION1?duration=900&response_url={quote(url, safe='')}", None


def delete_profile(url: str) -> tuple[str, bytes | None]:
    return f"{PROFILES}/SESSION1?response_url={quote(url, safe='')}&x_note=a%20b", None


ACTIVE_PROFILE = json.dumps(
    {
        "result": "ACCEPTED",
        "profile": {
            "start_date_time": "2026-11-23T10:00:00Z",
            "charging_profile": {
                "charging_rate_unit": "W",
                "charging_profile_period": [{"start_period": 0, "limit": 11000.0}],
            },
        },
    }
).encode()


def response_url_of(received: Received) -> str:
    if received.body:
        return str(received.json()["response_url"])
    return parse_qs(received.query)["response_url"][0]


@pytest.mark.parametrize(
    ("method", "build", "result"),
    [
        pytest.param("PUT", put_profile, b'{"result": "ACCEPTED"}', id="put-set"),
        pytest.param("GET", get_profile, ACTIVE_PROFILE, id="get-active"),
        pytest.param("DELETE", delete_profile, b'{"result": "UNKNOWN"}', id="delete-clear"),
    ],
)
async def test_charging_profile_result_reaches_the_emsp_original_url(
    network: Network,
    method: str,
    build: Callable[[str], tuple[str, bytes | None]],
    result: bytes,
) -> None:
    """The CPO gets a node response_url (nothing else changed) and its result is delivered."""
    cpo, emsp = await connect_pair(network)
    result_path = f"/scpi/emsp/2.2/chargingprofiles/result/{method.lower()}-7"
    original = f"{emsp.base_url}{result_path}?ref=a%2Fb"
    path, body = build(original)

    response = await network.send(emsp, method, path, to=cpo, body=body)
    assert_success(response)

    got = cpo.module_requests()[-1]
    proxy_url = response_url_of(got)
    assert proxy_url.startswith(proxy_prefix(network))
    expected_path, expected_body = build(proxy_url)
    tail, _, expected_query = expected_path.partition("?")
    assert got.method == method
    assert got.path == cpo.endpoint_path("chargingprofiles", "RECEIVER") + tail[len(PROFILES) :]
    assert got.query == expected_query
    assert got.body == (expected_body or b"")

    posted = await call(network, cpo, "POST", proxy_url, to=emsp, body=result)
    assert_success(posted)
    delivered = emsp.module_requests()[-1]
    assert (delivered.method, delivered.path, delivered.query) == ("POST", result_path, "ref=a%2Fb")
    assert delivered.body == result
    assert delivered.headers["Authorization"] == f"Token {emsp.token_b}"


# ---------------------------------------------------------------- 5. durability


async def test_proxies_and_tokens_survive_a_node_restart(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    paginate(cpo)
    page2_url = next_url(await network.send(emsp, "GET", LOCATIONS, to=cpo))
    result_path = "/scpi/emsp/2.2/commands/START_SESSION/7"
    command = await network.send(
        emsp, "POST", COMMANDS, to=cpo, body=start_session(emsp.base_url + result_path)
    )
    assert_success(command)
    proxy_url = response_url_of(cpo.module_requests()[-1])

    await network.stop_node()
    await network.start_node()

    for party in (cpo, emsp):
        credentials = await network.client.get(
            "/scpi/2.2/credentials", headers={"Authorization": party.authorization()}
        )
        assert_success(credentials)
    posted = await call(network, cpo, "POST", proxy_url, to=emsp, body=b'{"result":"ACCEPTED"}')
    assert_success(posted)
    delivered = emsp.module_requests()[-1]
    assert (delivered.path, delivered.body) == (result_path, b'{"result":"ACCEPTED"}')

    second = await call(network, emsp, "GET", page2_url, to=cpo)
    assert_success(second)
    assert cpo.module_requests()[-1].query == f"offset=2&limit=2&{UNTIL}"
    assert ids(second) == ["LOC2", "LOC3"]
    assert next_url(second).startswith(proxy_prefix(network))


# ---------------------------------------------------------------- 6. dialect aliases


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
    assert versions.json()["data"] == [{"version": "2.2", "url": f"{network.url}/ocpi/2.2"}]
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


async def test_base64_token_party_is_routed_and_gets_base64_token_b(network: Network) -> None:
    cpo = await network.connect("DE", "CPO", Role.CPO)
    b64 = await network.connect("DE", "B64", Role.EMSP, base64_tokens=True)

    sent = await network.send(b64, "GET", f"{LOCATIONS}/LOC1", to=cpo)
    assert_success(sent)
    assert cpo.module_requests()[-1].path == cpo.endpoint_path("locations", "SENDER") + "/LOC1"

    received = await network.send(cpo, "GET", "/scpi/sender/2.2/tokens?limit=1", to=b64)
    assert_success(received)
    got = b64.module_requests()[-1]
    assert (got.path, got.query) == (b64.endpoint_path("tokens", "SENDER"), "limit=1")
    expected = base64.b64encode(b64.token_b.encode()).decode()
    assert got.headers["Authorization"] == f"Token {expected}"


# ---------------------------------------------------------------- 7. message ids


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
