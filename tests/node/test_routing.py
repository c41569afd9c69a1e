"""Routing through the node: every module endpoint byte for byte, custom modules, the errors a
sender sees, concurrency, and HubClientInfo.

The CPO is DE CPO and the eMSP DE MSP, both connected to the node. Each request goes the way the
spec sends it: data owners push to RECEIVER interfaces, the other side pulls from SENDER ones.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

import httpx
import pytest
from aiohttp import web

from scn_node.devnet.chain import free_port
from scn_node.scpi.party import PartyId, Role
from tests.node.conftest import Network
from tests.node.parties import FakeParty, Received, Responder

DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?")
LIST_QUERY = "date_from=2019-01-28T12:00:00Z&date_to=2019-01-29T12%3A00%3A00.5Z&offset=50&limit=100"
RESPONSE_URL = "https://msp.example/scpi/emsp/2.2/commands/sender/START_SESSION/ab%20c?x=1"
QUOTED_RESPONSE_URL = "https%3A%2F%2Fmsp.example%2Fcallbacks%3Fid%3D7&x=%C3%A9"

# What the receiver answers: bytes a JSON re-serialiser would not reproduce.
REPLY = (
    '{"status_code" : 1000,\n "data": {"z":"Gr\\u00fc\\u00dfe ⚡", "a":1.0, "e":1e3},'
    '  "timestamp":"2026-11-23T10:00:00.1Z"}\n'
).encode()
REPLY_HEADERS = {"X-Total-Count": "42", "X-Limit": "7"}


def odd(members: str) -> str:
    """A JSON object holding `members` plus what a parse-and-dump would change."""
    return (
        "{ "
        + members
        + ' ,\n\t"x_unknown" : {"z":1.0, "a":1e3, "s":"M\\u00fcnchen ⚡ é", "n":null},'
        '  "last_updated":"2019-06-24T12:39:09.1234567Z"   }\n'
    )


@dataclass(frozen=True)
class Route:
    """One spec endpoint as a sender calls it through the node."""

    module: str
    interface: str  # "SENDER" | "RECEIVER": the receiver's interface
    method: str
    tail: str = ""
    query: str = ""
    body: str | None = None
    sender: str = "emsp"  # "cpo" | "emsp"

    @property
    def id(self) -> str:
        query = "?" + self.query[:20] if self.query else ""
        return f"{self.module}-{self.interface.lower()}-{self.method}{self.tail or '/'}{query}"

    @property
    def node_path(self) -> str:
        query = f"?{self.query}" if self.query else ""
        return f"/scpi/{self.interface.lower()}/2.2/{self.module}{self.tail}{query}"

    @property
    def rewrites_response_url(self) -> bool:
        return self.interface == "RECEIVER" and (
            (self.module, self.method) in {("commands", "POST")}
            or (self.module == "chargingprofiles" and self.method in ("GET", "PUT", "DELETE"))
        )


def _client_owned(module: str, owner: str, ids: tuple[str, ...], methods: str) -> list[Route]:
    """GET/PUT/PATCH/DELETE of Client Owned Objects at /{cc}/{pid}/{id}[/…], sent by their owner."""
    sender = "cpo" if owner == "/DE/CPO" else "emsp"
    query = "type=APP_USER" if module == "tokens" else ""
    routes = []
    for method in methods.split():
        for path in ids:
            body = None
            if method in ("PUT", "PATCH"):
                body = odd(f'"country_code":"DE","party_id":"{owner[-3:]}", "id" :"{path}"')
            routes.append(Route(module, "RECEIVER", method, owner + path, query, body, sender))
    return routes


LOCATION_IDS = ("/LOC1", "/LOC1/3256", "/LOC1/3256/1")
ROUTES: list[Route] = [
    # locations: the eMSP pulls from the CPO's SENDER and the CPO pushes to the eMSP's RECEIVER
    Route("locations", "SENDER", "GET", "", LIST_QUERY),
    Route("locations", "SENDER", "GET", "/LOC%201", "q=M%C3%BCnchen+Nord&empty=&flag&a=%2F,b~'"),
    Route("locations", "SENDER", "GET", "/LOC1/3256"),
    Route("locations", "SENDER", "GET", "/LOC1/3256/1"),
    *_client_owned("locations", "/DE/CPO", LOCATION_IDS, "GET PUT PATCH"),
    # sessions
    Route("sessions", "SENDER", "GET", "", LIST_QUERY),
    Route(
        "sessions",
        "SENDER",
        "PUT",
        "/SES1/charging_preferences",
        body=odd('"profile_type":"FAST","departure_time":"2019-06-24T18:00:00Z","energy_need":1.0'),
    ),
    *_client_owned("sessions", "/DE/CPO", ("/SES1",), "GET PUT PATCH"),
    # cdrs
    Route("cdrs", "SENDER", "GET", "", LIST_QUERY),
    Route("cdrs", "RECEIVER", "POST", body=odd('"id":"CDR1","total_energy":1e1'), sender="cpo"),
    # tariffs
    Route("tariffs", "SENDER", "GET", "", LIST_QUERY),
    *_client_owned("tariffs", "/DE/CPO", ("/TARIFF1",), "GET PUT DELETE"),
    # tokens: the eMSP owns them
    Route("tokens", "SENDER", "GET", "", LIST_QUERY, sender="cpo"),
    Route(
        "tokens",
        "SENDER",
        "POST",
        "/012345678/authorize",
        "type=RFID",
        '{"location_id" :"LOC1",  "evse_uids":["3256", "3257"],"x":"ü"}',
        "cpo",
    ),
    *_client_owned("tokens", "/DE/MSP", ("/012345678",), "GET PUT PATCH"),
    # commands: the eMSP commands the CPO; the CPO posts results to the eMSP's SENDER
    *(
        Route(
            "commands",
            "RECEIVER",
            "POST",
            f"/{command}",
            body=odd(f'"response_url":"{RESPONSE_URL}"'),
        )
        for command in (
            "START_SESSION",
            "STOP_SESSION",
            "RESERVE_NOW",
            "CANCEL_RESERVATION",
            "UNLOCK_CONNECTOR",
        )
    ),
    Route(
        "commands",
        "SENDER",
        "POST",
        "/START_SESSION/abc",
        body=odd('"result":"ACCEPTED"'),
        sender="cpo",
    ),
    # chargingprofiles: the eMSP (as smart-charging party) asks the CPO; the CPO pushes back
    Route(
        "chargingprofiles",
        "RECEIVER",
        "GET",
        "/SES1",
        f"duration=900&response_url={QUOTED_RESPONSE_URL}",
    ),
    Route(
        "chargingprofiles",
        "RECEIVER",
        "PUT",
        "/SES1",
        body=odd(
            f'"charging_profile":{{"charging_rate_unit":"W","charging_profile_period":'
            f'[{{"start_period":0,"limit":1.0}}]}}, "response_url" : "{RESPONSE_URL}"'
        ),
    ),
    Route("chargingprofiles", "RECEIVER", "DELETE", "/SES1", f"response_url={QUOTED_RESPONSE_URL}"),
    Route(
        "chargingprofiles",
        "SENDER",
        "PUT",
        "/SES1",
        body=odd(
            '"start_date_time":"2019-06-24T12:00:00Z","charging_profile":{"charging_rate_unit":"A"}'
        ),
        sender="cpo",
    ),
]

_BODY_URL = re.compile(r'("response_url"\s*:\s*)"[^"]*"')
_QUERY_URL = re.compile(r"(response_url=)[^&]*")


def without_response_url(text: str) -> str:
    """`text` with response_url values blanked: another test checks how the node rewrites them."""
    return _QUERY_URL.sub(r"\1…", _BODY_URL.sub(r'\1"…"', text))


# ---------------------------------------------------------------- helpers


async def connect_pair(network: Network, **cpo_options: object) -> tuple[FakeParty, FakeParty]:
    cpo = await network.connect("DE", "CPO", Role.CPO, **cpo_options)
    emsp = await network.connect("DE", "MSP", Role.EMSP)
    return cpo, emsp


def answer(
    body: bytes = REPLY, status: int = 200, headers: dict[str, str] | None = None
) -> Responder:
    """A responder that answers with exactly these bytes."""

    async def responder(request: web.Request, received: Received) -> web.Response:
        return web.Response(
            status=status, body=body, content_type="application/json", headers=headers or {}
        )

    return responder


def lower(headers: dict[str, str] | httpx.Headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def routing(family: str, sender: PartyId, receiver: PartyId) -> dict[str, str]:
    f = family.lower()
    return {
        f"{f}-from-country-code": sender.country_code,
        f"{f}-from-party-id": sender.party_id,
        f"{f}-to-country-code": receiver.country_code,
        f"{f}-to-party-id": receiver.party_id,
    }


def assert_forwarded_headers(got: Received, sender: FakeParty, receiver: FakeParty) -> None:
    headers = lower(got.headers)
    assert headers["authorization"] == f"Token {receiver.token_b}"
    assert headers["x-request-id"] not in ("", "req-1")
    assert headers["x-correlation-id"] == "corr-1"
    for family in ("SCPI", "OCPI"):
        expected = routing(family, sender.party, receiver.party)
        assert {k: headers.get(k) for k in expected} == expected
    if got.body:
        assert headers["content-type"].split(";")[0] == "application/json"


def assert_reply_headers(response: httpx.Response, sender: FakeParty, receiver: FakeParty) -> None:
    headers = lower(response.headers)
    assert headers["x-request-id"] == "req-1"
    assert headers["x-correlation-id"] == "corr-1"
    for family in ("SCPI", "OCPI"):
        swapped = routing(family, receiver.party, sender.party)
        assert {k: headers.get(k) for k in swapped} == swapped


def assert_error(response: httpx.Response, http_status: int, status_code: int) -> str:
    """An SCPI error envelope with exactly this HTTP status and status_code; returns the message."""
    assert response.status_code != 500, response.text
    assert response.status_code == http_status, response.text
    body = response.json()
    assert body["status_code"] == status_code, body
    assert isinstance(body["status_message"], str) and body["status_message"], body
    assert DATETIME.fullmatch(body["timestamp"]), body
    return str(body["status_message"])


async def send_without(
    network: Network, sender: FakeParty, receiver: FakeParty, path: str, **changes: str | None
) -> httpx.Response:
    """GET `path` with the usual headers, each of `changes` replaced (or removed if None)."""
    headers = {k.lower(): v for k, v in network.headers(sender, receiver).items()}
    for name, value in changes.items():
        key = name.replace("_", "-").lower()
        headers.pop(key)
        if value is not None:
            headers[key] = value
    return await network.client.get(path, headers=headers)


# ---------------------------------------------------------------- every endpoint, byte for byte


@pytest.mark.parametrize("route", ROUTES, ids=[r.id for r in ROUTES])
async def test_request_and_reply_travel_byte_for_byte(network: Network, route: Route) -> None:
    """The receiver gets the sender's method, path tail, query and body unchanged, with node
    headers; the sender gets the receiver's status, body and paging headers unchanged."""
    cpo, emsp = await connect_pair(network)
    sender, receiver = (cpo, emsp) if route.sender == "cpo" else (emsp, cpo)
    receiver.on(
        "*", receiver.endpoint_path(route.module, route.interface), answer(headers=REPLY_HEADERS)
    )

    response = await network.send(
        sender, route.method, route.node_path, to=receiver, body=route.body
    )

    assert response.status_code == 200, response.text
    assert response.content == REPLY
    assert_reply_headers(response, sender, receiver)
    assert response.headers["X-Total-Count"] == "42"
    assert response.headers["X-Limit"] == "7"
    assert response.headers["Content-Type"] == "application/json"

    [got] = receiver.module_requests()
    assert got.method == route.method
    assert got.path == receiver.endpoint_path(route.module, route.interface) + route.tail
    sent_body = (route.body or "").encode()
    if route.rewrites_response_url:
        assert without_response_url(got.query) == without_response_url(route.query)
        assert without_response_url(got.body.decode()) == without_response_url(sent_body.decode())
    else:
        assert got.query == route.query
        assert got.body == sent_body
    assert_forwarded_headers(got, sender, receiver)
    assert sender.module_requests() == []


