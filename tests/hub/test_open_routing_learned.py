"""Open routing by what the node learned (the ownership index), across nodes, and signed.

The index learns from traffic through the hub, after the answer: token pushes (token uid and
type -> the eMSP in the URL), location and session pushes (-> the CPO in the URL), location
list answers (each object's id -> its country_code/party_id) and ReserveNow (reservation id ->
the CPO that answered). Tests drain the node before they rely on what it learned.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import pytest

from scn_node.hub.exchange import Exchange, FromPeer
from scn_node.hub.message import ScpiRequest
from scn_node.hub.modules import KeyKind, spec_for
from scn_node.hub.ownership import OwnedKey
from scn_node.hub.rules import ListKind, PartyRules, RuleEntry
from scn_node.hub.scenario import Scenario
from scn_node.hub.signing import TO_COUNTRY_CODE_PATH, TO_PARTY_ID_PATH, SignaturePolicy
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.headers import RoutingHeaders
from scn_node.scpi.notary import Notary, request_values, sign
from scn_node.scpi.party import PartyId, Role
from scn_node.scpi.services import ServicePermission
from scn_node.scpi.versions import InterfaceRole
from tests.fakes.backoffice import FakeBackoffice, Received, answer
from tests.fakes.hub import Answer, HubUnderTest

CPO, MSP = PartyId("DE", "CPO"), PartyId("DE", "MSP")
AUTHORIZE = "/scpi/sender/2.2/tokens/0102/authorize"
TOKEN = '{"country_code":"DE","party_id":"MSP","uid":"0102","type":"APP_USER"}'


async def connect_pair(node: HubUnderTest) -> tuple[FakeBackoffice, FakeBackoffice]:
    return await node.connect("DE", "CPO", Role.CPO), await node.connect("DE", "MSP", Role.EMSP)


def answered_by(got: Answer) -> PartyId:
    return PartyId(got.headers["SCPI-from-country-code"], got.headers["SCPI-from-party-id"])


def to_of(received: Received) -> PartyId:
    return PartyId(received.headers["SCPI-to-country-code"], received.headers["SCPI-to-party-id"])


# ---------------------------------------------------------------- what the index learns


async def test_a_token_push_teaches_who_authorizes_its_uid(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    pushed = await node.send(
        emsp, "PUT", "/scpi/receiver/2.2/tokens/DE/MSP/0102?type=APP_USER", to=cpo, body=TOKEN
    )
    assert pushed.status_code == 1000
    await node.drain()
    got = await node.send(cpo, "POST", AUTHORIZE + "?type=APP_USER", to=None)
    assert got.status_code == 1000 and answered_by(got) == MSP
    (authorize,) = emsp.module_requests()
    assert authorize.path.endswith("/tokens/sender/0102/authorize") and to_of(authorize) == MSP
    # The uid is the eMSP's for that type only; without ?type= it is an RFID token's.
    assert (await node.send(cpo, "POST", AUTHORIZE, to=None)).status_code == 4001


async def test_a_refused_push_teaches_nothing(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    cpo.on("PUT", "/", lambda _: answer(status=400, status_code=2001))
    await node.send(emsp, "PUT", "/scpi/receiver/2.2/tokens/DE/MSP/0102", to=cpo, body=TOKEN)
    await node.drain()
    assert (await node.send(cpo, "POST", AUTHORIZE, to=None)).status_code == 4001


async def test_location_and_session_pushes_teach_their_cpo(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    for path in ("locations/DE/CPO/LOC7/3256", "sessions/DE/CPO/S7"):
        got = await node.send(cpo, "PATCH", f"/scpi/receiver/2.2/{path}", to=emsp, body="{}")
        assert got.status_code == 1000
    await node.drain()
    unlock = await node.send(
        emsp, "POST", "/scpi/receiver/2.2/commands/UNLOCK_CONNECTOR", to=None,
        body='{"response_url":"https://m.example/u","location_id":"loc7","evse_uid":"3256"}',
    )  # fmt: skip
    stop = await node.send(
        emsp, "POST", "/scpi/receiver/2.2/commands/STOP_SESSION", to=None,
        body='{"response_url":"https://m.example/s","session_id":"S7"}',
    )  # fmt: skip
    assert (unlock.status_code, stop.status_code) == (1000, 1000)
    assert [to_of(r) for r in cpo.module_requests()] == [CPO, CPO]


async def test_a_location_list_answer_teaches_each_objects_owner_up_to_a_cap(
    node: HubUnderTest,
) -> None:
    cpo, emsp = await connect_pair(node)
    node.hub.forwarder.open_routing.objects_per_page = 3
    objects = [
        {"country_code": "DE", "party_id": "CPO", "id": "L1"},
        {"country_code": "DE", "party_id": "CPO"},  # no id: skipped
        {"country_code": "NL", "party_id": "OTH", "id": "L2"},  # not the answering party's
        {"country_code": "DE", "party_id": "CPO", "id": "L3"},  # past the cap
    ]
    cpo.on("GET", "/", lambda _: answer(objects))
    assert (await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)).status_code == 1000
    await node.drain()
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations/L1", to=None)
    assert got.status_code == 1000 and answered_by(got) == CPO
    for past in ("L2", "L3"):
        got = await node.send(emsp, "GET", f"/scpi/sender/2.2/locations/{past}", to=None)
        assert got.status_code == 4001


async def test_a_failed_list_answer_teaches_nothing(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    cpo.on("GET", "/", lambda _: answer([{"country_code": "DE", "party_id": "CPO", "id": "L1"}],
                                        status_code=3000))  # fmt: skip
    await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    await node.drain()
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations/L1", to=None)
    assert got.status_code == 4001


async def test_a_reserve_now_teaches_who_cancels_the_reservation(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    reserve = '{"response_url":"https://msp.example/r","reservation_id":"R9","location_id":"X"}'
    got = await node.send(
        emsp, "POST", "/scpi/receiver/2.2/commands/RESERVE_NOW", to=cpo, body=reserve
    )
    assert got.status_code == 1000
    await node.drain()
    cancel = await node.send(
        emsp, "POST", "/scpi/receiver/2.2/commands/CANCEL_RESERVATION", to=None,
        body='{"response_url":"https://msp.example/c","reservation_id":"R9"}',
    )  # fmt: skip
    assert cancel.status_code == 1000 and answered_by(cancel) == CPO


async def test_a_broadcast_push_teaches_the_owner_in_its_url(node: HubUnderTest) -> None:
    """How the broadcaster calls it: once per push, with no answer (`learn(exchange)`)."""
    cpo, emsp = await connect_pair(node)
    headers = RoutingHeaders("r", "c", MSP, NODE_PARTY)
    request = ScpiRequest(
        "PUT", "tokens", InterfaceRole.RECEIVER, headers, "/DE/MSP/0102", "type=RFID", b"{}"
    )
    spec = spec_for("tokens", InterfaceRole.RECEIVER)
    push = Exchange(request, FromPeer("m"), spec, SignaturePolicy(), scenario=Scenario.BROADCAST)
    node.hub.forwarder.open_routing.learn(push)
    await node.drain()
    got = await node.send(cpo, "POST", AUTHORIZE, to=None)
    assert got.status_code == 1000 and answered_by(got) == MSP
    assert [to_of(r) for r in emsp.module_requests()] == [MSP]


async def test_a_key_pushed_again_is_not_written_again_within_the_hour(
    node: HubUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    cpo, emsp = await connect_pair(node)
    writes: list[list[OwnedKey]] = []
    remember = node.directory.remember_keys

    async def counted(keys: Sequence[OwnedKey]) -> None:
        writes.append(list(keys))
        await remember(keys)

    monkeypatch.setattr(node.hub.forwarder.open_routing.keys, "remember_keys", counted)
    for status in ("CHARGING", "AVAILABLE", "CHARGING"):
        got = await node.send(
            cpo, "PATCH", "/scpi/receiver/2.2/locations/DE/CPO/LOC1/3256", to=emsp,
            body=f'{{"status":"{status}"}}',
        )  # fmt: skip
        assert got.status_code == 1000
        await node.drain()
    assert writes == [[OwnedKey(KeyKind.LOCATION_ID, "LOC1", CPO)]]


async def test_purged_keys_find_no_receiver(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    await node.directory.remember_keys([OwnedKey(KeyKind.TOKEN_UID, "0102", MSP, "RFID")])
    assert (await node.send(cpo, "POST", AUTHORIZE, to=None)).status_code == 1000
    assert await node.directory.purge_route_keys(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert (await node.send(cpo, "POST", AUTHORIZE, to=None)).status_code == 4001
    assert len(emsp.module_requests()) == 1


# ---------------------------------------------------------------- across the network


async def test_a_contract_id_finds_an_emsp_on_another_node(
    two_nodes: tuple[HubUnderTest, HubUnderTest],
) -> None:
    one, two = two_nodes
    cpo = await one.connect("DE", "CPO", Role.CPO)
    emsp = await two.connect("DE", "MSP", Role.EMSP)
    got = await one.send(
        cpo, "POST", "/scpi/receiver/2.2/cdrs", to=None,
        body='{"id":"C1","cdr_token":{"uid":"1","type":"RFID","contract_id":"DE-MSP-C12345678-X"}}',
    )  # fmt: skip
    assert got.status_code == 1000 and answered_by(got) == MSP
    (cdr,) = emsp.module_requests()
    assert cdr.path == emsp.endpoint_path("cdrs", "RECEIVER")
    assert to_of(cdr) == MSP and cdr.headers["SCPI-from-party-id"] == "CPO"


async def test_an_emsp_on_another_node_that_blocks_the_sender_is_answered_as_unknown(
    two_nodes: tuple[HubUnderTest, HubUnderTest],
) -> None:
    """Rules cannot be probed across the network either: the receiving node refuses an
    open-routed request its party's rules block exactly as the sender's node refuses a
    request it finds no receiver for."""
    one, two = two_nodes
    cpo = await one.connect("DE", "CPO", Role.CPO)
    emsp = await two.connect("DE", "MSP", Role.EMSP)
    await two.set_rules(emsp, PartyRules(active=ListKind.BLACKLIST, entries=(RuleEntry(CPO),)))
    blocked = await one.send(
        cpo, "POST", "/scpi/sender/2.2/tokens/DEMSPC12345678X/authorize", to=None
    )
    unknown = await one.send(
        cpo, "POST", "/scpi/sender/2.2/tokens/NLXYZC12345678X/authorize", to=None
    )
    assert (
        (blocked.status, blocked.status_code)
        == (unknown.status, unknown.status_code)
        == (
            200,
            4001,
        )
    )
    assert blocked.json()["status_message"] == unknown.json()["status_message"]
    assert "DE MSP" not in blocked.body.decode()
    assert emsp.module_requests() == []


async def test_a_signed_open_request_verifies_at_a_receiver_on_another_node(
    two_nodes: tuple[HubUnderTest, HubUnderTest],
) -> None:
    one, two = two_nodes
    cpo = await one.connect("DE", "CPO", Role.CPO)
    emsp = await two.connect("DE", "MSP", Role.EMSP)
    path = "/scpi/sender/2.2/tokens/DEMSPC12345678X/authorize"
    got = await one.send(cpo, "POST", path, to=None, headers=unaddressed_signature(cpo, path))
    assert got.status_code == 1000, got.body
    (authorize,) = emsp.module_requests()
    notary = Notary.decode(authorize.headers["SCN-Signature"])
    notary.verify_exactly(received_values(authorize))
    assert notary.signatory == one.address


# ---------------------------------------------------------------- signed


def unaddressed_signature(sender: FakeBackoffice, path: str, body: str = "") -> dict[str, str]:
    """The SCN-Signature of a request with no SCPI-to-*: the values hold no to-headers."""
    query = path.partition("?")[2]
    values: dict[str, Any] = request_values(
        correlation_id="corr-1",
        sender=sender.party,
        receiver=sender.party,  # dropped below
        params=dict(parse_qsl(query, keep_blank_values=True)) if query else None,
        body=json.loads(body) if body else None,
    )
    values["headers"] = {k: v for k, v in values["headers"].items() if "-to-" not in k}
    assert sender.account is not None
    return {"SCN-Signature": sign(values, sender.account.key).encode()}


def received_values(got: Received) -> dict[str, object]:
    h = {k.lower(): v for k, v in got.headers.items()}
    return request_values(
        correlation_id=h["x-correlation-id"],
        sender=PartyId(h["scpi-from-country-code"], h["scpi-from-party-id"]),
        receiver=PartyId(h["scpi-to-country-code"], h["scpi-to-party-id"]),
        params=dict(parse_qsl(got.query, keep_blank_values=True)) if got.query else None,
        body=json.loads(got.body) if got.body else None,
    )


async def test_a_signed_open_request_verifies_at_the_receiver(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    await node.directory.remember_keys([OwnedKey(KeyKind.LOCATION_ID, "LOC1", CPO)])
    path = "/scpi/sender/2.2/locations/LOC1?x=1"
    got = await node.send(emsp, "GET", path, to=None, headers=unaddressed_signature(emsp, path))
    assert got.status_code == 1000, got.body
    (received,) = cpo.module_requests()
    notary = Notary.decode(received.headers["SCN-Signature"])
    notary.verify_exactly(received_values(received))  # the receiver's own check passes
    assert notary.signatory == node.address
    assert dict(notary.rewrites[-1].rewritten_fields) == {
        TO_COUNTRY_CODE_PATH: None,
        TO_PARTY_ID_PATH: None,
    }
    assert emsp.account is not None and notary.rewrites[0].signatory == emsp.account.address


async def test_a_signed_open_command_verifies_through_both_rewrites(node: HubUnderTest) -> None:
    """The hub adds the TO headers and hides the response_url: two rewrites, one chain."""
    cpo, emsp = await connect_pair(node)
    await node.directory.remember_keys([OwnedKey(KeyKind.LOCATION_ID, "LOC1", CPO)])
    path, body = (
        "/scpi/receiver/2.2/commands/START_SESSION",
        ('{"response_url":"https://msp.example/r","location_id":"LOC1","token":{"uid":"1"}}'),
    )
    got = await node.send(
        emsp, "POST", path, to=None, body=body, headers=unaddressed_signature(emsp, path, body)
    )
    assert got.status_code == 1000, got.body
    (received,) = cpo.module_requests()
    notary = Notary.decode(received.headers["SCN-Signature"])
    notary.verify_exactly(received_values(received))
    assert len(notary.rewrites) == 2


async def test_a_signature_over_other_values_is_refused(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    await node.directory.remember_keys([OwnedKey(KeyKind.LOCATION_ID, "LOC1", CPO)])
    path = "/scpi/sender/2.2/locations/LOC1"
    forged = unaddressed_signature(emsp, path + "?x=2")  # signed another query
    got = await node.send(emsp, "GET", path + "?x=1", to=None, headers=forged)
    assert got.status_code == 2001
    assert "SCN-Signature" in got.json()["status_message"]
    assert cpo.module_requests() == []


async def test_a_service_copy_of_an_open_request_names_the_receiver_found(
    node: HubUnderTest,
) -> None:
    cpo, emsp = await connect_pair(node)
    service = await node.connect("CH", "SRV", Role.OTHER)
    assert service.account is not None
    node.registry.add_service(
        emsp.party,
        service.party,
        service.account.address,
        ServicePermission.FORWARD_MODULE_LOCATIONS_SENDER,
    )
    await node.directory.remember_keys([OwnedKey(KeyKind.LOCATION_ID, "LOC1", CPO)])
    path = "/scpi/sender/2.2/locations/LOC1"
    got = await node.send(emsp, "GET", path, to=None, headers=unaddressed_signature(emsp, path))
    assert got.status_code == 1000
    await node.drain()
    assert [to_of(r) for r in cpo.module_requests()] == [CPO]
    (copy,) = service.module_requests()
    assert to_of(copy) == service.party and copy.headers["SCPI-from-party-id"] == "MSP"
    notary = Notary.decode(copy.headers["SCN-Signature"])
    notary.verify_exactly(received_values(copy))
    # The copy's signature keeps the receiver the hub found as the TO it replaced.
    assert dict(notary.rewrites[-1].rewritten_fields) == {
        TO_COUNTRY_CODE_PATH: "DE",
        TO_PARTY_ID_PATH: "CPO",
    }
