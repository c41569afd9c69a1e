"""Broadcast push across the network: the sender's node sends one signed node message to every
other node, which sends legs to its own parties only and answers at once. Node A (key 1) and
node B (key 2) share a registry and a network."""

from __future__ import annotations

import json

import pytest

from scn_node.hub.message import ScpiRequest
from scn_node.hub.model import OutboundRequest
from scn_node.hub.peer import MESSAGE_PATH, NodeMessage
from scn_node.hub.rules import ListKind, PartyRules, RuleEntry
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.errors import InvalidParameters
from scn_node.scpi.headers import NODE_SIGNATURE, RoutingHeaders
from scn_node.scpi.party import PartyId, Role
from scn_node.scpi.services import ServicePermission
from scn_node.scpi.versions import InterfaceRole
from tests.fakes.hub import HubUnderTest
from tests.hub.test_broadcast import BODY, LOCATION, QUERY, expect_hub_answer, legs, push, routing
from tests.hub.test_broadcast_legs import KeptObjects, signed_push
from tests.hub.test_signatures import account, signature_received, values_received

Nodes = tuple[HubUnderTest, HubUnderTest]


async def drain(*nodes: HubUnderTest) -> None:
    for node in (*nodes, *nodes):  # a leg on one node may start work on the other
        await node.drain()


def messages_to(node: HubUnderTest) -> list[OutboundRequest]:
    return [r for r in node.network.sent if r.url == node.url + MESSAGE_PATH]


