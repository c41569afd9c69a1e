"""A receiver's own rules (scnrules) in the pipeline: who may reach it, for which modules, on
this node and when the sender is on another node.

A party changes its rules here as the scnrules endpoint does: read them, apply one change, save
them whole (tests/node/test_rules.py tests the endpoint itself; tests/hub/test_rules.py the
PartyRules value)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from scn_node.hub.rules import ListKind, PartyRules, RuleEntry, parse_entries, parse_entry
from scn_node.scpi.errors import InvalidParameters
from scn_node.scpi.pagination import Page
from scn_node.scpi.party import Role
from tests.fakes.backoffice import FakeBackoffice, answer
from tests.fakes.hub import Answer, HubUnderTest

WHITELIST, BLACKLIST = ListKind.WHITELIST, ListKind.BLACKLIST
LOCATION = "/scpi/sender/2.2/locations/1"
LITE = "/scpi/custom/sender/lite-locations"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")  # the node's, or a party's


# ---------------------------------------------------------------- helpers


async def change(
    node: HubUnderTest, party: FakeBackoffice, edit: Callable[[PartyRules], PartyRules]
) -> dict[str, Any]:
    """`party` changes its rules; what the endpoint answers: the rules as saved."""
    await node.set_rules(party, edit((await node.caller(party)).platform.rules))
    return await saved(node, party)


async def saved(node: HubUnderTest, party: FakeBackoffice) -> dict[str, Any]:
    """The party's rules as GET scnrules shows them."""
    return (await node.caller(party)).platform.rules.to_json()


def entry(party: FakeBackoffice, *modules: str) -> dict[str, Any]:
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


def listed(party: FakeBackoffice, *modules: str) -> RuleEntry:
    return parse_entry(entry(party, *modules))


def expect(got: Answer, http_status: int, status_code: int, message: str = "") -> Any:
    """Assert an SCPI envelope's HTTP status, status_code and message; return it."""
    assert got.status == http_status, got.body
    body = got.json()
    assert body["status_code"] == status_code, body
    assert TIMESTAMP.fullmatch(body["timestamp"]), body
    assert message in body.get("status_message", ""), body
    return body


def arrived(party: FakeBackoffice) -> list[str]:
    return [r.path for r in party.module_requests()]


# ---------------------------------------------------------------- on this node


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


async def test_a_blacklisted_sender_is_refused_and_the_receiver_gets_nothing(
    node: HubUnderTest,
) -> None:
    cpo = await node.connect("DE", "CPO")
    msp = await node.connect("DE", "MSP", Role.EMSP)
    oth = await node.connect("NL", "OTH", Role.EMSP)
    await change(node, cpo, lambda r: r.add(BLACKLIST, listed(msp)))
    for path in (LOCATION, "/scpi/sender/2.2/tariffs", "/ocpi/sender/2.2/sessions"):
        refused = await node.send(msp, "GET", path, to=cpo)
        expect(refused, 200, 2000, "Receiver DE CPO does not accept")
        assert "data" not in refused.json()
    assert arrived(cpo) == []
    expect(await node.send(oth, "GET", LOCATION, to=cpo), 200, 1000)
    assert arrived(cpo) == [cpo.endpoint_path("locations", "SENDER") + "/1"]


async def test_9_blacklisting_one_module_refuses_only_that_module(node: HubUnderTest) -> None:
    """OCN scenario 9, and the regression: OCN refused every module of that sender."""
    cpo = await node.connect("DE", "CPO", custom_modules=("lite-locations",))
    msp = await node.connect("DE", "MSP", Role.EMSP)
    await change(node, cpo, lambda r: r.add(BLACKLIST, listed(msp, "lite-locations")))
    refused = await node.send(msp, "GET", LITE, to=cpo)
    expect(refused, 200, 2000, "does not accept lite-locations requests from DE MSP")
    assert arrived(cpo) == []
    expect(await node.send(msp, "GET", LOCATION, to=cpo), 200, 1000)
    assert arrived(cpo) == [cpo.endpoint_path("locations", "SENDER") + "/1"]


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


