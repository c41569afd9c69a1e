"""What a sender sees when the node will not or cannot route its request, concurrency, and the
HubClientInfo list a party reads."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from scn_node.hub.model import PartyResponse
from scn_node.registry.wallet import NodeWallet
from scn_node.scpi.envelope import error_envelope
from scn_node.scpi.errors import Codes, ReceiverTimeout, ScpiError
from scn_node.scpi.pagination import Page
from scn_node.scpi.party import PartyId, Role
from tests.fakes.backoffice import FakeBackoffice, Received, answer
from tests.fakes.hub import Answer, HubUnderTest, key
from tests.hub.test_routing import connect_pair, lower, odd

DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?")
HUB_CLIENT_INFO_PAGE = 100  # as the web adapter pages GET hubclientinfo


def assert_error(got: Answer, http_status: int, status_code: int) -> str:
    """An SCPI error envelope with exactly this HTTP status and status_code; returns the message."""
    assert got.status != 500, got.body
    assert got.status == http_status, got.body
    body = got.json()
    assert body["status_code"] == status_code, body
    assert isinstance(body["status_message"], str) and body["status_message"], body
    assert DATETIME.fullmatch(body["timestamp"]), body
    return str(body["status_message"])


async def send_without(
    node: HubUnderTest,
    sender: FakeBackoffice,
    receiver: FakeBackoffice,
    path: str,
    **changes: str | None,
) -> Answer:
    """GET `path` with the usual headers, each of `changes` replaced (or removed if None)."""
    headers = lower(node.headers(sender, receiver))
    for name, value in changes.items():
        header = name.replace("_", "-").lower()
        headers.pop(header)
        if value is not None:
            headers[header] = value
    return await node.send_as_is("GET", path, headers)


# ---------------------------------------------------------------- who may send what to whom


async def test_sender_cannot_send_as_another_connected_party(node: HubUnderTest) -> None:
    """SCPI-from-* naming a party of another connection is refused: 2001 (403/2902 on SCN routes)."""
    cpo, emsp = await connect_pair(node)
    await node.connect("DE", "OTH", Role.EMSP)
    got = await node.send(
        emsp,
        "GET",
        "/scpi/sender/2.2/locations",
        to=cpo,
        headers={"SCPI-from-country-code": "DE", "SCPI-from-party-id": "OTH"},
    )
    assert_error(got, 200, 2001)
    assert cpo.module_requests() == []


@pytest.mark.parametrize(
    ("module", "sender", "tail"),
    [
        ("locations", "cpo", "/DE/MSP/LOC1"),
        ("sessions", "cpo", "/DE/MSP/SES1"),
        ("tariffs", "cpo", "/DE/MSP/TARIFF1"),
        ("tokens", "emsp", "/DE/CPO/012345678"),
    ],
)
async def test_client_owned_object_url_must_name_the_sender(
    node: HubUnderTest, module: str, sender: str, tail: str
) -> None:
    """Pushing an object whose URL names another owner is refused: 2001."""
    cpo, emsp = await connect_pair(node)
    source, target = (cpo, emsp) if sender == "cpo" else (emsp, cpo)
    path = f"/scpi/receiver/2.2/{module}{tail}"
    got = await node.send(source, "PUT", path, to=target, body=odd('"id":"X"'))
    assert_error(got, 200, 2001)
    assert target.module_requests() == []


async def test_token_a_cannot_use_a_module(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    token_a = await node.token_a()
    got = await node.send(
        emsp,
        "GET",
        "/scpi/sender/2.2/locations",
        to=cpo,
        headers={"Authorization": f"Token {token_a}"},
    )
    assert_error(got, 401, 2000)
    assert cpo.module_requests() == []


# ---------------------------------------------------------------- receivers the node cannot reach


async def test_unknown_receiver_is_4001(node: HubUnderTest) -> None:
    _, emsp = await connect_pair(node)
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=PartyId("NL", "XYZ"))
    assert_error(got, 200, 4001)


async def test_receiver_behind_an_unreachable_peer_node_is_4003_naming_that_node(
    node: HubUnderTest,
) -> None:
    _, emsp = await connect_pair(node)
    far = node.new_party("NL", "FAR", Role.CPO)
    operator = NodeWallet(key(77)).address
    far_node = "http://far.node.test"  # listed, but nobody serves it
    node.registry.set_node(operator, far_node)
    node.list_party(far, operator=operator)
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=far)
    message = assert_error(got, 200, 4003)
    assert f"The node {far_node} of receiver NL FAR could not be reached" in message
    assert far.received == []


async def test_the_hub_as_receiver_of_a_one_party_request_is_2001(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations/L1", to=PartyId("DE", "SCN"))
    message = assert_error(got, 200, 2001)
    assert "GET All" in message and "broadcast push" in message
    assert cpo.module_requests() == []


async def test_receiver_without_the_module_is_4001(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node, modules=("locations",))
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/sessions", to=cpo)
    assert_error(got, 200, 4001)  # 4900 on SCN routes
    assert cpo.module_requests() == []


async def test_receiver_down_is_4003(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    node.network.drop(cpo.base_url)
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert_error(got, 200, 4003)


async def test_receiver_too_slow_is_4002(node: HubUnderTest) -> None:
    """A receiver that answers after party_timeout gives the sender 4002, not a hang. The
    transport's deadline raises ReceiverTimeout (tests/clients/test_transport.py)."""
    cpo, emsp = await connect_pair(node)

    def past_the_deadline(_: Received) -> PartyResponse:
        raise ReceiverTimeout("did not answer in time")

    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), past_the_deadline)
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    message = assert_error(got, 200, 4002)
    assert f"Receiver DE CPO on the node {node.url} did not answer in time" in message


