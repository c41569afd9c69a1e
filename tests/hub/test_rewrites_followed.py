"""URLs the node hides behind its own, followed to the end over the fakes: pagination Link, CDR
Location and response_url (commands, chargingprofiles).

The party that gets a node URL calls it, and the party that made the original URL receives
exactly that URL's request. Also: the proxies and tokens outlive the hub's services, and parties
that take Base64 tokens are routed. (The OCPI dialect, header case and message-id echo are the
web adapter's: tests/node/test_rewrites.py.)
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote

import pytest

from scn_node.hub.node import Hub
from scn_node.scpi.party import Role
from scn_node.store import SqlDirectory, SqlSeenMessages
from tests.fakes.backoffice import FakeBackoffice, Received, answer, ok
from tests.fakes.hub import Answer, HubUnderTest
from tests.fakes.transport import response

COMMANDS = "/scpi/receiver/2.2/commands/START_SESSION"
LOCATIONS = "/scpi/sender/2.2/locations"
CDRS = "/scpi/receiver/2.2/cdrs"
PROFILES = "/scpi/receiver/2.2/chargingprofiles"
UNTIL = "date_to=2026-11-23T10%3A00%3A00Z"  # in the CPO's next-page URLs, percent-encoded
JSON = {"Content-Type": "application/json"}


# ---------------------------------------------------------------- helpers


async def connect_pair(node: HubUnderTest) -> tuple[FakeBackoffice, FakeBackoffice]:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    return cpo, emsp


def proxy_prefix(node: HubUnderTest) -> str:
    return f"{node.url}/scpi/2.2/proxy/"


def next_url(got: Answer) -> str:
    """The target of a reply's Link header, which must be exactly one rel="next" link."""
    match = re.fullmatch(r'<([^<>]+)>; rel="next"', got.headers.get("Link", ""))
    assert match, f"no next Link in {dict(got.headers)}"
    return match.group(1)


def assert_success(got: Answer) -> None:
    assert got.status == 200, got.body
    assert got.status_code == 1000, got.body


def assert_error(got: Answer, http_status: int, status_code: int) -> None:
    assert got.status == http_status, got.body
    assert got.status_code == status_code, got.body


def lower_keys(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def paginate(cpo: FakeBackoffice, *, total: int = 5, limit: int = 2) -> None:
    """The CPO's locations SENDER list: `limit` per page, a Link to its own next page."""
    endpoint = cpo.endpoint("locations", "SENDER")

    def page(received: Received) -> Any:
        offset = int(parse_qs(received.query).get("offset", ["0"])[0])
        headers = {"X-Total-Count": str(total), "X-Limit": str(limit)}
        if offset + limit < total:
            next_page = f"{endpoint}?offset={offset + limit}&limit={limit}&{UNTIL}"
            headers["Link"] = f'<{next_page}>; rel="next"'
        items = [{"id": f"LOC{i}"} for i in range(offset, min(offset + limit, total))]
        return answer(items, headers=headers)

    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), page)


def ids(got: Answer) -> list[str]:
    return [item["id"] for item in got.json()["data"]]


async def restart(node: HubUnderTest) -> None:
    """The node's services stop and start again over the same database: whatever they kept
    only in memory is gone."""
    identity = node.hub.node
    await node.hub.close()
    node.directory = SqlDirectory(node.database, cache_seconds=0)
    node.hub = Hub.build(
        identity,
        directory=node.directory,
        registry=node.registry,
        listing=node.registry.listing(node.address),
        transport=node.network,
        wallet=node.wallet,
        seen=SqlSeenMessages(node.database),
    )


# ---------------------------------------------------------------- 1. pagination Link


async def test_link_next_points_at_the_node_and_leads_through_every_page(
    node: HubUnderTest,
) -> None:
    """Each page's Link is a node URL that reaches exactly the CPO's next-page URL."""
    cpo, emsp = await connect_pair(node)
    paginate(cpo)
    list_path = cpo.endpoint_path("locations", "SENDER")

    first = await node.send(emsp, "GET", LOCATIONS, to=cpo)
    assert_success(first)
    assert ids(first) == ["LOC0", "LOC1"]
    assert (first.headers["X-Total-Count"], first.headers["X-Limit"]) == ("5", "2")
    page2_url = next_url(first)
    assert page2_url.startswith(proxy_prefix(node))
    assert cpo.base_url not in first.headers["Link"]

    second = await node.send(emsp, "GET", page2_url, to=cpo)
    assert_success(second)
    got = cpo.module_requests()[-1]
    assert (got.method, got.path, got.query) == ("GET", list_path, f"offset=2&limit=2&{UNTIL}")
    assert got.body == b""
    assert ids(second) == ["LOC2", "LOC3"]
    assert (second.headers["X-Total-Count"], second.headers["X-Limit"]) == ("5", "2")
    page3_url = next_url(second)
    assert page3_url.startswith(proxy_prefix(node))
    assert page3_url != page2_url

    last = await node.send(emsp, "GET", page3_url, to=cpo)
    assert_success(last)
    got = cpo.module_requests()[-1]
    assert (got.path, got.query) == (list_path, f"offset=4&limit=2&{UNTIL}")
    assert ids(last) == ["LOC4"]
    assert "Link" not in last.headers


