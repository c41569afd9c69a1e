"""GET All answered from the objects broadcast TO the hub (`StoredObjects.page`), on a node over
the fakes. The broadcast service calls `keep` for each accepted push; here the tests call it
with the exchanges a broadcast brings, then ask for pages as a requester's GET All does."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest

from scn_node.hub.exchange import Exchange, FromParty, FromPeer
from scn_node.hub.message import ScpiReply, ScpiRequest
from scn_node.hub.modules import spec_for
from scn_node.hub.rules import NO_RULES, ListKind, PartyRules, RuleEntry
from scn_node.hub.scenario import Scenario
from scn_node.hub.signing import SignaturePolicy, values_of_response
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.errors import Codes, InvalidParameters
from scn_node.scpi.headers import RoutingHeaders
from scn_node.scpi.notary import Notary
from scn_node.scpi.party import PartyId, Role
from scn_node.scpi.versions import InterfaceRole
from tests.fakes.backoffice import FakeBackoffice
from tests.fakes.hub import HubUnderTest

T0 = "2026-01-01T10:00:00Z"
T1 = "2026-01-01T11:00:00Z"
T2 = "2026-01-01T12:00:00Z"
REMOTE = PartyId("NL", "REM")


def location_bytes(object_id: str, last_updated: str = T0, owner: str = "CPO") -> bytes:
    """A Location as a CPO might send it: spacing, escapes and number forms a parse-and-dump
    would change."""
    return (
        f'{{ "country_code" : "DE", "party_id":"{owner}", "id":"{object_id}",\n'
        f' "name":"M\\u00fcnchen ⚡", "power":1.0e3, "evses":[{{"uid":"E1","status":"AVAILABLE",'
        f'"connectors":[],"last_updated":"{last_updated}"}}], "last_updated":"{last_updated}" }}'
    ).encode()


def request(
    sender: PartyId,
    method: str,
    module: str,
    interface: InterfaceRole,
    tail: str = "",
    query: str = "",
    body: bytes = b"",
) -> ScpiRequest:
    headers = RoutingHeaders("req-7", "corr-7", sender, NODE_PARTY)
    return ScpiRequest(method, module, interface, headers, tail, query, body)


async def keep(
    node: HubUnderTest,
    owner: FakeBackoffice,
    method: str,
    module: str,
    tail: str,
    body: bytes | dict[str, Any] = b"",
    query: str = "",
    rules: PartyRules = NO_RULES,
) -> None:
    """What the broadcast service does with a push `owner` sent TO the hub."""
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    pushed = request(owner.party, method, module, InterfaceRole.RECEIVER, tail, query, raw)
    caller = await node.caller(owner)
    exchange = Exchange(
        pushed,
        FromParty(caller),
        spec_for(module, InterfaceRole.RECEIVER),
        SignaturePolicy(),
        scenario=Scenario.BROADCAST,
    )
    await node.hub.forwarder.stored.keep(exchange, rules)


async def page(
    node: HubUnderTest, requester: FakeBackoffice, module: str = "locations", query: str = ""
) -> ScpiReply | None:
    """The first page of `requester`'s GET All of `module` (TO = the hub), from the store."""
    caller = await node.caller(requester)
    asked = request(requester.party, "GET", module, InterfaceRole.SENDER, query=query)
    policy = SignaturePolicy(sender=caller.platform.rules.signatures)
    exchange = Exchange(
        asked,
        FromParty(caller),
        spec_for(module, InterfaceRole.SENDER),
        policy,
        scenario=Scenario.GET_ALL,
    )
    return await node.hub.forwarder.stored.page(exchange)


def items(reply: ScpiReply | None) -> list[bytes]:
    """The data items of a page, as bytes, cut out of the answer without parsing it."""
    assert reply is not None and reply.status == 200
    match = re.fullmatch(
        rb'\{"data":\[(.*)\],"status_code":1000,"status_message":"Success",'
        rb'"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"(,"scn_signature":"[^"]+")?\}',
        reply.body,
        re.DOTALL,
    )
    assert match is not None, reply.body
    found = json.loads(reply.body)["data"]  # the answer is JSON, and has this many items
    return _split(match.group(1), len(found))