@pytest.mark.parametrize(
    ("status", "reply"),
    [
        (
            404,
            b'{"status_code": 2003, "status_message":"Unknown location",'
            b'  "timestamp":"2026-01-01T00:00:00Z"}',
        ),
        (
            200,
            b'{ "status_code":2001,"status_message":"Invalid or missing parameters",'
            b'"timestamp":"2026-01-01T00:00:00Z"}',
        ),
    ],
    ids=["http404-2003", "http200-2001"],
)
async def test_receiver_errors_reach_the_sender_unchanged(
    network: Network, status: int, reply: bytes
) -> None:
    """An error the receiver answers is the sender's answer, status and bytes."""
    cpo, emsp = await connect_pair(network)
    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), answer(reply, status))
    response = await network.send(emsp, "GET", "/scpi/sender/2.2/locations/LOC9", to=cpo)
    assert response.status_code == status
    assert response.content == reply
    assert_reply_headers(response, emsp, cpo)


# ---------------------------------------------------------------- custom modules


@pytest.mark.parametrize(
    ("method", "interface"),
    [
        ("GET", "SENDER"),
        ("POST", "SENDER"),
        ("PUT", "RECEIVER"),
        ("PATCH", "RECEIVER"),
        ("DELETE", "SENDER"),
    ],
)
async def test_custom_module_reaches_the_party_custom_endpoint(
    network: Network, method: str, interface: str
) -> None:
    """Any method, sub-path, query and a non-JSON body go to the party's custom endpoint."""
    cpo, emsp = await connect_pair(network, custom_modules=("lite-locations",))
    body = None if method == "GET" else "simple string"
    path = f"/scpi/custom/{interface.lower()}/lite-locations/sub/path?x=1"
    response = await network.send(emsp, method, path, to=cpo, body=body)
    assert response.status_code == 200, response.text
    assert response.json()["status_code"] == 1000
    [got] = cpo.module_requests()
    assert (got.method, got.path, got.query) == (
        method,
        cpo.endpoint_path("lite-locations", interface) + "/sub/path",
        "x=1",
    )
    assert got.body == (body or "").encode()
    assert_forwarded_headers(got, emsp, cpo)
    assert_reply_headers(response, emsp, cpo)


