"""The custom configuration module `scnrules` on a running node: every endpoint with its exact
answers, who may call it, where it is served and advertised, and what the rules do to routed
requests from this node and from a peer (OCN scenario 9 and its bugs)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from aiohttp import web

from scn_node.scpi.party import Role
from tests.node.conftest import Network
from tests.node.parties import FakeParty, Received, ok

PATHS = (
    "/scpi/2.2/scnrules",
    "/ocpi/2.2/scnrules",
    "/ocpi/receiver/2.2/ocnrules",  # OCN's spellings, for its tools
    "/ocpi/2.2/receiver/ocnrules",
)
RULES = PATHS[0]
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")  # the node's, or a party's
NONE = {
    "signatures": False,
    "whitelist": {"active": False, "list": []},
    "blacklist": {"active": False, "list": []},
}
LOCATIONS = "/scpi/sender/2.2/locations/1"
LITE = "/scpi/custom/sender/lite-locations"


def expect(response: httpx.Response, http_status: int, status_code: int, message: str = "") -> Any:
    """Assert an SCPI envelope's HTTP status, status_code and message; return it."""
    assert response.status_code == http_status, response.text
    body = response.json()
    assert body["status_code"] == status_code, body
    assert TIMESTAMP.fullmatch(body["timestamp"]), body
    assert message in body.get("status_message", ""), body
    return body


def entry(party: FakeParty, *modules: str) -> dict[str, Any]:
    return {
        "country_code": party.party.country_code,
        "party_id": party.party.party_id,
        "modules": list(modules),
    }


