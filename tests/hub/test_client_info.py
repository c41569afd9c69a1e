"""HubClientInfo over the fakes, on one node and across two: pushes on connect, leave and status
changes, the planned-party search, the list a party reads, and ClientInfo between nodes (OCN
scenarios 10, 13, 14, 16 and 17). The still-alive check: test_client_info_still_alive.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from scn_node.hub.model import OutboundRequest, PartyResponse
from scn_node.hub.peer import CLIENT_INFO_PATH
from scn_node.hub.rules import ListKind, PartyRules, RuleEntry
from scn_node.registry.wallet import NodeWallet
from scn_node.scpi.headers import NODE_SIGNATURE
from scn_node.scpi.hubclientinfo import ClientInfo, ConnectionStatus
from scn_node.scpi.pagination import Page
from scn_node.scpi.party import PartyId, Role
from tests.fakes.backoffice import ALL_MODULES, FakeBackoffice, Received
from tests.fakes.hub import HubUnderTest, key

WATCHING = (*ALL_MODULES, "hubclientinfo")  # offers the hubclientinfo RECEIVER interface
Nodes = tuple[HubUnderTest, HubUnderTest]


# ---------------------------------------------------------------- helpers (shared with
# test_client_info_still_alive.py)


async def settle(*nodes: HubUnderTest) -> None:
    """Until every push has landed: a push to a peer node starts that node's own pushes."""
    for _ in range(2):
        for node in nodes:
            await node.drain()


def pushes(watching: FakeBackoffice) -> list[Received]:
    """The PUTs that reached the party's hubclientinfo receiver, in order."""
    prefix = watching.endpoint_path("hubclientinfo", "RECEIVER") + "/"
    return [r for r in watching.received if r.method == "PUT" and r.path.startswith(prefix)]


def statuses(watching: FakeBackoffice, about: FakeBackoffice | PartyId) -> list[str]:
    party = about.party if isinstance(about, FakeBackoffice) else about
    return [
        r.json()["status"]
        for r in pushes(watching)
        if (r.json()["country_code"], r.json()["party_id"]) == (party.country_code, party.party_id)
    ]


async def page_of(
    node: HubUnderTest, asking: FakeBackoffice, offset: int = 0, limit: int = 100
) -> tuple[list[dict[str, Any]], int]:
    """One page of the list `asking` reads (GET hubclientinfo), as JSON, and the total."""
    caller = await node.caller(asking)
    infos, total = await node.hub.presence.client_infos(
        Page(None, None, offset, limit), rules=caller.platform.rules
    )
    return [info.to_json() for info in infos], total


async def listed(node: HubUnderTest, asking: FakeBackoffice) -> dict[tuple[str, str], Any]:
    """The list `asking` reads, by party."""
    infos, _ = await page_of(node, asking)
    return {(i["country_code"], i["party_id"]): i for i in infos}


def when(info: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(info["last_updated"]).replace("Z", "+00:00"))


