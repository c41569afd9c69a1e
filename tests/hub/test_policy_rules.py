"""A receiver's own rules (scnrules) in the pipeline: who may reach it, for which modules, on
this node and when the sender is on another node."""

from __future__ import annotations

from scn_node.hub.rules import ListKind, PartyRules, RuleEntry
from scn_node.scpi.party import Role
from tests.fakes.backoffice import answer
from tests.fakes.hub import HubUnderTest


async def test_a_blacklisted_sender_is_refused_for_that_module_only(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    rules = PartyRules(
        active=ListKind.BLACKLIST, entries=(RuleEntry(emsp.party, frozenset({"tariffs"})),)
    )
    await node.set_rules(cpo, rules)
    refused = await node.send(emsp, "GET", "/scpi/sender/2.2/tariffs", to=cpo)
    assert (refused.status, refused.status_code) == (200, 2000)
    assert "on its blacklist" in refused.json()["status_message"]
    allowed = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert allowed.status_code == 1000
    assert [r.path for r in cpo.module_requests()] == ["/scpi/cpo/2.2/locations/sender"]


async def test_block_all_refuses_everyone(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    await node.set_rules(cpo, PartyRules().block_all())
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert got.status_code == 2000
    assert "not on its whitelist" in got.json()["status_message"]


async def test_a_whitelisted_sender_passes(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    other = await node.connect("BE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    await node.set_rules(
        cpo, PartyRules(active=ListKind.WHITELIST, entries=(RuleEntry(emsp.party),))
    )
    assert (await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)).status_code == 1000
    assert (await node.send(other, "GET", "/scpi/sender/2.2/locations", to=cpo)).status_code == 2000


async def test_the_rules_of_a_receiver_on_another_node_apply_there(
    two_nodes: tuple[HubUnderTest, HubUnderTest],
) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    await two.set_rules(cpo, PartyRules().block_all())
    got = await one.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert got.status_code == 2000 and "NL CPO does not accept" in got.json()["status_message"]
    assert cpo.module_requests() == []


async def test_a_blocked_sender_cannot_use_an_old_proxy_url(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    link = f'<{cpo.endpoint("locations", "SENDER")}?offset=1>; rel="next"'
    cpo.on(
        "GET",
        cpo.endpoint_path("locations", "SENDER"),
        lambda _: answer([], headers={"Link": link}),
    )
    first = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    proxy_url = first.headers["Link"][1 : first.headers["Link"].index(">")]
    await node.set_rules(cpo, PartyRules().block_all())
    got = await node.send(emsp, "GET", proxy_url, to=cpo)
    assert got.status_code == 2000