async def test_link_proxy_is_refused_to_anyone_but_the_party_it_was_made_for(
    node: HubUnderTest,
) -> None:
    """Another party, or the same pair the other way round, gets 404 and nothing is forwarded."""
    cpo, emsp = await connect_pair(node)
    other = await node.connect("DE", "OTH", Role.EMSP)
    paginate(cpo)
    page2_url = next_url(await node.send(emsp, "GET", LOCATIONS, to=cpo))
    forwarded = len(cpo.module_requests()) + len(other.module_requests())

    for sender, receiver in ((other, cpo), (cpo, emsp), (emsp, other)):
        got = await node.send(sender, "GET", page2_url, to=receiver)
        assert_error(got, 404, 2000)

    assert len(cpo.module_requests()) + len(other.module_requests()) == forwarded
    assert emsp.module_requests() == []


# ---------------------------------------------------------------- 2. CDR Location


def answer_cdr_post_with(emsp: FakeBackoffice, location: str) -> None:
    emsp.on(
        "POST",
        emsp.endpoint_path("cdrs", "RECEIVER"),
        lambda _: answer(headers={"Location": location}),
    )


async def test_cdr_location_is_a_node_url_that_fetches_the_cdr_from_the_emsp(
    node: HubUnderTest,
) -> None:
    cpo, emsp = await connect_pair(node)
    cdr_path = "/scpi/emsp/2.2/cdrs/1"
    answer_cdr_post_with(emsp, emsp.base_url + cdr_path)
    cdr = b'{"status_code": 1000, "data": {"id": "CDR1",  "total_cost": {"excl_vat": 1.50}}}'
    emsp.on("GET", cdr_path, lambda _: response(200, cdr, JSON))

    posted = await node.send(cpo, "POST", CDRS, to=emsp, body='{"id": "CDR1"}', headers=JSON)
    assert_success(posted)
    location = posted.headers["Location"]
    assert location.startswith(proxy_prefix(node))
    assert emsp.base_url not in location

    fetched = await node.send(cpo, "GET", location, to=emsp)
    assert fetched.status == 200
    assert fetched.body == cdr
    got = emsp.module_requests()[-1]
    assert (got.method, got.path, got.query) == ("GET", cdr_path, "")
    assert got.headers["Authorization"] == f"Token {emsp.token_b}"