def _split(inner: bytes, count: int) -> list[bytes]:
    """`inner` cut at the end of each top-level JSON value (the items hold no surrounding
    whitespace)."""
    text, decoder = inner.decode(), json.JSONDecoder()
    cut: list[bytes] = []
    at = 0
    while at < len(text):
        _, end = decoder.raw_decode(text, at)
        cut.append(text[at:end].encode())
        at = end + 1 if text[end : end + 1] == "," else end
    assert len(cut) == count
    return cut


@pytest.fixture
async def parties(node: HubUnderTest) -> tuple[FakeBackoffice, FakeBackoffice, FakeBackoffice]:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    msp = await node.connect("DE", "MSP", Role.EMSP)
    other = await node.connect("NL", "MSP", Role.EMSP)
    return cpo, msp, other


async def test_a_get_all_is_answered_with_the_kept_bytes_from_the_hub(
    node: HubUnderTest, parties: tuple[FakeBackoffice, ...]
) -> None:
    cpo, msp, _ = parties
    first, second = location_bytes("LOC1"), location_bytes("LOC2", T1)
    await keep(node, cpo, "PUT", "locations", "/DE/CPO/LOC1", first)
    await keep(node, cpo, "PUT", "locations", "/DE/CPO/LOC2", second)
    reply = await page(node, msp)
    assert items(reply) == [first, second]
    assert reply is not None
    assert reply.body.startswith(b'{"data":[' + first + b"," + second + b'],"status_code":1000')
    headers = reply.headers
    assert headers["Content-Type"] == "application/json"
    assert (headers["X-Total-Count"], headers["X-Limit"]) == ("2", "50")
    assert "Link" not in headers
    assert (headers["X-Request-ID"], headers["X-Correlation-ID"]) == ("req-7", "corr-7")
    assert headers["SCPI-from-country-code"] == "DE" and headers["SCPI-from-party-id"] == "SCN"
    assert headers["SCPI-to-country-code"] == "DE" and headers["SCPI-to-party-id"] == "MSP"
    assert headers["OCPI-from-party-id"] == "SCN" and headers["OCPI-to-party-id"] == "MSP"


async def test_with_nothing_kept_of_the_module_the_sources_answer(
    node: HubUnderTest, parties: tuple[FakeBackoffice, ...]
) -> None:
    cpo, msp, _ = parties
    assert await page(node, msp) is None
    await keep(node, cpo, "PUT", "tariffs", "/DE/CPO/T1", {"id": "T1", "last_updated": T0})
    assert await page(node, msp, "locations") is None
    assert items(await page(node, msp, "tariffs")) == [
        b'{"id": "T1", "last_updated": "' + T0.encode() + b'"}'
    ]


async def test_pages_link_to_the_next_with_the_filters_and_the_hubs_limit(
    node: HubUnderTest, parties: tuple[FakeBackoffice, ...]
) -> None:
    cpo, msp, _ = parties
    for n in range(5):
        tariff = {"id": f"T{n}", "last_updated": f"2026-01-0{n + 1}T10:00:00Z"}
        await keep(node, cpo, "PUT", "tariffs", f"/DE/CPO/T{n}", tariff)
    query = "date_from=2026-01-02T00:00:00Z&limit=2"
    first = await page(node, msp, "tariffs", query)
    assert [json.loads(i)["id"] for i in items(first)] == ["T1", "T2"]
    assert first is not None
    assert (first.headers["X-Total-Count"], first.headers["X-Limit"]) == ("4", "100")
    next_url = (
        f"{node.url}/scpi/sender/2.2/tariffs?date_from=2026-01-02T00%3A00%3A00Z&offset=2&limit=2"
    )
    assert first.headers["Link"] == f'<{next_url}>; rel="next"'
    # The link is a first-page request with an offset: it comes back here.
    second = await page(node, msp, "tariffs", next_url.partition("?")[2])
    assert [json.loads(i)["id"] for i in items(second)] == ["T3", "T4"]
    assert second is not None and "Link" not in second.headers
    assert second.headers["X-Total-Count"] == "4"
    beyond = await page(node, msp, "tariffs", "limit=1000&offset=9")
    assert items(beyond) == []
    assert beyond is not None and beyond.headers["X-Limit"] == "100"


