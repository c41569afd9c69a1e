"""HubClientInfo over the fakes: who is told when a party connects, here and on the other node,
and the list a party reads."""

from __future__ import annotations

import json

from scn_node.hub.model import OutboundRequest
from scn_node.hub.rules import PartyRules
from scn_node.scpi.hubclientinfo import ClientInfo, ConnectionStatus
from scn_node.scpi.pagination import Page
from scn_node.scpi.party import Role
from tests.fakes.backoffice import Received
from tests.fakes.hub import HubUnderTest

PAGE = Page(None, None, 0, 10)
PUSH = "/scpi/{role}/2.2/hubclientinfo/receiver/"


def pushes(party_received: list[Received], role: str) -> list[dict[str, object]]:
    prefix = PUSH.format(role=role)
    return [
        json.loads(r.body)
        for r in party_received
        if r.method == "PUT" and r.path.startswith(prefix)
    ]


async def test_a_connect_is_pushed_to_the_parties_already_here(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP, modules=("hubclientinfo",))
    await node.connect("NL", "CPO", Role.CPO)
    await node.drain()
    (pushed,) = pushes(emsp.received, "emsp")
    assert (pushed["country_code"], pushed["party_id"], pushed["status"]) == (
        "NL",
        "CPO",
        "CONNECTED",
    )
    assert emsp.received[-1].path == "/scpi/emsp/2.2/hubclientinfo/receiver/NL/CPO"


async def test_a_connect_is_pushed_to_the_other_node_signed_and_told_to_its_parties(
    two_nodes: tuple[HubUnderTest, HubUnderTest],
) -> None:
    one, two = two_nodes
    there = await two.connect("NL", "MSP", Role.EMSP, modules=("hubclientinfo",))
    await one.connect("DE", "CPO", Role.CPO)
    await one.drain()
    await two.drain()
    (pushed,) = pushes(there.received, "emsp")
    assert (pushed["party_id"], pushed["status"]) == ("CPO", "CONNECTED")


async def test_the_list_holds_only_parties_the_rules_let_reach_the_reader(
    node: HubUnderTest,
) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    await node.connect("NL", "CPO", Role.CPO)
    await node.connect("BE", "CPO", Role.CPO)
    infos, total = await node.hub.presence.client_infos(PAGE, rules=PartyRules())
    assert total == 3
    blocked = PartyRules().block_all()
    infos, total = await node.hub.presence.client_infos(PAGE, rules=blocked)
    assert (infos, total) == ([], 0)
    assert emsp.party in [
        i.party for i in (await node.hub.presence.client_infos(PAGE, rules=PartyRules()))[0]
    ]


async def test_a_routed_request_renews_both_parties(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    other = await node.connect("BE", "CPO", Role.CPO)
    await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    heard = node.hub.presence.last_heard
    assert heard(emsp.party) is not None and heard(cpo.party) is not None
    assert heard(other.party) is None


async def test_a_message_from_a_peer_renews_the_receiver_on_its_node(
    two_nodes: tuple[HubUnderTest, HubUnderTest],
) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    await one.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert two.hub.presence.last_heard(cpo.party) is not None
    assert two.hub.presence.last_heard(emsp.party) is None  # its own node knows it


async def test_a_clientinfo_signed_by_a_node_that_does_not_hold_the_party_is_refused(
    two_nodes: tuple[HubUnderTest, HubUnderTest],
) -> None:
    one, two = two_nodes
    cpo = await two.connect("NL", "CPO", Role.CPO)
    info = ClientInfo(cpo.party, Role.CPO, ConnectionStatus.SUSPENDED, one.hub.presence.clock())
    body = info.encode()
    forged = OutboundRequest(
        "PUT", two.url + "/scn/client-info", {"SCN-Signature": one.wallet.sign(body)}, body
    )
    got = await two.serve_peer(forged)
    assert got.status == 403 and b'"status_code":4901' in got.body
