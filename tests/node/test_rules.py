"""The custom configuration module `scnrules` on a running node: every endpoint with its exact
answers, who may call it, and where it is served and advertised.

What the rules do to routed requests, from this node and from a peer (OCN scenario 9 and its
bugs), is tested over the hub core in tests/hub/test_policy_rules.py and tests/hub/test_rules.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from scn_node.scpi.party import Role
from tests.node.conftest import Network
from tests.node.parties import FakeParty

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
