"""response_url (commands, chargingprofiles) followed to the end over the fakes: the receiver
gets a node URL and nothing else changed; what it posts there reaches the sender's own URL.
Also: these proxies, the Link proxies and the tokens outlive the hub's services."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote

import pytest

from scn_node.hub.node import Hub
from scn_node.store import SqlDirectory, SqlSeenMessages
from tests.fakes.backoffice import Received, answer, ok
from tests.fakes.hub import HubUnderTest
from tests.fakes.transport import response
from tests.hub.test_rewrites_followed import (
    JSON,
    LOCATIONS,
    UNTIL,
    assert_error,
    assert_success,
    connect_pair,
    ids,
    lower_keys,
    next_url,
    paginate,
    proxy_prefix,
)

COMMANDS = "/scpi/receiver/2.2/commands/START_SESSION"
PROFILES = "/scpi/receiver/2.2/chargingprofiles"


# ---------------------------------------------------------------- commands response_url

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


# ---------------------------------------------------------------- chargingprofiles response_url

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


# ---------------------------------------------------------------- durability


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
