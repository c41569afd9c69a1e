"""Routing through one node: every module endpoint byte for byte, and custom modules.

The CPO is DE CPO and the eMSP DE MSP, both connected to the node. Each request goes the way the
spec sends it: data owners push to RECEIVER interfaces, the other side pulls from SENDER ones.
The table of endpoints (`ROUTES`) is also what tests/node sends over a real socket.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from scn_node.hub.model import PartyResponse
from scn_node.scpi.party import PartyId, Role
from tests.fakes.backoffice import FakeBackoffice, Received
from tests.fakes.hub import Answer, HubUnderTest
from tests.fakes.transport import response

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


async def connect_pair(
    node: HubUnderTest, **cpo_options: object
) -> tuple[FakeBackoffice, FakeBackoffice]:
    cpo = await node.connect("DE", "CPO", Role.CPO, **cpo_options)
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    return cpo, emsp


def reply(
    body: bytes = REPLY, status: int = 200, headers: dict[str, str] | None = None
) -> PartyResponse:
    """The receiver's answer: exactly these bytes."""
    return response(status, body, {"Content-Type": "application/json", **(headers or {})})


def lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def routing(family: str, sender: PartyId, receiver: PartyId) -> dict[str, str]:
    f = family.lower()
    return {
        f"{f}-from-country-code": sender.country_code,
        f"{f}-from-party-id": sender.party_id,
        f"{f}-to-country-code": receiver.country_code,
        f"{f}-to-party-id": receiver.party_id,
    }


def assert_forwarded_headers(
    got: Received, sender: FakeBackoffice, receiver: FakeBackoffice
) -> None:
    headers = lower(got.headers)
    assert headers["authorization"] == f"Token {receiver.token_b}"
    assert headers["x-request-id"] not in ("", "req-1")
    assert headers["x-correlation-id"] == "corr-1"
    for family in ("SCPI", "OCPI"):
        expected = routing(family, sender.party, receiver.party)
        assert {k: headers.get(k) for k in expected} == expected
    if got.body:
        assert headers["content-type"].split(";")[0] == "application/json"


def assert_reply_headers(answer: Answer, sender: FakeBackoffice, receiver: FakeBackoffice) -> None:
    headers = lower(answer.headers)
    assert headers["x-request-id"] == "req-1"
    assert headers["x-correlation-id"] == "corr-1"
    for family in ("SCPI", "OCPI"):
        swapped = routing(family, receiver.party, sender.party)
        assert {k: headers.get(k) for k in swapped} == swapped


# ---------------------------------------------------------------- every endpoint, byte for byte


@pytest.mark.parametrize("route", ROUTES, ids=[r.id for r in ROUTES])
async def test_request_and_reply_travel_byte_for_byte(node: HubUnderTest, route: Route) -> None:
    """The receiver gets the sender's method, path tail, query and body unchanged, with node
    headers; the sender gets the receiver's status, body and paging headers unchanged."""
    cpo, emsp = await connect_pair(node)
    sender, receiver = (cpo, emsp) if route.sender == "cpo" else (emsp, cpo)
    receiver.on(
        "*",
        receiver.endpoint_path(route.module, route.interface),
        lambda _: reply(headers=REPLY_HEADERS),
    )

    got_back = await node.send(
        sender, route.method, route.node_path, to=receiver, body=route.body or b""
    )

    assert got_back.status == 200, got_back.body
    assert got_back.body == REPLY
    assert_reply_headers(got_back, sender, receiver)
    assert got_back.headers["X-Total-Count"] == "42"
    assert got_back.headers["X-Limit"] == "7"
    assert got_back.headers["Content-Type"] == "application/json"

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
    ("status", "body"),
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
    node: HubUnderTest, status: int, body: bytes
) -> None:
    """An error the receiver answers is the sender's answer, status and bytes."""
    cpo, emsp = await connect_pair(node)
    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), lambda _: reply(body, status))
    got_back = await node.send(emsp, "GET", "/scpi/sender/2.2/locations/LOC9", to=cpo)
    assert got_back.status == status
    assert got_back.body == body
    assert_reply_headers(got_back, emsp, cpo)


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
    node: HubUnderTest, method: str, interface: str
) -> None:
    """Any method, sub-path, query and a non-JSON body go to the party's custom endpoint."""
    cpo, emsp = await connect_pair(node, custom_modules=("lite-locations",))
    body = b"" if method == "GET" else b"simple string"
    path = f"/scpi/custom/{interface.lower()}/lite-locations/sub/path?x=1"
    got_back = await node.send(emsp, method, path, to=cpo, body=body)
    assert got_back.status == 200, got_back.body
    assert got_back.status_code == 1000
    [got] = cpo.module_requests()
    assert (got.method, got.path, got.query) == (
        method,
        cpo.endpoint_path("lite-locations", interface) + "/sub/path",
        "x=1",
    )
    assert got.body == body
    assert_forwarded_headers(got, emsp, cpo)
    assert_reply_headers(got_back, emsp, cpo)