async def test_a_push_reaches_the_receivers_on_every_node(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpo = await one.connect("DE", "CPO", Role.CPO)
    here = await one.connect("DE", "MSP", Role.EMSP)
    there = [await two.connect("NL", "MSP", Role.EMSP), await two.connect("NL", "NSP", Role.NSP)]
    not_there = await two.connect("NL", "CPO", Role.CPO)
    got = await push(one, cpo)
    await drain(one, two)
    expect_hub_answer(got, cpo)
    for party in (here, *there):
        (leg,) = legs(party)
        assert leg.path == party.endpoint_path("locations", "RECEIVER") + "/DE/CPO/LOC1"
        assert (leg.query, leg.body) == (QUERY, BODY)
        assert routing(leg) == ("DE", "SCN", party.party.country_code, party.party.party_id)
        assert leg.headers["X-Correlation-ID"] == "corr-1"
        assert leg.headers["Authorization"] == f"Token {party.token_b}"
    assert legs(not_there) == []
    (sent,) = messages_to(two)  # one message for the node, not one per party there
    assert one.wallet.recover(sent.body, sent.headers[NODE_SIGNATURE]) == one.address
    message = NodeMessage.decode(sent.body)
    assert (message.headers.sender, message.headers.receiver) == (cpo.party, NODE_PARTY)
    assert message.request.body == BODY and message.request.tail == "/DE/CPO/LOC1"


async def test_a_broadcast_never_loops_back(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpo = await one.connect("DE", "CPO", Role.CPO)
    here = await one.connect("DE", "MSP", Role.EMSP)
    there = await two.connect("NL", "MSP", Role.EMSP)
    await push(one, cpo)
    await drain(one, two)
    assert messages_to(one) == [] and len(messages_to(two)) == 1
    assert (len(legs(here)), len(legs(there))) == (1, 1)


async def test_a_replayed_broadcast_message_is_refused(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpo = await one.connect("DE", "CPO", Role.CPO)
    there = await two.connect("NL", "MSP", Role.EMSP)
    await push(one, cpo)
    await drain(one, two)
    (sent,) = messages_to(two)
    replayed = await two.serve_peer(sent)
    await drain(two)
    assert (replayed.status, json.loads(replayed.body)["status_code"]) == (409, 4902)
    assert len(legs(there)) == 1


async def test_a_sender_with_no_receiver_on_its_node_reaches_the_others(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpo = await one.connect("DE", "CPO", Role.CPO)
    there = await two.connect("NL", "MSP", Role.EMSP)
    got = await push(one, cpo)  # the network may have receivers: not 4003
    await drain(one, two)
    expect_hub_answer(got, cpo)
    assert len(legs(there)) == 1


async def test_a_node_without_receivers_or_down_touches_no_answer(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpo = await one.connect("DE", "CPO", Role.CPO)
    here = await one.connect("DE", "MSP", Role.EMSP)
    expect_hub_answer(await push(one, cpo), cpo)  # node B has nobody: its 4003 is logged
    await drain(one, two)
    broadcasts = one.hub.forwarder.broadcasts
    assert (broadcasts.messages_sent, broadcasts.messages_failed) == (0, 1)
    one.network.drop(two.url)
    expect_hub_answer(await push(one, cpo), cpo)
    assert (broadcasts.messages_sent, broadcasts.messages_failed) == (0, 2)
    assert len(legs(here)) == 2


async def test_the_other_node_applies_its_parties_rules(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpo = await one.connect("DE", "CPO", Role.CPO)
    blocking = await two.connect("NL", "MSP", Role.EMSP)
    open_ = await two.connect("BE", "MSP", Role.EMSP)
    entry = RuleEntry(cpo.party)
    await two.set_rules(blocking, PartyRules(active=ListKind.BLACKLIST, entries=(entry,)))
    await push(one, cpo)
    await drain(one, two)
    assert legs(blocking) == [] and len(legs(open_)) == 1


async def test_the_other_node_finds_the_senders_roles_in_the_registry(two_nodes: Nodes) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    other_emsp = await two.connect("NL", "MSP", Role.EMSP)
    token = b'{"uid":"T1","type":"RFID"}'
    await push(one, emsp, "/scpi/receiver/2.2/tokens/DE/MSP/T1", body=token, query="")
    await drain(one, two)
    assert [leg.body for leg in legs(cpo)] == [token] and legs(other_emsp) == []


async def test_a_signed_push_is_re_signed_by_the_receivers_node(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpo = await one.connect("DE", "CPO", Role.CPO)
    there = await two.connect("NL", "MSP", Role.EMSP)
    got = await push(one, cpo, headers=signed_push(cpo))
    await drain(one, two)
    expect_hub_answer(got, cpo)
    (leg,) = legs(there)
    notary = signature_received(leg)
    notary.verify_exactly(values_received(leg))
    assert notary.signatories() == [two.address, account(cpo).address]


async def test_every_node_keeps_the_push_with_the_owners_rules(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpo = await one.connect("DE", "CPO", Role.CPO)
    await two.connect("NL", "MSP", Role.EMSP)
    rules = PartyRules(
        signatures=True,
        active=ListKind.WHITELIST,
        entries=(RuleEntry(PartyId("NL", "MSP"), frozenset({"locations", "tariffs"})),),
    )
    await one.set_rules(cpo, rules)
    kept_one, kept_two = KeptObjects(), KeptObjects()
    one.hub.forwarder.broadcasts.stored = kept_one
    two.hub.forwarder.broadcasts.stored = kept_two
    await push(one, cpo)
    await drain(one, two)
    assert kept_one.kept == kept_two.kept == [("PUT", "/DE/CPO/LOC1", BODY, rules)]


async def test_the_senders_service_gets_one_copy_across_the_network(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpo = await one.connect("DE", "CPO", Role.CPO)
    service = await two.connect("CH", "SRV", Role.CPO)
    there = await two.connect("NL", "MSP", Role.EMSP)
    assert service.account is not None
    one.registry.add_service(
        cpo.party, service.party, service.account.address, ServicePermission.FORWARD_ALL
    )
    await push(one, cpo)
    await drain(one, two)
    (copy,) = legs(service)
    assert routing(copy) == ("DE", "CPO", "CH", "SRV")
    assert len(legs(there)) == 1


async def test_broadcast_wait_counts_the_other_nodes(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpo = await one.connect("DE", "CPO", Role.CPO)
    await one.connect("DE", "MSP", Role.EMSP)
    there = await two.connect("NL", "MSP", Role.EMSP)
    one.hub.forwarder.broadcasts.wait = True
    got = await one.send(cpo, "PUT", LOCATION, to=NODE_PARTY, body=BODY)
    expect_hub_answer(got, cpo)
    assert got.json()["status_message"] == (
        "Delivered to 1 of 1 receiving parties on this node; 1 of 1 other nodes took it"
    )
    await drain(one, two)
    assert len(legs(there)) == 1


async def test_a_broadcast_message_must_carry_its_owners_rules(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpo = await one.connect("DE", "CPO", Role.CPO)
    there = await two.connect("NL", "MSP", Role.EMSP)
    headers = RoutingHeaders("r", "c", cpo.party, NODE_PARTY)
    request = ScpiRequest(
        "PUT", "locations", InterfaceRole.RECEIVER, headers, "/DE/CPO/L", body=b"{}"
    )
    raw = NodeMessage(request).encode()
    got = await two.serve_peer(
        OutboundRequest("POST", two.url + MESSAGE_PATH, {NODE_SIGNATURE: one.wallet.sign(raw)}, raw)
    )
    assert json.loads(got.body)["status_code"] == 2001
    assert legs(there) == []


async def test_a_node_message_to_the_hub_is_only_a_broadcast(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpo = await one.connect("DE", "CPO", Role.CPO)
    there = await two.connect("NL", "MSP", Role.EMSP)
    headers = RoutingHeaders("r", "c", cpo.party, NODE_PARTY)
    request = ScpiRequest("GET", "sessions", InterfaceRole.RECEIVER, headers, "/DE/CPO/S1")
    raw = NodeMessage(request, owner_rules=PartyRules()).encode()
    got = await two.serve_peer(
        OutboundRequest("POST", two.url + MESSAGE_PATH, {NODE_SIGNATURE: one.wallet.sign(raw)}, raw)
    )
    refused = json.loads(got.body)
    assert refused["status_code"] == 2001
    assert refused["status_message"] == "GET sessions is not broadcast"
    assert legs(there) == []


# ---------------------------------------------------------------- the message itself


def test_the_owners_rules_travel_with_a_broadcast_message() -> None:
    headers = RoutingHeaders("r", "c", PartyId("DE", "CPO"), NODE_PARTY)
    request = ScpiRequest("PUT", "locations", InterfaceRole.RECEIVER, headers, "/DE/CPO/L1")
    for rules in (
        PartyRules(),
        PartyRules(True, ListKind.BLACKLIST, (RuleEntry(PartyId("NL", "MSP")),)),
        PartyRules(False, ListKind.WHITELIST, ()),  # block all
    ):
        message = NodeMessage(request, owner_rules=rules)
        assert NodeMessage.decode(message.encode()).owner_rules == rules
    plain = NodeMessage(request).encode()
    assert b"owner_rules" not in plain
    assert NodeMessage.decode(plain).owner_rules is None


@pytest.mark.parametrize(
    "rules",
    [
        "yes",
        {"signatures": "yes"},
        {"whitelist": {"active": True, "list": [{"country_code": "DE"}]}},
        {"whitelist": {"active": True, "list": []}, "blacklist": {"active": True, "list": []}},
    ],
)
def test_owner_rules_that_are_not_rules_are_no_message(rules: object) -> None:
    headers = RoutingHeaders("r", "c", PartyId("DE", "CPO"), NODE_PARTY)
    request = ScpiRequest("PUT", "locations", InterfaceRole.RECEIVER, headers, "/DE/CPO/L1")
    data = json.loads(NodeMessage(request).encode())
    data["owner_rules"] = rules
    with pytest.raises(InvalidParameters, match="Not a node message"):
        NodeMessage.decode(json.dumps(data).encode())