# ---------------------------------------------------------------- who may send what to whom


async def test_sender_cannot_send_as_another_connected_party(network: Network) -> None:
    """SCPI-from-* naming a party of another connection is refused: 403/2902."""
    cpo, emsp = await connect_pair(network)
    await network.connect("DE", "OTH", Role.EMSP)
    response = await network.send(
        emsp,
        "GET",
        "/scpi/sender/2.2/locations",
        to=cpo,
        headers={"SCPI-from-country-code": "DE", "SCPI-from-party-id": "OTH"},
    )
    assert_error(response, 403, 2902)
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
    network: Network, module: str, sender: str, tail: str
) -> None:
    """Pushing an object whose URL names another owner is refused: 403/2902."""
    cpo, emsp = await connect_pair(network)
    source, target = (cpo, emsp) if sender == "cpo" else (emsp, cpo)
    path = f"/scpi/receiver/2.2/{module}{tail}"
    response = await network.send(source, "PUT", path, to=target, body=odd('"id":"X"'))
    assert_error(response, 403, 2902)
    assert target.module_requests() == []


# ---------------------------------------------------------------- receivers the node cannot reach


async def test_unknown_receiver_is_4001(network: Network) -> None:
    _, emsp = await connect_pair(network)
    response = await network.send(
        emsp, "GET", "/scpi/sender/2.2/locations", to=PartyId("NL", "XYZ")
    )
    assert_error(response, 200, 4001)


