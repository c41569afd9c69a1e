"""URLs the node hides behind its own, followed to the end over the fakes: pagination Link and
CDR Location (response_url: test_rewrites_response_url.py).

The party that gets a node URL calls it, and the party that made the original URL receives
exactly that URL's request. Also: parties that take Base64 tokens are routed. (The OCPI
dialect, header case and message-id echo are the web adapter's: tests/node/test_rewrites.py.)
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import parse_qs

from scn_node.scpi.party import Role
from tests.fakes.backoffice import FakeBackoffice, Received, answer
from tests.fakes.hub import Answer, HubUnderTest
from tests.fakes.transport import response

LOCATIONS = "/scpi/sender/2.2/locations"
CDRS = "/scpi/receiver/2.2/cdrs"
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


# ---------------------------------------------------------------- 3. token forms


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