def lower_keys(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


async def leave(node: HubUnderTest, party: FakeBackoffice) -> None:
    """The party's DELETE /scpi/2.2/credentials."""
    await node.hub.handshake.unregister(await node.caller(party))


def client_info(
    party: PartyId,
    status: ConnectionStatus = ConnectionStatus.CONNECTED,
    moment: datetime | None = None,
) -> bytes:
    return ClientInfo(party, Role.CPO, status, moment or datetime.now(UTC)).encode()


async def put_client_info(
    node: HubUnderTest, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    """A peer's PUT /scn/client-info: the HTTP status and the envelope it gets back."""
    got: PartyResponse = await node.serve_peer(
        OutboundRequest("PUT", node.url + CLIENT_INFO_PATH, headers or {}, body)
    )
    return got.status, json.loads(got.body)


def whitelist(*parties: PartyId) -> PartyRules:
    rules = PartyRules()
    for party in parties:
        rules = rules.add(ListKind.WHITELIST, RuleEntry(party))
    return rules


# ---------------------------------------------------------------- pushes


async def test_10_a_connect_and_a_leave_are_pushed_here_and_to_the_peer(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpa = await one.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    cpb = await two.connect("CH", "CPB", Role.CPO, modules=WATCHING)
    cpc = await one.connect("CH", "CPC", Role.CPO, modules=WATCHING)
    await settle(one, two)
    for watching in (cpa, cpb):
        assert statuses(watching, cpc) == ["CONNECTED"]
    put = next(r for r in pushes(cpa) if r.json()["party_id"] == "CPC")
    assert put.path == cpa.endpoint_path("hubclientinfo", "RECEIVER") + "/CH/CPC"
    headers = lower_keys(put.headers)
    assert headers["authorization"] == f"Token {cpa.token_b}"
    assert headers["content-type"] == "application/json"
    assert headers["x-request-id"] and headers["x-correlation-id"]
    assert not [h for h in headers if h.startswith(("scpi-", "ocpi-"))]
    body = put.json()
    assert set(body) == {"party_id", "country_code", "role", "status", "last_updated"}
    assert (body["country_code"], body["role"]) == ("CH", "CPO")
    assert statuses(cpc, cpc) == []  # a party is not told about itself

    await leave(one, cpc)
    await settle(one, two)
    for watching in (cpa, cpb):
        assert statuses(watching, cpc) == ["CONNECTED", "SUSPENDED"]


async def test_a_party_without_a_hubclientinfo_receiver_is_not_pushed_to(
    node: HubUnderTest,
) -> None:
    quiet = await node.connect("DE", "CPO", Role.CPO)  # no hubclientinfo endpoint
    watching = await node.connect("NL", "CPA", Role.CPO, modules=WATCHING)
    newcomer = await node.connect("NL", "CPC", Role.CPO)
    await node.drain()
    assert statuses(watching, newcomer) == ["CONNECTED"]
    assert not [r for r in quiet.received if "hubclientinfo" in r.path]


# ---------------------------------------------------------------- planned parties


async def test_13_a_listed_party_that_never_connected_is_planned(node: HubUnderTest) -> None:
    cpa = await node.connect("CH", "CPA", Role.CPO)
    ton = node.new_party("GB", "TON", Role.EMSP)
    node.list_party(ton)
    await node.hub.presence.search_planned()  # what runs at start-up and every so often

    info = (await listed(node, cpa))[("GB", "TON")]
    assert (info["role"], info["status"]) == ("EMSP", "PLANNED")
    assert (await listed(node, cpa))[("CH", "CPA")]["status"] == "CONNECTED"  # not planned

    # Once it connects, it is listed once, as connected.
    assert (await node.register(ton, await node.token_a())).status_code == 1000
    found = [i for i in (await listed(node, cpa)).values() if i["party_id"] == "TON"]
    assert [i["status"] for i in found] == ["CONNECTED"]


async def test_17_a_newly_listed_party_is_pushed_as_planned_on_both_nodes(
    two_nodes: Nodes,
) -> None:
    one, two = two_nodes
    cpa = await one.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    msp = await one.connect("DE", "MSP", Role.EMSP, modules=WATCHING)
    cpb = await two.connect("CH", "CPB", Role.CPO, modules=WATCHING)
    sev = one.new_party("GB", "SEV", Role.CPO)
    one.list_party(sev)
    await one.hub.presence.search_planned()
    await settle(one, two)
    assert all(statuses(w, sev) == ["PLANNED"] for w in (cpa, msp, cpb))
    assert (await listed(two, cpb))[("GB", "SEV")]["status"] == "PLANNED"


# ---------------------------------------------------------------- the list, node to node


async def test_the_list_holds_parties_of_the_peer_and_pages_through_them(
    two_nodes: Nodes,
) -> None:
    one, two = two_nodes
    cpa = await one.connect("CH", "CPA", Role.CPO)
    await one.connect("DE", "MSP", Role.EMSP)
    cpb = await two.connect("CH", "CPB", Role.CPO)
    await two.connect("NL", "MSP", Role.EMSP)
    await settle(one, two)

    everyone = await listed(one, cpa)
    assert {k: v["status"] for k, v in everyone.items()} == {
        ("CH", "CPA"): "CONNECTED",
        ("DE", "MSP"): "CONNECTED",
        ("CH", "CPB"): "CONNECTED",
        ("NL", "MSP"): "CONNECTED",
    }
    seen: list[tuple[str, str]] = []
    offset, total = 0, 4
    while offset < total:  # where the web adapter's Link leads, limit=1
        infos, total = await page_of(one, cpa, offset, limit=1)
        assert (len(infos), total) == (1, 4)
        seen += [(i["country_code"], i["party_id"]) for i in infos]
        offset += 1
    assert sorted(seen) == sorted(everyone)
    times = [when(everyone[k]) for k in seen]
    assert times == sorted(times)  # oldest change first

    await leave(two, cpb)
    await settle(two, one)
    assert (await listed(one, cpa))[("CH", "CPB")]["status"] == "SUSPENDED"


async def test_a_forged_client_info_is_refused_and_not_kept(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpa = await one.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    xyz = two.new_party("NL", "XYZ", Role.CPO)
    two.list_party(xyz)  # listed with node two, never connected
    body = client_info(xyz.party)
    for headers in (
        {NODE_SIGNATURE: NodeWallet("0x" + "11" * 32).sign(body)},
        {NODE_SIGNATURE: one.wallet.sign(body)},  # the receiving node's own key
        {NODE_SIGNATURE: "0x1234"},
        {},
    ):
        status, refused = await put_client_info(one, body, headers)
        assert (status, refused["status_code"]) == (403, 4901), refused
    assert ("NL", "XYZ") not in await listed(one, cpa)

    status, accepted = await put_client_info(one, body, {NODE_SIGNATURE: two.wallet.sign(body)})
    assert (status, accepted["status_code"]) == (200, 1000)
    assert (await listed(one, cpa))[("NL", "XYZ")]["status"] == "CONNECTED"
    await one.drain()
    assert statuses(cpa, xyz) == ["CONNECTED"]


async def test_an_older_client_info_does_not_overwrite_a_newer_one(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpa = await one.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    xyz = two.new_party("NL", "XYZ", Role.CPO)
    two.list_party(xyz)
    now = datetime.now(UTC)
    older = client_info(xyz.party, ConnectionStatus.CONNECTED, now - timedelta(seconds=1))
    newer = client_info(xyz.party, ConnectionStatus.SUSPENDED, now)
    for body in (newer, older):
        _, answered = await put_client_info(one, body, {NODE_SIGNATURE: two.wallet.sign(body)})
        assert answered["status_code"] == 1000
    assert (await listed(one, cpa))[("NL", "XYZ")]["status"] == "SUSPENDED"
    await one.drain()
    assert statuses(cpa, xyz) == ["SUSPENDED"]


async def test_a_client_info_dated_in_the_future_is_refused_and_pins_nothing(
    node: HubUnderTest,
) -> None:
    """A year-9999 last_updated would win over every later change; more than 2 minutes ahead
    is refused."""
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    wallet = NodeWallet(key(7))  # a peer node, listed but not on the network
    node.registry.set_node(wallet.address, "http://node-x.node.test")
    xyz = PartyId("NL", "XYZ")
    node.registry.list_party(xyz, [Role.CPO], wallet.address)

    async def put(body: bytes) -> tuple[int, dict[str, Any]]:
        return await put_client_info(node, body, {NODE_SIGNATURE: wallet.sign(body)})

    future = client_info(xyz, ConnectionStatus.CONNECTED, datetime(9999, 12, 31, tzinfo=UTC))
    status, refused = await put(future)
    assert (status, refused["status_code"]) == (200, 2001), refused
    assert "9999-12-31" in refused["status_message"]
    assert "in the future" in refused["status_message"]
    soon = datetime.now(UTC) + timedelta(seconds=60)  # a clock a minute ahead is fine
    assert (await put(client_info(xyz, moment=soon)))[1]["status_code"] == 1000
    later = client_info(xyz, ConnectionStatus.SUSPENDED, soon + timedelta(seconds=1))
    assert (await put(later))[1]["status_code"] == 1000
    assert (await listed(node, cpa))[("NL", "XYZ")]["status"] == "SUSPENDED"


async def test_a_client_info_that_is_not_one_is_2001(node: HubUnderTest) -> None:
    body = json.dumps({"party_id": "XYZ", "country_code": "NL"}).encode()
    status, answered = await put_client_info(node, body)
    assert (status, answered["status_code"]) == (200, 2001)


# ---------------------------------------------------------------- the parties' own rules


async def test_14_a_blacklisted_party_leaves_the_list_and_the_others_stay(
    two_nodes: Nodes,
) -> None:
    one, two = two_nodes
    msp = await one.connect("DE", "MSP", Role.EMSP)
    cpa = await one.connect("CH", "CPA", Role.CPO)
    await two.connect("CH", "CPB", Role.CPO)
    await settle(one, two)

    before = await listed(one, msp)
    assert set(before) == {("DE", "MSP"), ("CH", "CPA"), ("CH", "CPB")}
    every_module = PartyRules().add(ListKind.BLACKLIST, RuleEntry(cpa.party))
    await one.set_rules(msp, every_module)
    assert set(await listed(one, msp)) == {("DE", "MSP"), ("CH", "CPB")}
    assert set(await listed(one, cpa)) == set(before)  # the rules are MSP's alone
    # Blacklisted for one module, CPA still reaches MSP with the others: it is listed again.
    locations_only = (RuleEntry(cpa.party, frozenset({"locations"})),)
    await one.set_rules(msp, every_module.replace_list(ListKind.BLACKLIST, locations_only))
    assert set(await listed(one, msp)) == set(before)


async def test_16_pushes_from_a_peer_node_follow_the_rules_too(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpa = await one.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    watching = await one.connect("NL", "WAT", Role.CPO, modules=WATCHING)
    await one.set_rules(cpa, whitelist(PartyId("DE", "MSP")))
    cpb = await two.connect("CH", "CPB", Role.CPO)
    msp = await two.connect("DE", "MSP", Role.EMSP)
    await settle(two, one)
    assert statuses(watching, cpb) == ["CONNECTED"]
    assert statuses(cpa, msp) == ["CONNECTED"]
    assert statuses(cpa, cpb) == []