async def test_a_whitelist_lets_in_only_its_parties_and_modules(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO")
    msp = await node.connect("DE", "MSP", Role.EMSP)
    oth = await node.connect("NL", "OTH", Role.EMSP)
    await change(node, cpo, lambda r: r.add(WHITELIST, listed(msp, "locations")))
    expect(await node.send(msp, "GET", LOCATION, to=cpo), 200, 1000)
    refused = await node.send(msp, "GET", "/scpi/sender/2.2/tariffs", to=cpo)
    expect(refused, 200, 2000, "not on its whitelist for that module")
    expect(await node.send(oth, "GET", LOCATION, to=cpo), 200, 2000, "not on its whitelist")
    assert arrived(cpo) == [cpo.endpoint_path("locations", "SENDER") + "/1"]

    # Block all, then open up again with an empty whitelist.
    await change(node, cpo, lambda r: r.block_all())
    expect(await node.send(msp, "GET", LOCATION, to=cpo), 200, 2000)
    await change(node, cpo, lambda r: r.replace_list(WHITELIST, ()))
    expect(await node.send(oth, "GET", LOCATION, to=cpo), 200, 1000)
    assert len(arrived(cpo)) == 2


async def test_the_senders_own_rules_do_not_stop_its_requests(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO")
    msp = await node.connect("DE", "MSP", Role.EMSP)
    await change(node, msp, lambda r: r.block_all())
    expect(await node.send(msp, "GET", LOCATION, to=cpo), 200, 1000)


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


async def test_a_blacklisted_sender_cannot_use_node_urls_it_was_given_before(
    node: HubUnderTest,
) -> None:
    cpo = await node.connect("DE", "CPO")
    msp = await node.connect("DE", "MSP", Role.EMSP)
    page_two = cpo.endpoint("locations", "SENDER") + "?offset=1"
    cpo.on(
        "GET",
        cpo.endpoint_path("locations", "SENDER"),
        lambda _: answer([{"id": "1"}], headers={"Link": f'<{page_two}>; rel="next"'}),
    )
    first = await node.send(msp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    next_page = re.fullmatch(r"<([^>]+)>; rel=\"next\"", first.headers["Link"])
    assert next_page is not None
    await change(node, cpo, lambda r: r.add(BLACKLIST, listed(msp)))
    before = len(arrived(cpo))

    refused = await node.send(msp, "GET", next_page.group(1), to=cpo)

    expect(refused, 200, 2000, "Receiver DE CPO does not accept locations requests")
    assert len(arrived(cpo)) == before


# ---------------------------------------------------------------- a receiver on another node


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


async def test_rules_refuse_a_sender_on_a_peer_node(
    two_nodes: tuple[HubUnderTest, HubUnderTest],
) -> None:
    one, two = two_nodes
    cpo = await one.connect("DE", "CPO", custom_modules=("lite-locations",))
    msp = await two.connect("DE", "MSP", Role.EMSP)
    await change(one, cpo, lambda r: r.add(BLACKLIST, listed(msp, "lite-locations")))
    refused = await two.send(msp, "GET", LITE, to=cpo)
    expect(refused, 200, 2000, "does not accept lite-locations requests from DE MSP")
    assert arrived(cpo) == []
    expect(await two.send(msp, "GET", LOCATION, to=cpo), 200, 1000)
    assert arrived(cpo) == [cpo.endpoint_path("locations", "SENDER") + "/1"]


# ---------------------------------------------------------------- each party's own lists


async def test_regression_block_all_by_one_party_leaves_the_others_rules(
    node: HubUnderTest,
) -> None:
    """OCN's block-all wiped the rule lists of every platform on the node."""
    cpo = await node.connect("DE", "CPO")
    msp = await node.connect("DE", "MSP", Role.EMSP)
    oth = await node.connect("NL", "OTH", Role.EMSP)
    await change(node, cpo, lambda r: r.add(BLACKLIST, listed(oth)))
    await change(node, msp, lambda r: r.add(WHITELIST, listed(cpo)))
    assert await change(node, msp, lambda r: r.block_all()) == rules(whitelist=[])
    assert await saved(node, cpo) == rules(blacklist=[entry(oth)])
    # ... and they still act: CPO still refuses OTH and takes MSP.
    refused = await node.send(oth, "GET", LOCATION, to=cpo)
    expect(refused, 200, 2000, "on its blacklist")
    expect(await node.send(msp, "GET", LOCATION, to=cpo), 200, 1000)
    expect(await node.send(cpo, "GET", LOCATION, to=msp), 200, 2000, "not on its whitelist")


async def test_regression_already_listed_is_per_party(node: HubUnderTest) -> None:
    """OCN checked 'Party already on OCN Rules whitelist' across all platforms."""
    cpo = await node.connect("DE", "CPO")
    cpb = await node.connect("CH", "CPB")
    msp = node.new_party("DE", "MSP", Role.EMSP)
    for party in (cpo, cpb):
        got = await change(node, party, lambda r: r.add(WHITELIST, listed(msp)))
        assert got == rules(whitelist=[entry(msp)])


async def test_a_rule_list_holds_at_most_500_parties(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO")
    last = await node.connect("NL", "499", Role.EMSP)
    many = [{"country_code": "NL", "party_id": f"{n:03d}"} for n in range(501)]
    with pytest.raises(InvalidParameters, match="at most 500") as too_many:
        await change(node, cpo, lambda r: r.replace_list(WHITELIST, parse_entries(many)))
    assert (too_many.value.http_status, too_many.value.status) == (200, 2001)
    full = await change(node, cpo, lambda r: r.replace_list(WHITELIST, parse_entries(many[:500])))
    assert len(full["whitelist"]["list"]) == 500
    with pytest.raises(InvalidParameters, match="at most 500") as one_more:
        await change(node, cpo, lambda r: r.add(WHITELIST, parse_entry(many[500])))
    assert (one_more.value.http_status, one_more.value.status) == (200, 2001)
    # The HubClientInfo filter is one SQL condition per entry: 500 of them still make a query.
    caller = await node.caller(cpo)
    infos, total = await node.hub.presence.client_infos(
        Page(None, None, 0, 100), rules=caller.platform.rules
    )
    assert [(i.party, i.role) for i in infos] == [(last.party, Role.EMSP)] and total == 1