async def test_date_filters_take_from_inclusive_and_to_exclusive(
    node: HubUnderTest, parties: tuple[FakeBackoffice, ...]
) -> None:
    cpo, msp, _ = parties
    for object_id, moment in (("L0", T0), ("L1", T1), ("L2", T2)):
        await keep(
            node, cpo, "PUT", "locations", f"/DE/CPO/{object_id}", location_bytes(object_id, moment)
        )
    reply = await page(node, msp, query=f"date_from={T1}&date_to={T2}")
    assert items(reply) == [location_bytes("L1", T1)]
    assert reply is not None and reply.headers["X-Total-Count"] == "1"


async def test_the_owners_blacklist_hides_its_objects_from_that_requester_only(
    node: HubUnderTest, parties: tuple[FakeBackoffice, ...]
) -> None:
    cpo, msp, other = parties
    blocked = PartyRules(active=ListKind.BLACKLIST, entries=(RuleEntry(msp.party),))
    await keep(node, cpo, "PUT", "locations", "/DE/CPO/LOC1", location_bytes("LOC1"), rules=blocked)
    shut = await page(node, msp)
    assert items(shut) == [] and shut is not None and shut.headers["X-Total-Count"] == "0"
    assert items(await page(node, other)) == [location_bytes("LOC1")]
    # A blacklist of other modules only lets it through; the owner's latest rules count.
    tokens_only = PartyRules(
        active=ListKind.BLACKLIST, entries=(RuleEntry(msp.party, frozenset({"tokens"})),)
    )
    await keep(
        node, cpo, "PUT", "locations", "/DE/CPO/LOC2", location_bytes("LOC2"), rules=tokens_only
    )
    assert len(items(await page(node, msp))) == 2


async def test_an_owner_that_left_the_registry_is_no_longer_served(
    node: HubUnderTest, parties: tuple[FakeBackoffice, ...]
) -> None:
    cpo, msp, _ = parties
    await keep(node, cpo, "PUT", "locations", "/DE/CPO/LOC1", location_bytes("LOC1"))
    assert items(await page(node, msp)) == [location_bytes("LOC1")]
    node.registry.unlist(cpo.party)
    gone = await page(node, msp)
    assert items(gone) == [] and gone is not None and gone.headers["X-Total-Count"] == "0"


async def test_only_the_roles_a_broadcast_reaches_see_the_kept_objects(
    node: HubUnderTest, parties: tuple[FakeBackoffice, ...]
) -> None:
    cpo, msp, other = parties
    second_cpo = await node.connect("NL", "CPO", Role.CPO)
    await keep(node, cpo, "PUT", "locations", "/DE/CPO/LOC1", location_bytes("LOC1"))
    token = {"uid": "U1", "valid": True, "last_updated": T0}
    await keep(node, msp, "PUT", "tokens", "/DE/MSP/U1", token)
    # A CPO sees no CPO's locations (not even its own); an eMSP no eMSP's tokens.
    assert items(await page(node, second_cpo)) == []
    assert items(await page(node, cpo)) == []
    assert items(await page(node, other, "tokens")) == []
    assert items(await page(node, msp, "tokens")) == []
    assert [json.loads(i)["uid"] for i in items(await page(node, second_cpo, "tokens"))] == ["U1"]


async def test_patches_and_element_puts_change_what_is_kept_and_delete_removes_a_tariff(
    node: HubUnderTest, parties: tuple[FakeBackoffice, ...]
) -> None:
    cpo, msp, _ = parties
    await keep(node, cpo, "PUT", "locations", "/DE/CPO/LOC1", location_bytes("LOC1"))
    await keep(
        node,
        cpo,
        "PATCH",
        "locations",
        "/DE/CPO/LOC1/E1",
        {"status": "CHARGING", "last_updated": T1},
    )
    connector = {"id": "1", "standard": "CHADEMO", "last_updated": T2}
    await keep(node, cpo, "PUT", "locations", "/DE/CPO/LOC1/E1/1", connector)
    [kept] = items(await page(node, msp))
    location = json.loads(kept)
    assert location["name"] == "München ⚡" and location["last_updated"] == T2
    assert location["evses"] == [
        {"uid": "E1", "status": "CHARGING", "connectors": [connector], "last_updated": T2}
    ]
    assert kept == json.dumps(location, separators=(",", ":"), ensure_ascii=False).encode()
    await keep(node, cpo, "PUT", "tariffs", "/DE/CPO/T1", {"id": "T1", "last_updated": T0})
    await keep(node, cpo, "DELETE", "tariffs", "/DE/CPO/T1")
    assert await page(node, msp, "tariffs") is None


