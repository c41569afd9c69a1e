"""GET All via the hub, over its sources: an eMSP's one list of every CPO's CDRs or sessions.

DE MSP (the eMSP) and the CPOs DE CPA and DE CPB are on node A; NL CPC is on node B. Each CPO
serves its list in pages whose Link names its next one (`?page=N`). What each source got, and
what the eMSP got page by page, is asserted as they see it.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest

from scn_node.hub import get_all as get_all_module
from scn_node.hub.model import PartyResponse
from scn_node.hub.rules import ListKind, PartyRules, RuleEntry
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.errors import ReceiverTimeout
from scn_node.scpi.pagination import next_link
from scn_node.scpi.party import Role
from tests.fakes.backoffice import FakeBackoffice, Received, ok
from tests.fakes.hub import Answer, HubUnderTest
from tests.fakes.transport import response

QUERY = "date_from=2019-01-28T12:00:00Z&date_to=2019-01-29T12%3A00%3A00Z&offset=5&limit=50"
PASSED_ON = "date_from=2019-01-28T12%3A00%3A00Z&date_to=2019-01-29T12%3A00%3A00Z&limit=50"
Nodes = tuple[HubUnderTest, HubUnderTest]


def page_bytes(party: FakeBackoffice, number: int, items: int) -> bytes:
    """A page as the party writes it: bytes a JSON re-serialiser would not reproduce."""
    data = ", ".join(
        f'{{"id" : "{party.party.party_id}-{number}-{i}", "kwh":1.0, "s":"\\u00fc"}}'
        for i in range(items)
    )
    return (
        f'{{"status_code" : 1000, "data": [{data}],\n "timestamp":"2026-11-23T10:00:00.1Z"}}'
    ).encode()


def serve_pages(party: FakeBackoffice, module: str, sizes: list[int]) -> list[bytes]:
    """The party's list of `module` in pages of `sizes`; each page's Link names the next."""
    bodies = [page_bytes(party, number, size) for number, size in enumerate(sizes)]

    def respond(got: Received) -> PartyResponse:
        number = int(dict(parse_qsl(got.query)).get("page", "0"))
        headers = {
            "Content-Type": "application/json",
            "X-Total-Count": str(sum(sizes)),
            "X-Limit": "2",
        }
        if number + 1 < len(bodies):
            headers["Link"] = f'<{party.endpoint(module, "SENDER")}?page={number + 1}>; rel="next"'
        return response(200, bodies[number], headers)

    party.on("GET", party.endpoint_path(module, "SENDER"), respond)
    return bodies


async def parties(
    nodes: Nodes,
) -> tuple[FakeBackoffice, FakeBackoffice, FakeBackoffice, FakeBackoffice]:
    one, two = nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpa = await one.connect("DE", "CPA")
    cpb = await one.connect("DE", "CPB")
    cpc = await two.connect("NL", "CPC")
    return emsp, cpa, cpb, cpc


async def get_all(
    node: HubUnderTest, emsp: FakeBackoffice, module: str = "cdrs", query: str = QUERY
) -> Answer:
    return await node.send(emsp, "GET", f"/scpi/sender/2.2/{module}?{query}", to=NODE_PARTY)


async def follow(node: HubUnderTest, emsp: FakeBackoffice, got: Answer) -> Answer:
    link = next_link(got.headers.get("Link"))
    assert link is not None
    return await node.send(emsp, "GET", link, to=NODE_PARTY)


def from_hub(got: Answer, to: FakeBackoffice) -> None:
    for family in ("SCPI", "OCPI"):
        assert got.headers[f"{family}-from-country-code"] == "DE"
        assert got.headers[f"{family}-from-party-id"] == "SCN"
        assert got.headers[f"{family}-to-country-code"] == to.party.country_code
        assert got.headers[f"{family}-to-party-id"] == to.party.party_id


def list_requests(party: FakeBackoffice, module: str) -> list[Received]:
    path = party.endpoint_path(module, "SENDER")
    return [r for r in party.module_requests() if r.path == path]


@pytest.mark.parametrize("module", ["cdrs", "sessions"])
async def test_each_source_is_asked_as_the_requester_asks_it(two_nodes: Nodes, module: str) -> None:
    emsp, *cpos = await parties(two_nodes)
    for cpo in cpos:
        serve_pages(cpo, module, [1])

    got = await get_all(two_nodes[0], emsp, module)

    assert got.status_code == 1000
    for cpo in cpos:
        (asked,) = list_requests(cpo, module)
        assert asked.method == "GET"
        # The requester's filters and limit; not its offset, which is into the hub's list.
        assert asked.query == PASSED_ON
        assert asked.headers["SCPI-from-country-code"] == "DE"
        assert asked.headers["SCPI-from-party-id"] == "MSP"
        assert asked.headers["SCPI-to-country-code"] == cpo.party.country_code
        assert asked.headers["SCPI-to-party-id"] == cpo.party.party_id
        assert asked.headers["X-Correlation-ID"] == "corr-1"
        assert asked.body == b""


async def test_pages_follow_every_source_in_order_byte_for_byte(two_nodes: Nodes) -> None:
    one, _ = two_nodes
    emsp, cpa, cpb, cpc = await parties(two_nodes)
    expected = [
        *serve_pages(cpa, "cdrs", [2, 1]),  # a source with two pages of its own
        *serve_pages(cpb, "cdrs", [2]),
        *serve_pages(cpc, "cdrs", [2, 2]),  # on the other node: its Link is node B's
    ]

    pages = [await get_all(one, emsp)]
    while "Link" in pages[-1].headers:
        link = next_link(pages[-1].headers["Link"])
        assert link is not None and link.startswith(f"{one.url}/scpi/2.2/proxy/")
        pages.append(await follow(one, emsp, pages[-1]))

    assert [page.body for page in pages] == expected
    for page in pages:
        assert page.status == 200
        assert page.headers["X-Total-Count"] == "9"  # 3 + 2 + 4
        assert page.headers["X-Limit"] == "1000"
        assert page.headers["Content-Type"] == "application/json"
        assert page.headers["X-Request-ID"] == "req-1"
        from_hub(page, emsp)
    # Every first page is asked for once, at once (for the totals), and relayed in its turn;
    # then each source's next pages.
    assert [r.query for r in list_requests(cpa, "cdrs")] == [PASSED_ON, "page=1"]
    assert [r.query for r in list_requests(cpb, "cdrs")] == [PASSED_ON]
    assert [r.query for r in list_requests(cpc, "cdrs")] == [PASSED_ON, "page=1"]
    assert list_requests(cpc, "cdrs")[1].headers["SCPI-from-party-id"] == "MSP"


async def test_a_source_with_an_empty_first_page_is_passed_over(two_nodes: Nodes) -> None:
    one, _ = two_nodes
    emsp, cpa, cpb, cpc = await parties(two_nodes)
    serve_pages(cpa, "cdrs", [0])
    second = serve_pages(cpb, "cdrs", [1])
    serve_pages(cpc, "cdrs", [0])

    first = await get_all(one, emsp)

    assert first.body == second[0]
    assert first.headers["X-Total-Count"] == "1"
    # The last source still has its turn: it is read on the next page (empty, the last one).
    last = await follow(one, emsp, first)
    assert last.json()["data"] == []
    assert "Link" not in last.headers


async def test_no_source_is_an_empty_list(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    await node.connect("DE", "MSX", Role.EMSP)  # the same role: not a source

    got = await get_all(node, emsp)

    assert (got.status, got.status_code, got.json()["data"]) == (200, 1000, [])
    assert got.headers["X-Total-Count"] == "0"
    assert got.headers["X-Limit"] == "1000"
    assert "Link" not in got.headers
    from_hub(got, emsp)


async def test_a_source_down_fails_the_whole_page_naming_it(two_nodes: Nodes) -> None:
    one, two = two_nodes
    emsp, cpa, cpb, cpc = await parties(two_nodes)
    for cpo in (cpa, cpb, cpc):
        serve_pages(cpo, "cdrs", [1])
    one.network.drop(cpb.base_url)

    got = await get_all(one, emsp)

    assert (got.status, got.status_code) == (200, 4003)
    assert "DE CPB" in got.json()["status_message"]
    assert "data" not in got.json()
    from_hub(got, emsp)

    # A source's node down is the same: never a list without it.
    one.network.serve(cpb.base_url, cpb.handle)
    one.network.drop(two.url)
    down = await get_all(one, emsp)
    assert down.status_code == 4003 and "NL CPC" in down.json()["status_message"]


async def test_a_source_down_on_a_later_page_fails_that_page(two_nodes: Nodes) -> None:
    one, _ = two_nodes
    emsp, cpa, cpb, cpc = await parties(two_nodes)
    for cpo, sizes in ((cpa, [1]), (cpb, [1, 1]), (cpc, [1])):
        serve_pages(cpo, "cdrs", sizes)

    first = await get_all(one, emsp)
    one.network.drop(cpb.base_url)
    second = await follow(one, emsp, first)  # CPB's first page, as fetched for the totals
    assert second.status_code == 1000 and second.json()["data"][0]["id"] == "CPB-0-0"
    third = await follow(one, emsp, second)  # CPB's second page: CPB is down by now

    assert third.status_code == 4003 and "DE CPB" in third.json()["status_message"]
    assert "data" not in third.json() and "Link" not in third.headers


async def test_a_source_timing_out_fails_the_page_with_4002(two_nodes: Nodes) -> None:
    one, _ = two_nodes
    emsp, cpa, cpb, cpc = await parties(two_nodes)
    for cpo in (cpa, cpc):
        serve_pages(cpo, "cdrs", [1])

    def late(_: Received) -> PartyResponse:
        raise ReceiverTimeout("did not answer in time")

    cpb.on("GET", cpb.endpoint_path("cdrs", "SENDER"), late)

    got = await get_all(one, emsp)

    assert got.status_code == 4002
    assert "DE CPB" in got.json()["status_message"]
    assert "data" not in got.json()


@pytest.mark.parametrize(
    ("status", "envelope", "said"),
    [
        (200, ok(status_code=2001), "status_code 2001"),
        (200, ok(status_code=3000), "status_code 3000"),
        (500, ok(status_code=1000, data=[]), "HTTP 500"),
        (200, ok(data={"id": "one"}), "status_code 1000"),  # not a list
    ],
)
async def test_a_source_answering_an_error_fails_the_page_naming_it(
    two_nodes: Nodes, status: int, envelope: dict[str, object], said: str
) -> None:
    one, _ = two_nodes
    emsp, cpa, cpb, cpc = await parties(two_nodes)
    serve_pages(cpa, "cdrs", [1])
    serve_pages(cpb, "cdrs", [1])
    cpc.on(
        "GET",
        cpc.endpoint_path("cdrs", "SENDER"),
        lambda _: response(status, json.dumps(envelope).encode()),
    )

    got = await get_all(one, emsp)

    assert got.status_code == 4000
    message = got.json()["status_message"]
    assert "NL CPC" in message and said in message
    assert "data" not in got.json()


async def test_a_source_whose_rules_block_the_requester_is_left_out(two_nodes: Nodes) -> None:
    one, two = two_nodes
    emsp, cpa, cpb, cpc = await parties(two_nodes)
    expected = serve_pages(cpa, "cdrs", [1])
    serve_pages(cpb, "cdrs", [1])
    serve_pages(cpc, "cdrs", [1])
    blacklist = PartyRules(active=ListKind.BLACKLIST, entries=(RuleEntry(emsp.party),))
    await one.set_rules(cpb, blacklist)  # here: the hub leaves it out
    await two.set_rules(cpc, blacklist)  # on node B: node B refuses the leg

    got = await get_all(one, emsp)

    assert got.body == expected[0]
    assert got.headers["X-Total-Count"] == "1"
    assert "Link" not in got.headers
    assert list_requests(cpb, "cdrs") == [] and list_requests(cpc, "cdrs") == []


async def test_a_blacklist_for_another_module_does_not_leave_a_source_out(
    node: HubUnderTest,
) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpa = await node.connect("DE", "CPA")
    expected = serve_pages(cpa, "cdrs", [1])
    entry = RuleEntry(emsp.party, frozenset({"sessions"}))
    await node.set_rules(cpa, PartyRules(active=ListKind.BLACKLIST, entries=(entry,)))

    got = await get_all(node, emsp)

    assert got.body == expected[0]


async def test_a_party_relaying_its_own_2000_fails_the_page(two_nodes: Nodes) -> None:
    """Only the source's node's own refusal leaves a source out, not a party's answer."""
    one, _ = two_nodes
    emsp, cpa, cpb, cpc = await parties(two_nodes)
    serve_pages(cpa, "cdrs", [1])
    serve_pages(cpb, "cdrs", [1])
    said = ok(status_code=2000)
    said["status_message"] = "Receiver NL CPC does not accept cdrs requests from DE MSP"
    cpc.on(
        "GET",
        cpc.endpoint_path("cdrs", "SENDER"),
        lambda _: response(200, json.dumps(said).encode()),
    )

    got = await get_all(one, emsp)

    assert got.status_code == 4000 and "NL CPC" in got.json()["status_message"]