# ---------------------------------------------------------------- malformed requests


async def test_malformed_json_body_is_400_2001(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    got = await node.send(
        emsp,
        "POST",
        "/scpi/receiver/2.2/commands/START_SESSION",
        to=cpo,
        body='{"response_url": "x",',
    )
    assert_error(got, 400, 2001)
    assert cpo.module_requests() == []


@pytest.mark.parametrize(
    "header",
    [
        "X-Request-ID",
        "X-Correlation-ID",
        "SCPI-from-country-code",
        "SCPI-from-party-id",
        "SCPI-to-country-code",
        "SCPI-to-party-id",
    ],
)
async def test_missing_header_is_2001(node: HubUnderTest, header: str) -> None:
    cpo, emsp = await connect_pair(node)
    got = await send_without(node, emsp, cpo, "/scpi/sender/2.2/locations", **{header: None})
    assert_error(got, 200, 2001)  # 400/2900 on SCN routes
    assert cpo.module_requests() == []


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("SCPI-to-country-code", "D1"),
        ("SCPI-to-country-code", "DEU"),
        ("SCPI-from-country-code", "1E"),
        ("SCPI-to-party-id", "CPO1"),
    ],
)
async def test_invalid_routing_header_is_2001(node: HubUnderTest, header: str, value: str) -> None:
    cpo, emsp = await connect_pair(node)
    got = await send_without(node, emsp, cpo, "/scpi/sender/2.2/locations", **{header: value})
    assert_error(got, 200, 2001)  # 400/2900 on SCN routes
    assert cpo.module_requests() == []


# ---------------------------------------------------------------- concurrency


async def test_twenty_concurrent_requests_all_arrive_and_answer_correctly(
    node: HubUnderTest,
) -> None:
    """The node forwards concurrently: the CPO holds every request until all 20 have arrived."""
    cpo, emsp = await connect_pair(node)
    count = 20
    all_arrived = asyncio.Event()

    async def hold(received: Received) -> PartyResponse:
        if len(cpo.module_requests()) == count:
            all_arrived.set()
        await asyncio.wait_for(all_arrived.wait(), timeout=5)
        return answer({"path": received.path})

    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), hold)

    async def one(i: int) -> Answer:
        ids = {"X-Request-ID": f"req-{i}", "X-Correlation-ID": f"corr-{i}"}
        return await node.send(
            emsp, "GET", f"/scpi/sender/2.2/locations/LOC{i}", to=cpo, headers=ids
        )

    answers = await asyncio.gather(*(one(i) for i in range(count)))
    base = cpo.endpoint_path("locations", "SENDER")
    for i, got in enumerate(answers):
        assert got.status == 200, got.body
        assert (got.status_code, got.json()["data"]) == (1000, {"path": f"{base}/LOC{i}"})
        assert got.headers["X-Request-ID"] == f"req-{i}"
        assert got.headers["X-Correlation-ID"] == f"corr-{i}"
    arrived = cpo.module_requests()
    assert sorted(r.path for r in arrived) == sorted(f"{base}/LOC{i}" for i in range(count))
    by_path = {r.path: lower(r.headers) for r in arrived}
    assert all(by_path[f"{base}/LOC{i}"]["x-correlation-id"] == f"corr-{i}" for i in range(count))
    assert len({h["x-request-id"] for h in by_path.values()}) == count


# ---------------------------------------------------------------- hubclientinfo (the list)


async def hub_client_info(
    node: HubUnderTest, reader: FakeBackoffice, query: dict[str, str]
) -> tuple[list[dict[str, object]], int]:
    """What GET hubclientinfo lists for `reader`: the items (as JSON) and X-Total-Count."""
    caller = await node.caller(reader)
    page = Page.parse(query, max_limit=HUB_CLIENT_INFO_PAGE)
    infos, total = await node.hub.presence.client_infos(page, rules=caller.platform.rules)
    return [info.to_json() for info in infos], total


async def test_hub_client_info_lists_connected_parties(node: HubUnderTest) -> None:
    _, emsp = await connect_pair(node)
    data, total = await hub_client_info(node, emsp, {})
    by_party = {(i["country_code"], i["party_id"]): i for i in data}
    cpo_info = by_party[("DE", "CPO")]
    assert {k: cpo_info[k] for k in ("role", "status")} == {"role": "CPO", "status": "CONNECTED"}
    for info in data:
        assert set(info) >= {"party_id", "country_code", "role", "status", "last_updated"}
        assert DATETIME.fullmatch(str(info["last_updated"])), info
    assert total == len(data)


async def test_hub_client_info_date_from_in_the_future_is_empty(node: HubUnderTest) -> None:
    _, emsp = await connect_pair(node)
    assert await hub_client_info(node, emsp, {"date_from": "2999-01-01T00:00:00Z"}) == ([], 0)


async def test_hub_client_info_bad_date_from_is_2001(node: HubUnderTest) -> None:
    _, emsp = await connect_pair(node)
    with pytest.raises(ScpiError) as refused:
        await hub_client_info(node, emsp, {"date_from": "yesterday"})
    http_status, _, body = error_envelope(refused.value, Codes.STANDARD)
    assert (http_status, json.loads(body)["status_code"]) == (200, 2001)