async def test_receiver_behind_an_unreachable_peer_node_is_4003_naming_that_node(
    network: Network,
) -> None:
    _, emsp = await connect_pair(network)
    far = await network.start_party("NL", "FAR", Role.CPO)
    operator = network.new_account()
    far_node = f"http://127.0.0.1:{free_port()}"  # listed, but nothing listens there
    await network.registry.set_node(operator, far_node)
    await network.list_party(far, operator=operator.address)
    response = await network.send(emsp, "GET", "/scpi/sender/2.2/locations", to=far)
    message = assert_error(response, 200, 4003)
    assert f"The node {far_node} of receiver NL FAR could not be reached" in message
    assert far.received == []


async def test_receiver_the_node_itself_is_2001(network: Network) -> None:
    _, emsp = await connect_pair(network)
    response = await network.send(
        emsp, "GET", "/scpi/sender/2.2/locations", to=PartyId("DE", "SCN")
    )
    assert_error(response, 200, 2001)


async def test_receiver_without_the_module_is_4900(network: Network) -> None:
    cpo, emsp = await connect_pair(network, modules=("locations",))
    response = await network.send(emsp, "GET", "/scpi/sender/2.2/sessions", to=cpo)
    assert_error(response, 200, 4900)
    assert cpo.module_requests() == []