async def test_a_late_older_push_and_unusable_bodies_leave_the_kept_object(
    node: HubUnderTest, parties: tuple[FakeBackoffice, ...], caplog: pytest.LogCaptureFixture
) -> None:
    cpo, msp, _ = parties
    caplog.set_level(logging.INFO, logger="scn_node.hub.stored")
    await keep(node, cpo, "PUT", "locations", "/DE/CPO/LOC1", location_bytes("LOC1", T1))
    await keep(node, cpo, "PUT", "locations", "/DE/CPO/LOC1", location_bytes("LOC1", T0))
    await keep(node, cpo, "PUT", "locations", "/DE/CPO/LOC1", b'{"id": ')
    await keep(node, cpo, "PUT", "locations", "/DE/CPO/LOC1", b'["LOC1"]')
    await keep(node, cpo, "PATCH", "locations", "/DE/CPO/LOC9", {"last_updated": T2})
    assert items(await page(node, msp)) == [location_bytes("LOC1", T1)]
    logged = [r.getMessage() for r in caplog.records]
    assert any("a later one is" in m for m in logged)
    assert any("not valid JSON" in m for m in logged)
    assert any("not a JSON object" in m for m in logged)
    assert any("LOC9 is not kept" in m for m in logged)


async def test_a_remote_owners_objects_follow_its_listed_roles_and_carried_rules(
    node: HubUnderTest, parties: tuple[FakeBackoffice, ...]
) -> None:
    _, msp, other = parties
    node.registry.list_party(REMOTE, [Role.CPO], "0x" + "ab" * 20)
    blocked = PartyRules(active=ListKind.BLACKLIST, entries=(RuleEntry(other.party),))
    body = location_bytes("R1", owner="REM").replace(b'"DE"', b'"NL"')
    pushed = request(REMOTE, "PUT", "locations", InterfaceRole.RECEIVER, "/NL/REM/R1", body=body)
    exchange = Exchange(
        pushed,
        FromPeer("message-1"),
        spec_for("locations", InterfaceRole.RECEIVER),
        SignaturePolicy(),
        scenario=Scenario.BROADCAST,
    )
    await node.hub.forwarder.stored.keep(exchange, blocked)
    assert items(await page(node, msp)) == [body]
    assert items(await page(node, other)) == []


async def test_a_requester_that_wants_signed_answers_gets_the_nodes_signature(
    node: HubUnderTest, parties: tuple[FakeBackoffice, ...]
) -> None:
    cpo, msp, _ = parties
    await node.set_rules(msp, NO_RULES.with_signatures(True))
    for n in range(3):
        await keep(node, cpo, "PUT", "locations", f"/DE/CPO/L{n}", location_bytes(f"L{n}"))
    reply = await page(node, msp, query="limit=2")
    assert [json.loads(i)["id"] for i in items(reply)] == ["L0", "L1"]
    assert reply is not None
    envelope = json.loads(reply.body)
    headers = {k.lower(): v for k, v in reply.headers.items()}
    assert headers["link"].endswith('offset=2&limit=2>; rel="next"')
    notary = Notary.decode(envelope["scn_signature"])
    notary.verify_exactly(values_of_response(envelope, headers))  # Link and counts included
    assert notary.signatory.lower() == node.address.lower()


async def test_a_page_query_the_hub_cannot_read_is_refused_with_2001(
    node: HubUnderTest, parties: tuple[FakeBackoffice, ...]
) -> None:
    cpo, msp, _ = parties
    await keep(node, cpo, "PUT", "locations", "/DE/CPO/LOC1", location_bytes("LOC1"))
    for query in ("offset=-1", "date_from=yesterday"):
        with pytest.raises(InvalidParameters) as refused:
            await page(node, msp, query=query)
        assert int(refused.value.wire(Codes.STANDARD)[1]) == 2001