def rules(
    *,
    signatures: bool = False,
    whitelist: list[dict[str, Any]] | None = None,
    blacklist: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The GET data for these rules; None leaves a list off."""
    return {
        "signatures": signatures,
        "whitelist": {"active": whitelist is not None, "list": whitelist or []},
        "blacklist": {"active": blacklist is not None, "list": blacklist or []},
    }


async def call(
    net: Network,
    party: FakeParty | str,
    method: str,
    path: str = RULES,
    body: Any = None,
    *,
    raw: str | None = None,
) -> httpx.Response:
    """`party` calls the node with its TOKEN_C (or `party` is the token itself)."""
    token = party if isinstance(party, str) else party.token_c
    headers = {"Authorization": f"Token {token}"}
    content = raw if raw is not None else (None if body is None else json.dumps(body))
    if content is not None:
        headers["Content-Type"] = "application/json"
    return await net.client.request(method, path, headers=headers, content=content)


async def saved(net: Network, party: FakeParty, data: dict[str, Any]) -> None:
    body = expect(await call(net, party, "GET"), 200, 1000)
    assert body["data"] == data


# ---------------------------------------------------------------- the endpoints


@pytest.mark.parametrize("path", PATHS)
async def test_each_change_answers_with_the_rules_it_saved(network: Network, path: str) -> None:
    cpo = await network.connect("DE", "CPO")
    msp = await network.start_party("DE", "MSP", Role.EMSP)
    oth = await network.start_party("NL", "OTH", Role.EMSP)

    async def change(method: str, tail: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        response = await call(network, cpo, method, path + tail, body, **kw)
        data: dict[str, Any] = expect(response, 200, 1000)["data"]
        return data

    got = expect(await call(network, cpo, "GET", path), 200, 1000)
    assert got["data"] == NONE and "status_message" not in got

    assert await change("POST", "/whitelist", entry(msp)) == rules(whitelist=[entry(msp)])
    lower = {"country_code": "nl", "party_id": "oth", "modules": ["Locations"]}
    assert await change("POST", "/whitelist", lower) == rules(
        whitelist=[entry(msp), entry(oth, "locations")]
    )
    assert await change("DELETE", "/whitelist/de/msp") == rules(whitelist=[entry(oth, "locations")])
    assert await change("DELETE", "/whitelist/NL/OTH") == rules(whitelist=[])  # still closed
    assert await change("PUT", "/whitelist", []) == NONE
    assert await change("POST", "/blacklist", entry(msp, "sessions", "cdrs")) == rules(
        blacklist=[entry(msp, "cdrs", "sessions")]
    )
    assert await change("PUT", "/blacklist", [entry(oth), entry(msp, "tokens")]) == rules(
        blacklist=[entry(oth), entry(msp, "tokens")]
    )
    assert await change("PUT", "/signatures", {"signatures": True}) == rules(
        signatures=True, blacklist=[entry(oth), entry(msp, "tokens")]
    )
    assert await change("PUT", "/signatures") == rules(blacklist=[entry(oth), entry(msp, "tokens")])
    assert await change("PUT", "/signatures") == rules(
        signatures=True, blacklist=[entry(oth), entry(msp, "tokens")]
    )
    assert await change("PUT", "/block-all") == rules(signatures=True, whitelist=[])
    assert await change("PUT", "/whitelist", [entry(msp)]) == rules(
        signatures=True, whitelist=[entry(msp)]
    )
    assert await change("PUT", "/signatures", {"signatures": False}) == rules(
        whitelist=[entry(msp)]
    )
    await saved(network, cpo, rules(whitelist=[entry(msp)]))


async def test_the_paths_share_one_set_of_rules(network: Network) -> None:
    cpo = await network.connect("DE", "CPO")
    msp = await network.start_party("DE", "MSP", Role.EMSP)
    expect(await call(network, cpo, "POST", f"{PATHS[2]}/blacklist", entry(msp)), 200, 1000)
    for path in PATHS:
        body = expect(await call(network, cpo, "GET", path), 200, 1000)
        assert body["data"] == rules(blacklist=[entry(msp)])


ENDPOINTS = [
    ("GET", ""),
    ("POST", "/whitelist"),
    ("POST", "/blacklist"),
    ("PUT", "/whitelist"),
    ("PUT", "/blacklist"),
    ("PUT", "/signatures"),
    ("PUT", "/block-all"),
    ("DELETE", "/whitelist/DE/MSP"),
    ("DELETE", "/blacklist/DE/MSP"),
]


async def test_only_a_token_c_is_let_in(network: Network) -> None:
    cpo = await network.connect("DE", "CPO")
    token_a = await network.token_a()
    for method, tail in ENDPOINTS:
        for path in (PATHS[0], PATHS[2]):
            url = path + tail
            # The body is not even read: a bad one does not change the answer.
            response = await call(network, token_a, method, url, raw="{")
            expect(response, 401, 2000, "CREDENTIALS_TOKEN_A is only valid for versions")
            response = await call(network, "no-such-token", method, url, raw="{")
            expect(response, 401, 2000, "Unknown credentials token")
            response = await network.client.request(method, url)
            expect(response, 401, 2000)
    await saved(network, cpo, NONE)


async def test_bad_requests_change_nothing(network: Network) -> None:
    cpo = await network.connect("DE", "CPO")
    msp = await network.start_party("DE", "MSP", Role.EMSP)
    expect(await call(network, cpo, "POST", f"{RULES}/blacklist", entry(msp)), 200, 1000)
    before = rules(blacklist=[entry(msp)])

    cases: list[tuple[str, str, dict[str, Any], int, int, str]] = [
        ("POST", "/blacklist", {"raw": "{not json"}, 400, 2001, "Request body is not valid JSON"),
        ("POST", "/blacklist", {"raw": ""}, 400, 2001, "Request body is not valid JSON"),
        ("PUT", "/blacklist", {"raw": "[{"}, 400, 2001, "Request body is not valid JSON"),
        ("PUT", "/signatures", {"raw": "nope"}, 400, 2001, "Request body is not valid JSON"),
        ("POST", "/blacklist", {"body": [entry(msp)]}, 200, 2001, "A rule entry is an object"),
        (
            "POST",
            "/blacklist",
            {"body": {"country_code": "DEU", "party_id": "MSP"}},
            200,
            2001,
            "Rule entry: country code 'DEU' must be two letters",
        ),
        (
            "POST",
            "/blacklist",
            {"body": {**entry(msp), "modules": [""]}},
            200,
            2001,
            "Rule entry modules must be a list of module identifiers",
        ),
        (
            "POST",
            "/blacklist",
            {"body": entry(msp, "cdrs")},
            200,
            2001,
            "DE MSP is already on your blacklist",
        ),
        (
            "POST",
            "/whitelist",
            {"body": entry(msp)},
            200,
            2001,
            "Your blacklist is active: a whitelist and a blacklist cannot be active",
        ),
        (
            "PUT",
            "/whitelist",
            {"body": [entry(msp)]},
            200,
            2001,
            "cannot be active at the same time",
        ),
        ("PUT", "/blacklist", {"body": entry(msp)}, 200, 2001, "A rule list is a JSON array"),
        (
            "PUT",
            "/blacklist",
            {"body": [entry(msp), entry(msp, "cdrs")]},
            200,
            2001,
            "DE MSP is listed twice",
        ),
        (
            "PUT",
            "/blacklist",
            {"body": [entry(msp), {"party_id": "OTH"}]},
            200,
            2001,
            "A rule entry needs country_code and party_id strings",
        ),
        (
            "PUT",
            "/signatures",
            {"body": {"signatures": "yes"}},
            200,
            2001,
            'PUT signatures takes {"signatures": true|false} or no body',
        ),
        ("DELETE", "/whitelist/DE/MSP", {}, 200, 2001, "Your whitelist is not active"),
        ("DELETE", "/blacklist/NL/OTH", {}, 404, 2000, "NL OTH is not on your blacklist"),
        ("DELETE", "/blacklist/DEU/MSP", {}, 200, 2001, "Rule entry: country code 'DEU'"),
    ]
    for method, tail, kw, http_status, status_code, message in cases:
        response = await call(network, cpo, method, RULES + tail, **kw)
        expect(response, http_status, status_code, message)
        await saved(network, cpo, before)


async def test_other_methods_and_paths_are_refused(network: Network) -> None:
    cpo = await network.connect("DE", "CPO")
    expect(await call(network, cpo, "PATCH", RULES), 405, 2000, "PATCH is not allowed here")
    expect(await call(network, cpo, "GET", f"{RULES}/whitelist"), 405, 2000)
    expect(await call(network, cpo, "POST", f"{RULES}/block-all"), 405, 2000)
    expect(await call(network, cpo, "PUT", f"{RULES}/greylist", []), 404, 2000)
    expect(await call(network, cpo, "GET", "/scpi/receiver/2.2/ocnrules"), 404, 2000)
    await saved(network, cpo, NONE)


@pytest.mark.parametrize("prefix", ["scpi", "ocpi"])
async def test_the_module_is_advertised_where_it_is_served(network: Network, prefix: str) -> None:
    cpo = await network.connect("DE", "CPO")
    response = await call(network, cpo, "GET", f"/{prefix}/2.2")
    endpoints = expect(response, 200, 1000)["data"]["endpoints"]
    found = [e for e in endpoints if e["identifier"] == "scnrules"]
    assert found == [
        {
            "identifier": "scnrules",
            "role": "RECEIVER",
            "url": f"{network.url}/{prefix}/2.2/scnrules",
        }
    ]
    served = await network.client.get(
        found[0]["url"], headers={"Authorization": cpo.authorization()}
    )
    assert expect(served, 200, 1000)["data"] == NONE


async def test_regression_block_all_by_one_party_leaves_the_others_rules(
    network: Network,
) -> None:
    """OCN's block-all wiped the rule lists of every platform on the node."""
    cpo = await network.connect("DE", "CPO")
    msp = await network.connect("DE", "MSP", Role.EMSP)
    oth = await network.connect("NL", "OTH", Role.EMSP)
    expect(await call(network, cpo, "POST", f"{RULES}/blacklist", entry(oth)), 200, 1000)
    expect(await call(network, msp, "POST", f"{RULES}/whitelist", entry(cpo)), 200, 1000)
    blocked = expect(await call(network, msp, "PUT", f"{RULES}/block-all"), 200, 1000)
    assert blocked["data"] == rules(whitelist=[])
    await saved(network, cpo, rules(blacklist=[entry(oth)]))
    # ... and they still act: CPO still refuses OTH and takes MSP.
    refused = await network.send(oth, "GET", LOCATIONS, to=cpo)
    expect(refused, 200, 2000, "on its blacklist")
    expect(await network.send(msp, "GET", LOCATIONS, to=cpo), 200, 1000)
    expect(await network.send(cpo, "GET", LOCATIONS, to=msp), 200, 2000, "not on its whitelist")


async def test_regression_already_listed_is_per_party(network: Network) -> None:
    """OCN checked 'Party already on OCN Rules whitelist' across all platforms."""
    cpo = await network.connect("DE", "CPO")
    cpb = await network.connect("CH", "CPB")
    msp = await network.start_party("DE", "MSP", Role.EMSP)
    for party in (cpo, cpb):
        response = await call(network, party, "POST", f"{RULES}/whitelist", entry(msp))
        assert expect(response, 200, 1000)["data"] == rules(whitelist=[entry(msp)])


async def test_a_replaced_token_c_cannot_change_rules(network: Network) -> None:
    cpo = await network.connect("DE", "CPO")
    old = cpo.token_c
    updated = await network.client.put(
        "/scpi/2.2/credentials",
        headers={"Authorization": cpo.authorization()},
        content=json.dumps(cpo.credentials()),
    )
    cpo.token_c = expect(updated, 200, 1000)["data"]["token"]
    expect(await call(network, old, "PUT", f"{RULES}/block-all"), 401, 2000)
    await saved(network, cpo, NONE)


# ---------------------------------------------------------------- what rules do to routing


def arrived(party: FakeParty) -> list[str]:
    return [r.path for r in party.module_requests()]


async def test_a_blacklisted_sender_is_refused_and_the_receiver_gets_nothing(
    network: Network,
) -> None:
    cpo = await network.connect("DE", "CPO")
    msp = await network.connect("DE", "MSP", Role.EMSP)
    oth = await network.connect("NL", "OTH", Role.EMSP)
    expect(await call(network, cpo, "POST", f"{RULES}/blacklist", entry(msp)), 200, 1000)
    for path in (LOCATIONS, "/scpi/sender/2.2/tariffs", "/ocpi/sender/2.2/sessions"):
        refused = await network.send(msp, "GET", path, to=cpo)
        expect(refused, 200, 2000, "Receiver DE CPO does not accept")
        assert "data" not in refused.json()
    assert arrived(cpo) == []
    expect(await network.send(oth, "GET", LOCATIONS, to=cpo), 200, 1000)
    assert arrived(cpo) == [cpo.endpoint_path("locations", "SENDER") + "/1"]


async def test_9_blacklisting_one_module_refuses_only_that_module(network: Network) -> None:
    """OCN scenario 9, and the regression: OCN refused every module of that sender."""
    cpo = await network.connect("DE", "CPO", custom_modules=("lite-locations",))
    msp = await network.connect("DE", "MSP", Role.EMSP)
    body = entry(msp, "lite-locations")
    expect(await call(network, cpo, "POST", f"{RULES}/blacklist", body), 200, 1000)
    refused = await network.send(msp, "GET", LITE, to=cpo)
    expect(refused, 200, 2000, "does not accept lite-locations requests from DE MSP")
    assert arrived(cpo) == []
    expect(await network.send(msp, "GET", LOCATIONS, to=cpo), 200, 1000)
    assert arrived(cpo) == [cpo.endpoint_path("locations", "SENDER") + "/1"]


async def test_a_whitelist_lets_in_only_its_parties_and_modules(network: Network) -> None:
    cpo = await network.connect("DE", "CPO")
    msp = await network.connect("DE", "MSP", Role.EMSP)
    oth = await network.connect("NL", "OTH", Role.EMSP)
    expect(
        await call(network, cpo, "POST", f"{RULES}/whitelist", entry(msp, "locations")), 200, 1000
    )
    expect(await network.send(msp, "GET", LOCATIONS, to=cpo), 200, 1000)
    refused = await network.send(msp, "GET", "/scpi/sender/2.2/tariffs", to=cpo)
    expect(refused, 200, 2000, "not on its whitelist for that module")
    expect(await network.send(oth, "GET", LOCATIONS, to=cpo), 200, 2000, "not on its whitelist")
    assert arrived(cpo) == [cpo.endpoint_path("locations", "SENDER") + "/1"]

    # Block all, then open up again with an empty whitelist.
    expect(await call(network, cpo, "PUT", f"{RULES}/block-all"), 200, 1000)
    expect(await network.send(msp, "GET", LOCATIONS, to=cpo), 200, 2000)
    expect(await call(network, cpo, "PUT", f"{RULES}/whitelist", []), 200, 1000)
    expect(await network.send(oth, "GET", LOCATIONS, to=cpo), 200, 1000)
    assert len(arrived(cpo)) == 2


async def test_the_senders_own_rules_do_not_stop_its_requests(network: Network) -> None:
    cpo = await network.connect("DE", "CPO")
    msp = await network.connect("DE", "MSP", Role.EMSP)
    expect(await call(network, msp, "PUT", f"{RULES}/block-all"), 200, 1000)
    expect(await network.send(msp, "GET", LOCATIONS, to=cpo), 200, 1000)


async def test_rules_refuse_a_sender_on_a_peer_node(peers: tuple[Network, Network]) -> None:
    one, two = peers
    cpo = await one.connect("DE", "CPO", custom_modules=("lite-locations",))
    msp = await two.connect("DE", "MSP", Role.EMSP)
    expect(
        await call(one, cpo, "POST", f"{RULES}/blacklist", entry(msp, "lite-locations")), 200, 1000
    )
    refused = await two.send(msp, "GET", LITE, to=cpo)
    expect(refused, 200, 2000, "does not accept lite-locations requests from DE MSP")
    assert arrived(cpo) == []
    expect(await two.send(msp, "GET", LOCATIONS, to=cpo), 200, 1000)
    assert arrived(cpo) == [cpo.endpoint_path("locations", "SENDER") + "/1"]


async def test_a_blacklisted_sender_cannot_use_node_urls_it_was_given_before(
    network: Network,
) -> None:
    cpo = await network.connect("DE", "CPO")
    msp = await network.connect("DE", "MSP", Role.EMSP)
    page_two = cpo.endpoint("locations", "SENDER") + "?offset=1"

    async def first_page(request: web.Request, received: Received) -> web.StreamResponse:
        return web.json_response(ok([{"id": "1"}]), headers={"Link": f'<{page_two}>; rel="next"'})

    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), first_page)
    listed = await network.send(msp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    next_page = re.fullmatch(r"<([^>]+)>; rel=\"next\"", listed.headers["Link"])
    assert next_page is not None
    expect(await call(network, cpo, "POST", f"{RULES}/blacklist", entry(msp)), 200, 1000)
    before = len(arrived(cpo))

    refused = await network.send(msp, "GET", next_page.group(1), to=cpo)

    expect(refused, 200, 2000, "Receiver DE CPO does not accept locations requests")
    assert len(arrived(cpo)) == before


async def test_a_rule_list_holds_at_most_500_parties(network: Network) -> None:
    cpo = await network.connect("DE", "CPO")
    many = [{"country_code": "NL", "party_id": f"{n:03d}"} for n in range(501)]
    expect(await call(network, cpo, "PUT", f"{RULES}/whitelist", many), 200, 2001, "at most 500")
    full = expect(await call(network, cpo, "PUT", f"{RULES}/whitelist", many[:500]), 200, 1000)
    assert len(full["data"]["whitelist"]["list"]) == 500
    one_more = await call(network, cpo, "POST", f"{RULES}/whitelist", many[500])
    expect(one_more, 200, 2001, "at most 500")
    listing = await network.client.get(
        "/scpi/2.2/hubclientinfo", headers={"Authorization": f"Token {cpo.token_c}"}
    )
    expect(listing, 200, 1000)