async def test_receiver_down_is_4003(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    await cpo.stop()
    response = await network.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert_error(response, 200, 4003)


async def test_receiver_too_slow_is_4002(network: Network) -> None:
    """A receiver that answers after party_timeout gives the sender 4002, not a hang."""
    await network.stop_node()
    await network.start_node(party_timeout=0.5)
    cpo, emsp = await connect_pair(network)
    release = asyncio.Event()

    async def slow(request: web.Request, received: Received) -> web.Response:
        await asyncio.wait_for(release.wait(), timeout=5)
        return web.json_response({"status_code": 1000})

    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), slow)
    try:
        response = await network.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
        assert_error(response, 200, 4002)
    finally:
        release.set()


# ---------------------------------------------------------------- malformed requests


async def test_malformed_json_body_is_400_2001(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    response = await network.send(
        emsp,
        "POST",
        "/scpi/receiver/2.2/commands/START_SESSION",
        to=cpo,
        body='{"response_url": "x",',
    )
    assert_error(response, 400, 2001)
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
async def test_missing_header_is_400_2900(network: Network, header: str) -> None:
    cpo, emsp = await connect_pair(network)
    response = await send_without(
        network, emsp, cpo, "/scpi/sender/2.2/locations", **{header: None}
    )
    assert_error(response, 400, 2900)
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
async def test_invalid_routing_header_is_400_2900(
    network: Network, header: str, value: str
) -> None:
    cpo, emsp = await connect_pair(network)
    response = await send_without(
        network, emsp, cpo, "/scpi/sender/2.2/locations", **{header: value}
    )
    assert_error(response, 400, 2900)
    assert cpo.module_requests() == []


def body_of(size: int) -> str:
    """A JSON body of exactly `size` bytes."""
    text = '{"id":"' + "x" * (size - 9) + '"}'
    assert len(text.encode()) == size
    return text


@pytest.mark.parametrize(
    ("size", "forwarded"), [(999, True), (1000, True), (1001, False), (5000, False)]
)
async def test_body_limit(network: Network, size: int, forwarded: bool) -> None:
    """Bodies up to max_body_bytes are forwarded; larger ones are refused with 413/2901."""
    await network.stop_node()
    await network.start_node(max_body_bytes=1000)
    cpo, emsp = await connect_pair(network)
    body = body_of(size)
    response = await network.send(emsp, "POST", "/scpi/receiver/2.2/cdrs", to=cpo, body=body)
    if forwarded:
        assert response.status_code == 200, response.text
        assert response.json()["status_code"] == 1000
        assert cpo.module_requests()[0].body == body.encode()
    else:
        assert_error(response, 413, 2901)
        assert cpo.module_requests() == []


async def test_token_a_cannot_use_a_module(network: Network) -> None:
    cpo, emsp = await connect_pair(network)
    token_a = await network.token_a()
    response = await network.send(
        emsp,
        "GET",
        "/scpi/sender/2.2/locations",
        to=cpo,
        headers={"Authorization": f"Token {token_a}"},
    )
    assert_error(response, 401, 2000)
    assert cpo.module_requests() == []


@pytest.mark.parametrize(
    "path", ["/scpi/sender/2.2/nonsense", "/scpi/receiver/2.2/nonsense/DE/CPO/1"]
)
async def test_unknown_module_is_404(network: Network, path: str) -> None:
    cpo, emsp = await connect_pair(network)
    response = await network.send(emsp, "GET", path, to=cpo)
    assert_error(response, 404, 2000)
    assert cpo.module_requests() == []


# ---------------------------------------------------------------- concurrency


async def test_twenty_concurrent_requests_all_arrive_and_answer_correctly(network: Network) -> None:
    """The node forwards concurrently: the CPO holds every request until all 20 have arrived."""
    cpo, emsp = await connect_pair(network)
    count = 20
    all_arrived = asyncio.Event()

    async def hold(request: web.Request, received: Received) -> web.Response:
        if len(cpo.module_requests()) == count:
            all_arrived.set()
        await asyncio.wait_for(all_arrived.wait(), timeout=5)
        return web.json_response({"status_code": 1000, "data": {"path": received.path}})

    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), hold)

    async def one(i: int) -> httpx.Response:
        headers = network.headers(emsp, cpo, request_id=f"req-{i}", correlation_id=f"corr-{i}")
        return await network.client.get(f"/scpi/sender/2.2/locations/LOC{i}", headers=headers)

    responses = await asyncio.gather(*(one(i) for i in range(count)))
    base = cpo.endpoint_path("locations", "SENDER")
    for i, response in enumerate(responses):
        assert response.status_code == 200, response.text
        assert response.json() == {"status_code": 1000, "data": {"path": f"{base}/LOC{i}"}}
        assert response.headers["X-Request-ID"] == f"req-{i}"
        assert response.headers["X-Correlation-ID"] == f"corr-{i}"
    got = cpo.module_requests()
    assert sorted(r.path for r in got) == sorted(f"{base}/LOC{i}" for i in range(count))
    by_path = {r.path: lower(r.headers) for r in got}
    assert all(by_path[f"{base}/LOC{i}"]["x-correlation-id"] == f"corr-{i}" for i in range(count))
    assert len({h["x-request-id"] for h in by_path.values()}) == count