async def test_a_role_without_counterparts_is_refused_with_2001(node: HubUnderTest) -> None:
    nap = await node.connect("DE", "NAP", Role.NAP)
    await node.connect("DE", "CPA")

    got = await get_all(node, nap)

    assert got.status_code == 2001
    assert "GET All via the hub is for parties in the roles" in got.json()["status_message"]


async def test_a_cursor_is_only_the_requesters(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    other = await node.connect("DE", "MSX", Role.EMSP)
    cpa = await node.connect("DE", "CPA")
    cpb = await node.connect("DE", "CPB")
    serve_pages(cpa, "cdrs", [1])
    serve_pages(cpb, "cdrs", [1])
    first = await get_all(node, emsp)
    link = next_link(first.headers["Link"])
    assert link is not None

    stolen = await node.send(other, "GET", link, to=NODE_PARTY)
    to_a_party = await node.send(emsp, "GET", link, to=cpa)

    for refused in (stolen, to_a_party):
        assert (refused.status, refused.status_code) == (404, 2000)
        assert "No proxied resource" in refused.json()["status_message"]
    assert len(list_requests(cpb, "cdrs")) == 1  # the probe only


async def test_a_party_proxy_is_no_cursor(node: HubUnderTest) -> None:
    """A source's own Link proxy (party to party) cannot be followed TO the hub."""
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpa = await node.connect("DE", "CPA")
    serve_pages(cpa, "cdrs", [1, 1])
    direct = await node.send(emsp, "GET", "/scpi/sender/2.2/cdrs", to=cpa)
    link = next_link(direct.headers["Link"])
    assert link is not None

    got = await node.send(emsp, "GET", link, to=NODE_PARTY)

    assert (got.status, got.status_code) == (404, 2000)


async def test_the_ocpi_header_family_works_the_same(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpa = await node.connect("DE", "CPA")
    cpb = await node.connect("DE", "CPB")
    expected = [*serve_pages(cpa, "sessions", [1]), *serve_pages(cpb, "sessions", [1])]
    path = f"/scpi/sender/2.2/sessions?{QUERY}"

    first = await node.send_as_is("GET", path, node.headers(emsp, NODE_PARTY, family="OCPI"))
    link = next_link(first.headers["Link"])
    assert link is not None
    second = await node.send_as_is("GET", link, node.headers(emsp, NODE_PARTY, family="OCPI"))

    assert [first.body, second.body] == expected
    for got in (first, second):
        from_hub(got, emsp)
    assert list_requests(cpa, "sessions")[0].headers["OCPI-from-party-id"] == "MSP"


async def test_a_source_without_a_total_counts_its_first_page(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpa = await node.connect("DE", "CPA")
    cpb = await node.connect("DE", "CPB")
    serve_pages(cpa, "cdrs", [2])
    body = page_bytes(cpb, 0, 3)
    cpb.on("GET", cpb.endpoint_path("cdrs", "SENDER"), lambda _: response(200, body))

    got = await get_all(node, emsp)

    assert got.headers["X-Total-Count"] == "5"  # 2, and CPB's 3 objects
    last = await follow(node, emsp, got)
    assert last.body == body and "Link" not in last.headers


async def test_a_first_page_kept_past_its_time_is_asked_for_again(
    two_nodes: Nodes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page fetched for the totals stands in for the source's first page only briefly:
    a sync that stalls gets the source's page as it is by then."""
    monkeypatch.setattr(get_all_module, "PROBED_SECONDS", 0.0)
    one, _ = two_nodes
    emsp, cpa, cpb, cpc = await parties(two_nodes)
    for cpo in (cpa, cpb, cpc):
        serve_pages(cpo, "cdrs", [1])
    second = await follow(one, emsp, await get_all(one, emsp))
    assert second.status_code == 1000 and second.json()["data"][0]["id"] == "CPB-0-0"
    assert [r.query for r in list_requests(cpb, "cdrs")] == [PASSED_ON, PASSED_ON]