async def test_relative_cdr_location_is_resolved_against_the_emsp_url(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    answer_cdr_post_with(emsp, "/x/cdrs/9")

    posted = await node.send(cpo, "POST", CDRS, to=emsp, body='{"id": "CDR9"}', headers=JSON)
    assert_success(posted)
    assert posted.headers["Location"].startswith(proxy_prefix(node))

    fetched = await node.send(cpo, "GET", posted.headers["Location"], to=emsp)
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
    node: HubUnderTest,
) -> None:
    """The CPO posts the CommandResult while the command request is still open."""
    cpo, emsp = await connect_pair(node)
    result_path = "/scpi/emsp/2.2/commands/START_SESSION/42"
    original = emsp.base_url + result_path
    result = b'{"result":"ACCEPTED"}'
    emsp_answer = json.dumps(ok({"thanks": True})).encode()
    delivered = asyncio.Event()
    order: list[str] = []
    callback: dict[str, Any] = {}

    def emsp_takes_result(received: Received) -> Any:
        order.append("result delivered")
        delivered.set()
        return response(200, emsp_answer, JSON)

    async def cpo_answers_command(received: Received) -> Any:
        proxy_url = received.json()["response_url"]
        callback["url"] = proxy_url
        callback["response"] = await node.send(
            cpo, "POST", proxy_url, to=emsp, body=result, headers=JSON
        )
        await delivered.wait()
        order.append("callback answered")
        return answer({"result": "ACCEPTED", "timeout": 30})

    emsp.on("POST", result_path, emsp_takes_result)
    cpo.on("POST", cpo.endpoint_path("commands", "RECEIVER"), cpo_answers_command)

    got = await node.send(emsp, "POST", COMMANDS, to=cpo, body=start_session(original))
    order.append("command answered")

    assert_success(got)
    assert got.json()["data"] == {"result": "ACCEPTED", "timeout": 30}
    assert order == ["result delivered", "callback answered", "command answered"]
    # The CPO saw a node URL, and not one other byte changed.
    command = cpo.module_requests()[0]
    assert command.path == cpo.endpoint_path("commands", "RECEIVER") + "/START_SESSION"
    assert callback["url"].startswith(proxy_prefix(node))
    assert command.body == start_session(callback["url"])
    # The eMSP got the result at its own URL, from the CPO, and the CPO got the eMSP's answer.
    (result_request,) = [r for r in emsp.module_requests() if r.path == result_path]
    assert (result_request.method, result_request.query, result_request.body) == (
        "POST",
        "",
        result,
    )
    assert result_request.headers["Authorization"] == f"Token {emsp.token_b}"
    headers = lower_keys(result_request.headers)
    assert (headers["scpi-from-party-id"], headers["scpi-to-party-id"]) == ("CPO", "MSP")
    assert callback["response"].status == 200
    assert callback["response"].body == emsp_answer


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('{"location_id": "LOC1", "token": {"uid": "1"}}', id="missing"),
        pytest.param('{"response_url": "not a url", "location_id": "LOC1"}', id="not-a-url"),
        pytest.param('{"response_url": 42, "location_id": "LOC1"}', id="not-a-string"),
    ],
)
async def test_command_without_a_usable_response_url_is_rejected(
    node: HubUnderTest, body: str
) -> None:
    cpo, emsp = await connect_pair(node)
    got = await node.send(emsp, "POST", COMMANDS, to=cpo, body=body, headers=JSON)
    assert_error(got, 200, 2001)
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
    node: HubUnderTest,
    method: str,
    build: Callable[[str], tuple[str, bytes | None]],
    result: bytes,
) -> None:
    """The CPO gets a node response_url (nothing else changed) and its result is delivered."""
    cpo, emsp = await connect_pair(node)
    result_path = f"/scpi/emsp/2.2/chargingprofiles/result/{method.lower()}-7"
    original = f"{emsp.base_url}{result_path}?ref=a%2Fb"
    path, body = build(original)

    got = await node.send(emsp, method, path, to=cpo, body=body or b"")
    assert_success(got)

    forwarded = cpo.module_requests()[-1]
    proxy_url = response_url_of(forwarded)
    assert proxy_url.startswith(proxy_prefix(node))
    expected_path, expected_body = build(proxy_url)
    tail, _, expected_query = expected_path.partition("?")
    assert forwarded.method == method
    assert forwarded.path == (
        cpo.endpoint_path("chargingprofiles", "RECEIVER") + tail[len(PROFILES) :]
    )
    assert forwarded.query == expected_query
    assert forwarded.body == (expected_body or b"")

    posted = await node.send(cpo, "POST", proxy_url, to=emsp, body=result, headers=JSON)
    assert_success(posted)
    delivered = emsp.module_requests()[-1]
    assert (delivered.method, delivered.path, delivered.query) == ("POST", result_path, "ref=a%2Fb")
    assert delivered.body == result
    assert delivered.headers["Authorization"] == f"Token {emsp.token_b}"


# ---------------------------------------------------------------- 5. durability


async def test_proxies_and_tokens_survive_a_node_restart(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    paginate(cpo)
    page2_url = next_url(await node.send(emsp, "GET", LOCATIONS, to=cpo))
    result_path = "/scpi/emsp/2.2/commands/START_SESSION/7"
    command = await node.send(
        emsp, "POST", COMMANDS, to=cpo, body=start_session(emsp.base_url + result_path)
    )
    assert_success(command)
    proxy_url = response_url_of(cpo.module_requests()[-1])

    await restart(node)

    for party in (cpo, emsp):  # what GET /scpi/2.2/credentials with its TOKEN_C checks
        assert (await node.caller(party)).token == party.token_c
    posted = await node.send(
        cpo, "POST", proxy_url, to=emsp, body=b'{"result":"ACCEPTED"}', headers=JSON
    )
    assert_success(posted)
    delivered = emsp.module_requests()[-1]
    assert (delivered.path, delivered.body) == (result_path, b'{"result":"ACCEPTED"}')

    second = await node.send(emsp, "GET", page2_url, to=cpo)
    assert_success(second)
    assert cpo.module_requests()[-1].query == f"offset=2&limit=2&{UNTIL}"
    assert ids(second) == ["LOC2", "LOC3"]
    assert next_url(second).startswith(proxy_prefix(node))


# ---------------------------------------------------------------- 6. token forms


async def test_base64_token_party_is_routed_and_gets_base64_token_b(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    b64 = await node.connect("DE", "B64", Role.EMSP, base64_tokens=True)

    sent = await node.send(b64, "GET", f"{LOCATIONS}/LOC1", to=cpo)
    assert_success(sent)
    assert cpo.module_requests()[-1].path == cpo.endpoint_path("locations", "SENDER") + "/LOC1"

    received = await node.send(cpo, "GET", "/scpi/sender/2.2/tokens?limit=1", to=b64)
    assert_success(received)
    got = b64.module_requests()[-1]
    assert (got.path, got.query) == (b64.endpoint_path("tokens", "SENDER"), "limit=1")
    expected = base64.b64encode(b64.token_b.encode()).decode()
    assert got.headers["Authorization"] == f"Token {expected}"