# ---------------------------------------------------------------- hubclientinfo

HUB_CLIENT_INFO = "/scpi/2.2/hubclientinfo"


async def test_hub_client_info_lists_connected_parties(network: Network) -> None:
    _, emsp = await connect_pair(network)
    response = await network.client.get(
        HUB_CLIENT_INFO, headers={"Authorization": emsp.authorization()}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status_code"] == 1000
    by_party = {(i["country_code"], i["party_id"]): i for i in body["data"]}
    cpo_info = by_party[("DE", "CPO")]
    assert {k: cpo_info[k] for k in ("role", "status")} == {"role": "CPO", "status": "CONNECTED"}
    for info in body["data"]:
        assert set(info) >= {"party_id", "country_code", "role", "status", "last_updated"}
        assert DATETIME.fullmatch(info["last_updated"]), info
    assert response.headers["X-Total-Count"] == str(len(body["data"]))
    assert response.headers["X-Limit"] == "100"
    assert "Link" not in response.headers


def next_url(response: httpx.Response) -> str | None:
    match = re.fullmatch(r'<([^>]+)>; *rel="?next"?', response.headers.get("Link", ""))
    return match.group(1) if match else None


async def test_hub_client_info_pages_follow_the_link(network: Network) -> None:
    """limit=1 gives one item a page, X-Total-Count, X-Limit and a Link that itself works."""
    _, emsp = await connect_pair(network)
    await network.connect("NL", "OTH", Role.CPO)
    auth = {"Authorization": emsp.authorization()}
    url: str | None = f"{HUB_CLIENT_INFO}?limit=1"
    seen: list[tuple[str, str]] = []
    total = None
    while url is not None:
        response = await network.client.get(url, headers=auth)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert len(data) == 1
        seen += [(i["country_code"], i["party_id"]) for i in data]
        total = total or int(response.headers["X-Total-Count"])
        assert response.headers["X-Total-Count"] == str(total)
        assert response.headers["X-Limit"] == "100"
        url = next_url(response)
        if url is not None:
            assert url.startswith(network.url + HUB_CLIENT_INFO + "?")
        assert len(seen) <= 10, "the Link never ends"
    assert len(seen) == total >= 2
    assert len(set(seen)) == len(seen)
    assert {("DE", "CPO"), ("NL", "OTH")} <= set(seen)


async def test_hub_client_info_date_from_in_the_future_is_empty(network: Network) -> None:
    _, emsp = await connect_pair(network)
    response = await network.client.get(
        HUB_CLIENT_INFO,
        params={"date_from": "2999-01-01T00:00:00Z"},
        headers={"Authorization": emsp.authorization()},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == []
    assert response.headers["X-Total-Count"] == "0"


async def test_hub_client_info_needs_a_token(network: Network) -> None:
    await connect_pair(network)
    assert_error(await network.client.get(HUB_CLIENT_INFO), 401, 2000)


async def test_hub_client_info_bad_date_from_is_2001(network: Network) -> None:
    _, emsp = await connect_pair(network)
    response = await network.client.get(
        HUB_CLIENT_INFO,
        params={"date_from": "yesterday"},
        headers={"Authorization": emsp.authorization()},
    )
    assert_error(response, 200, 2001)
