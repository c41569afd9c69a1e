"""HubClientInfo across two nodes: pushes on connect, leave and status changes, the still-alive
check, the planned-party search, and the list (OCN scenarios 10-13, 15 and 17)."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from aiohttp import web

from scn_node.registry.wallet import NodeWallet
from scn_node.scpi.hubclientinfo import ClientInfo, ConnectionStatus
from scn_node.scpi.party import PartyId, Role
from scn_node.settings import Settings, SettingsError
from tests.node.conftest import PEER_NODE_ACCOUNT, Network
from tests.node.parties import ALL_MODULES, FakeParty, Received, ok

HUB_CLIENT_INFO = "/scpi/2.2/hubclientinfo"
WATCHING = (*ALL_MODULES, "hubclientinfo")  # offers the hubclientinfo RECEIVER interface
WITHIN = 10.0
T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T | None]], what: str) -> T:
    """Poll `check` until it gives something, for at most WITHIN seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WITHIN
    while True:
        found = await check()
        if found is not None and found is not False:
            return found
        assert loop.time() < deadline, f"waited {WITHIN} s for {what}"
        await asyncio.sleep(0.02)


def pushes(watching: FakeParty) -> list[Received]:
    """The PUTs that reached the party's hubclientinfo receiver, in order."""
    prefix = watching.endpoint_path("hubclientinfo", "RECEIVER") + "/"
    return [r for r in watching.received if r.method == "PUT" and r.path.startswith(prefix)]


def statuses(watching: FakeParty, about: FakeParty | PartyId) -> list[str]:
    party = about.party if isinstance(about, FakeParty) else about
    return [
        r.json()["status"]
        for r in pushes(watching)
        if (r.json()["country_code"], r.json()["party_id"]) == (party.country_code, party.party_id)
    ]


async def told(watching: FakeParty, about: FakeParty | PartyId, status: str) -> None:
    async def arrived() -> bool:
        return status in statuses(watching, about)

    await eventually(arrived, f"{watching.party} hearing {about} is {status}")


async def listed(net: Network, asking: FakeParty, query: str = "") -> dict[tuple[str, str], Any]:
    """GET hubclientinfo as `asking`, by party."""
    response = await net.client.get(
        f"{HUB_CLIENT_INFO}{query}", headers={"Authorization": asking.authorization()}
    )
    assert response.status_code == 200, response.text
    return {(i["country_code"], i["party_id"]): i for i in response.json()["data"]}


def when(info: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(info["last_updated"]).replace("Z", "+00:00"))


async def restart(net: Network, **settings: Any) -> None:
    await net.stop_node()
    await net.start_node(**settings)


class RestartableParty(FakeParty):
    """A FakeParty that comes back on the port it had, so the node finds it again."""

    port: int = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://127.0.0.1:{self.port}"


async def connect_restartable(net: Network, country_code: str, party_id: str) -> FakeParty:
    party = RestartableParty(PartyId(country_code, party_id), Role.EMSP, f"token-b-{uuid.uuid4()}")
    await party.start()
    net.parties.append(party)
    await net.list_party(party)
    response = await net.post_credentials(party, await net.token_a())
    assert response.json()["status_code"] == 1000, response.text
    party.token_c = response.json()["data"]["token"]
    return party


# ---------------------------------------------------------------- pushes


async def test_10_a_connect_and_a_leave_are_pushed_here_and_to_the_peer(
    peers: tuple[Network, Network],
) -> None:
    one, two = peers
    cpa = await one.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    cpb = await two.connect("CH", "CPB", Role.CPO, modules=WATCHING)
    cpc = await one.connect("CH", "CPC", Role.CPO, modules=WATCHING)
    for watching in (cpa, cpb):
        await told(watching, cpc, "CONNECTED")
    put = next(r for r in pushes(cpa) if r.json()["party_id"] == "CPC")
    assert put.path == cpa.endpoint_path("hubclientinfo", "RECEIVER") + "/CH/CPC"
    assert put.headers["Authorization"] == f"Token {cpa.token_b}"
    assert put.headers["Content-Type"] == "application/json"
    assert put.headers["X-Request-ID"] and put.headers["X-Correlation-ID"]
    assert not [h for h in put.headers if h.lower().startswith(("scpi-", "ocpi-"))]
    body = put.json()
    assert set(body) == {"party_id", "country_code", "role", "status", "last_updated"}
    assert (body["country_code"], body["role"]) == ("CH", "CPO")
    assert statuses(cpc, cpc) == []  # a party is not told about itself

    left = await one.client.delete(
        "/scpi/2.2/credentials", headers={"Authorization": cpc.authorization()}
    )
    assert left.json()["status_code"] == 1000, left.text
    for watching in (cpa, cpb):
        await told(watching, cpc, "SUSPENDED")
        assert statuses(watching, cpc) == ["CONNECTED", "SUSPENDED"]


async def test_a_party_without_a_hubclientinfo_receiver_is_not_pushed_to(
    network: Network,
) -> None:
    quiet = await network.connect("DE", "CPO", Role.CPO)  # no hubclientinfo endpoint
    watching = await network.connect("NL", "CPA", Role.CPO, modules=WATCHING)
    newcomer = await network.connect("NL", "CPC", Role.CPO)
    await told(watching, newcomer, "CONNECTED")
    assert not [r for r in quiet.received if "hubclientinfo" in r.path]


async def test_11_without_still_alive_a_stopped_party_stays_connected(
    peers: tuple[Network, Network],
) -> None:
    one, two = peers
    await restart(one, still_alive_seconds=0)
    msp = await one.connect("DE", "MSP", Role.EMSP)
    cpa = await one.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    cpb = await two.connect("CH", "CPB", Role.CPO, modules=WATCHING)
    await msp.stop()
    # Pushes that arrive after the stop show the node was free to tell of it, and did not.
    cpc = await one.connect("CH", "CPC", Role.CPO)
    for watching in (cpa, cpb):
        await told(watching, cpc, "CONNECTED")
        assert statuses(watching, msp) == []
    assert (await listed(one, cpa))[("DE", "MSP")]["status"] == "CONNECTED"
    calls = [[r for r in p.received if r.path == "/scpi/versions"] for p in (cpa, cpb, cpc)]
    assert [len(c) for c in calls] == [1, 1, 1]  # each one's handshake only


async def test_12_a_request_renews_its_two_parties_only(peers: tuple[Network, Network]) -> None:
    one, two = peers
    msp = await one.connect("DE", "MSP", Role.EMSP)
    cpa = await one.connect("CH", "CPA", Role.CPO)
    await two.connect("CH", "CPB", Role.CPO)

    async def with_cpb() -> dict[tuple[str, str], Any] | None:
        found = await listed(one, cpa)
        return found if ("CH", "CPB") in found else None

    before = await eventually(with_cpb, "node one listing CH CPB from node two")
    assert before[("CH", "CPB")]["status"] == "CONNECTED"
    response = await one.send(msp, "GET", "/scpi/sender/2.2/locations/1", to=cpa)
    assert response.json()["status_code"] == 1000, response.text
    after = await listed(one, cpa)
    assert when(after[("DE", "MSP")]) > when(before[("DE", "MSP")])
    assert when(after[("CH", "CPA")]) > when(before[("CH", "CPA")])
    assert after[("CH", "CPB")] == before[("CH", "CPB")]


async def test_a_request_to_the_peer_renews_the_receiver_on_its_node(
    peers: tuple[Network, Network],
) -> None:
    one, two = peers
    msp = await one.connect("DE", "MSP", Role.EMSP)
    cpb = await two.connect("CH", "CPB", Role.CPO)
    before = (await listed(two, cpb))[("CH", "CPB")]
    response = await one.send(msp, "GET", "/scpi/sender/2.2/locations/1", to=cpb)
    assert response.json()["status_code"] == 1000, response.text
    assert when((await listed(two, cpb))[("CH", "CPB")]) > when(before)


# ---------------------------------------------------------------- planned parties


async def test_13_a_listed_party_that_never_connected_is_planned(network: Network) -> None:
    cpa = await network.connect("CH", "CPA", Role.CPO)
    ton = await network.start_party("GB", "TON", Role.EMSP)
    await network.list_party(ton)
    await restart(network, planned_party_seconds=0.2)  # a search runs at start-up

    async def planned() -> dict[str, Any] | None:
        return (await listed(network, cpa)).get(("GB", "TON"))

    info = await eventually(planned, "GB TON in the list")
    assert (info["role"], info["status"]) == ("EMSP", "PLANNED")
    assert (await listed(network, cpa))[("CH", "CPA")]["status"] == "CONNECTED"  # not planned

    # Once it connects, it is listed once, as connected.
    await network.post_credentials(ton, await network.token_a())
    found = [i for i in (await listed(network, cpa)).values() if i["party_id"] == "TON"]
    assert [i["status"] for i in found] == ["CONNECTED"]


async def test_17_a_newly_listed_party_is_pushed_as_planned_on_both_nodes(
    peers: tuple[Network, Network],
) -> None:
    one, two = peers
    await restart(one, planned_party_seconds=0.2)
    cpa = await one.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    msp = await one.connect("DE", "MSP", Role.EMSP, modules=WATCHING)
    cpb = await two.connect("CH", "CPB", Role.CPO, modules=WATCHING)
    sev = await one.start_party("GB", "SEV", Role.CPO)
    await one.list_party(sev)
    for watching in (cpa, msp, cpb):
        await told(watching, sev, "PLANNED")
    assert (await listed(two, cpb))[("GB", "SEV")]["status"] == "PLANNED"
    assert all(statuses(w, sev) == ["PLANNED"] for w in (cpa, msp, cpb))


# ---------------------------------------------------------------- still alive


async def test_15_a_silent_party_goes_offline_here_and_on_the_peer_and_comes_back(
    peers: tuple[Network, Network],
) -> None:
    one, two = peers
    await restart(one, still_alive_seconds=0.2)
    msp = await connect_restartable(one, "DE", "MSP")
    cpa = await one.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    cpb = await two.connect("CH", "CPB", Role.CPO, modules=WATCHING)
    await msp.stop()
    for watching in (cpa, cpb):  # on the same node, and on the other one
        await told(watching, msp, "OFFLINE")
    refused = await one.send(cpa, "GET", "/scpi/sender/2.2/tokens", to=msp)
    assert refused.json()["status_code"] == 4003 and "OFFLINE" in refused.text
    assert (await listed(one, cpa))[("DE", "MSP")]["status"] == "OFFLINE"

    await msp.start()  # on the same port: it answers again
    for watching in (cpa, cpb):

        async def back(w: FakeParty = watching) -> bool:
            return statuses(w, msp)[-1:] == ["CONNECTED"]

        await eventually(back, f"{watching.party} hearing DE MSP is CONNECTED again")
    assert statuses(cpa, msp) == ["OFFLINE", "CONNECTED"]
    assert (await listed(one, cpa))[("DE", "MSP")]["status"] == "CONNECTED"


async def test_a_party_that_answers_badly_goes_offline_and_is_back_when_it_sends(
    network: Network,
) -> None:
    await restart(network, still_alive_seconds=0.2)
    cpa = await network.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    msp = await network.connect("DE", "MSP", Role.EMSP)

    async def unwell(request: web.Request, received: Received) -> web.Response:
        return web.json_response(ok(status_code=3000), status=503)

    msp.on("GET", "/scpi/versions", unwell)
    await told(cpa, msp, "OFFLINE")
    sent = await network.send(msp, "GET", "/scpi/sender/2.2/locations", to=cpa)
    assert sent.json()["status_code"] == 1000, sent.text  # OFFLINE parties may still send
    await told(cpa, msp, "CONNECTED")


async def test_a_busy_party_is_not_called(network: Network) -> None:
    await restart(network, still_alive_seconds=1.0)
    cpa = await network.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    msp = await network.connect("DE", "MSP", Role.EMSP)
    loop = asyncio.get_running_loop()
    until = loop.time() + 2.5
    while loop.time() < until:  # both talk more often than the interval
        response = await network.send(msp, "GET", "/scpi/sender/2.2/locations", to=cpa)
        assert response.json()["status_code"] == 1000
        await asyncio.sleep(0.05)
    checks = [r for p in (cpa, msp) for r in p.received if r.path == "/scpi/versions"]
    assert len(checks) == 2  # each one's handshake only


# ---------------------------------------------------------------- node to node


async def test_the_list_holds_parties_of_the_peer_and_pages_through_them(
    peers: tuple[Network, Network],
) -> None:
    one, two = peers
    cpa = await one.connect("CH", "CPA", Role.CPO)
    await one.connect("DE", "MSP", Role.EMSP)
    cpb = await two.connect("CH", "CPB", Role.CPO)
    await two.connect("NL", "MSP", Role.EMSP)

    async def both() -> dict[tuple[str, str], Any] | None:
        found = await listed(one, cpa)
        return found if {("CH", "CPB"), ("NL", "MSP")} <= set(found) else None

    everyone = await eventually(both, "node one listing node two's parties")
    assert {k: v["status"] for k, v in everyone.items()} == {
        ("CH", "CPA"): "CONNECTED",
        ("DE", "MSP"): "CONNECTED",
        ("CH", "CPB"): "CONNECTED",
        ("NL", "MSP"): "CONNECTED",
    }
    url: str | None = f"{HUB_CLIENT_INFO}?limit=1"
    seen: list[tuple[str, str]] = []
    while url is not None:
        response = await one.client.get(url, headers={"Authorization": cpa.authorization()})
        assert response.headers["X-Total-Count"] == "4", response.text
        seen += [(i["country_code"], i["party_id"]) for i in response.json()["data"]]
        link = response.headers.get("Link")
        url = link[1 : link.index(">")] if link else None
        assert len(seen) <= 4, "the Link never ends"
    assert sorted(seen) == sorted(everyone)
    times = [when(everyone[k]) for k in seen]
    assert times == sorted(times)  # oldest change first

    left = await two.client.delete(
        "/scpi/2.2/credentials", headers={"Authorization": cpb.authorization()}
    )
    assert left.json()["status_code"] == 1000

    async def suspended() -> bool:
        return bool((await listed(one, cpa))[("CH", "CPB")]["status"] == "SUSPENDED")

    await eventually(suspended, "node one listing CH CPB as SUSPENDED")


def client_info(
    party: PartyId,
    status: ConnectionStatus = ConnectionStatus.CONNECTED,
    moment: datetime | None = None,
) -> bytes:
    return ClientInfo(party, Role.CPO, status, moment or datetime.now(UTC)).encode()


async def test_a_forged_client_info_is_refused_and_not_kept(
    peers: tuple[Network, Network],
) -> None:
    one, two = peers
    cpa = await one.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    xyz = await two.start_party("NL", "XYZ", Role.CPO)
    await two.list_party(xyz)  # listed with node two, never connected
    body = client_info(xyz.party)
    for headers in (
        {"SCN-Signature": NodeWallet("0x" + "11" * 32).sign(body)},
        {"SCN-Signature": NodeWallet("0x" + bytes(one.node_account.key).hex()).sign(body)},
        {"SCN-Signature": "0x1234"},
        {},
    ):
        refused = await one.client.put("/scn/client-info", content=body, headers=headers)
        assert (refused.status_code, refused.json()["status_code"]) == (403, 4901), refused.text
    assert ("NL", "XYZ") not in await listed(one, cpa)

    genuine = NodeWallet("0x" + bytes(two.node_account.key).hex()).sign(body)
    accepted = await one.client.put(
        "/scn/client-info", content=body, headers={"SCN-Signature": genuine}
    )
    assert (accepted.status_code, accepted.json()["status_code"]) == (200, 1000)
    assert (await listed(one, cpa))[("NL", "XYZ")]["status"] == "CONNECTED"
    await told(cpa, xyz, "CONNECTED")


async def test_an_older_client_info_does_not_overwrite_a_newer_one(
    peers: tuple[Network, Network],
) -> None:
    one, two = peers
    cpa = await one.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    xyz = await two.start_party("NL", "XYZ", Role.CPO)
    await two.list_party(xyz)
    wallet = NodeWallet("0x" + bytes(two.node_account.key).hex())
    now = datetime.now(UTC)
    older = client_info(xyz.party, ConnectionStatus.CONNECTED, now - timedelta(seconds=1))
    newer = client_info(xyz.party, ConnectionStatus.SUSPENDED, now)
    for body in (newer, older):
        response = await one.client.put(
            "/scn/client-info", content=body, headers={"SCN-Signature": wallet.sign(body)}
        )
        assert response.json()["status_code"] == 1000
    assert (await listed(one, cpa))[("NL", "XYZ")]["status"] == "SUSPENDED"
    await told(cpa, xyz, "SUSPENDED")
    assert statuses(cpa, xyz) == ["SUSPENDED"]


async def test_a_client_info_dated_in_the_future_is_refused_and_pins_nothing(
    network: Network,
) -> None:
    """A year-9999 last_updated would win over every later change; more than 2 minutes ahead
    is refused."""
    cpa = await network.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    operator = network.accounts[PEER_NODE_ACCOUNT]  # a peer node, listed but not running
    await network.registry.set_node(operator, "http://127.0.0.1:9")
    xyz = PartyId("NL", "XYZ")
    await network.registry.set_party(network.new_account(), xyz, [Role.CPO], operator.address)
    wallet = NodeWallet("0x" + bytes(operator.key).hex())

    async def put(body: bytes) -> httpx.Response:
        headers = {"SCN-Signature": wallet.sign(body)}
        return await network.client.put("/scn/client-info", content=body, headers=headers)

    future = client_info(xyz, ConnectionStatus.CONNECTED, datetime(9999, 12, 31, tzinfo=UTC))
    refused = await put(future)
    assert (refused.status_code, refused.json()["status_code"]) == (200, 2001), refused.text
    assert "9999-12-31" in refused.json()["status_message"]
    assert "in the future" in refused.json()["status_message"]
    soon = datetime.now(UTC) + timedelta(seconds=60)  # a clock a minute ahead is fine
    assert (await put(client_info(xyz, moment=soon))).json()["status_code"] == 1000
    later = client_info(xyz, ConnectionStatus.SUSPENDED, soon + timedelta(seconds=1))
    assert (await put(later)).json()["status_code"] == 1000
    assert (await listed(network, cpa))[("NL", "XYZ")]["status"] == "SUSPENDED"


async def test_a_client_info_that_is_not_one_is_2001(network: Network) -> None:
    body = json.dumps({"party_id": "XYZ", "country_code": "NL"}).encode()
    async with httpx.AsyncClient(base_url=network.url) as client:
        response = await client.put("/scn/client-info", content=body)
    assert (response.status_code, response.json()["status_code"]) == (200, 2001)


def test_the_two_intervals_may_be_0_for_off_but_not_negative() -> None:
    settings = Settings.load({"SCN_STILL_ALIVE_SECONDS": "0", "SCN_PLANNED_PARTY_SECONDS": "0"})
    assert (settings.still_alive_seconds, settings.planned_party_seconds) == (0, 0)
    assert Settings().still_alive_seconds == 300 and Settings().planned_party_seconds == 3600
    with pytest.raises(SettingsError, match=r"STILL_ALIVE_SECONDS: must be 0 \(off\) or positive"):
        Settings.load({"SCN_STILL_ALIVE_SECONDS": "-1"})
    with pytest.raises(SettingsError, match="SCN_PARTY_TIMEOUT: must be positive"):
        Settings.load({"SCN_PARTY_TIMEOUT": "0"})  # other intervals still may not be 0


# ---------------------------------------------------------------- the parties' own rules

RULES = "/scpi/2.2/scnrules"


async def change_rules(net: Network, party: FakeParty, method: str, tail: str, body: Any) -> None:
    response = await net.client.request(
        method,
        RULES + tail,
        headers={"Authorization": party.authorization()},
        content=json.dumps(body),
    )
    assert response.json()["status_code"] == 1000, response.text


def rule(party: PartyId, *modules: str) -> dict[str, Any]:
    return {"country_code": party.country_code, "party_id": party.party_id, "modules": modules}


async def test_14_a_blacklisted_party_leaves_the_list_and_the_others_stay(
    peers: tuple[Network, Network],
) -> None:
    one, two = peers
    msp = await one.connect("DE", "MSP", Role.EMSP)
    cpa = await one.connect("CH", "CPA", Role.CPO)
    await two.connect("CH", "CPB", Role.CPO)

    async def with_cpb() -> dict[tuple[str, str], Any] | None:
        found = await listed(one, msp)
        return found if ("CH", "CPB") in found else None

    before = await eventually(with_cpb, "node one listing CH CPB from node two")
    assert set(before) == {("DE", "MSP"), ("CH", "CPA"), ("CH", "CPB")}
    await change_rules(one, msp, "POST", "/blacklist", rule(cpa.party))  # every module
    assert set(await listed(one, msp)) == {("DE", "MSP"), ("CH", "CPB")}
    assert set(await listed(one, cpa)) == set(before)  # the rules are MSP's alone
    # Blacklisted for one module, CPA still reaches MSP with the others: it is listed again.
    await change_rules(one, msp, "PUT", "/blacklist", [rule(cpa.party, "locations")])
    assert set(await listed(one, msp)) == set(before)


async def test_a_filtered_list_counts_and_pages_only_what_the_party_sees(
    network: Network,
) -> None:
    msp = await network.connect("DE", "MSP", Role.EMSP)
    parties = [await network.connect("CH", f"CP{c}", Role.CPO) for c in "ABCD"]
    seen_by_msp = [parties[0].party, parties[2].party, parties[3].party]
    await change_rules(network, msp, "PUT", "/whitelist", [rule(p) for p in seen_by_msp])
    url: str | None = f"{HUB_CLIENT_INFO}?limit=1"
    seen: list[PartyId] = []
    while url is not None:
        response = await network.client.get(url, headers={"Authorization": msp.authorization()})
        assert response.headers["X-Total-Count"] == "3", response.text
        seen += [PartyId(i["country_code"], i["party_id"]) for i in response.json()["data"]]
        link = response.headers.get("Link")
        url = link[1 : link.index(">")] if link else None
        assert len(seen) <= 3, "the Link never ends"
    assert seen == seen_by_msp  # oldest change first: in the order they connected


async def test_16_a_party_is_pushed_only_what_its_rules_let_in(network: Network) -> None:
    """OCN scenario 16: CPA whitelists MSP; when CPB and MSP go OFFLINE, CPA hears of MSP only."""
    await restart(network, still_alive_seconds=0.2)
    cpa = await network.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    watching = await network.connect("NL", "WAT", Role.CPO, modules=WATCHING)  # no rules
    await change_rules(network, cpa, "POST", "/whitelist", rule(PartyId("DE", "MSP")))
    msp = await connect_restartable(network, "DE", "MSP")
    cpb = await connect_restartable(network, "CH", "CPB")
    await told(cpa, msp, "CONNECTED")
    await told(watching, cpb, "CONNECTED")
    await msp.stop()
    await cpb.stop()
    await told(cpa, msp, "OFFLINE")
    await told(watching, cpb, "OFFLINE")
    # A push CPA's rules let in, sent after those about CPB went out, has arrived: had any
    # about CPB been sent to CPA, it would be here by now.
    await change_rules(network, cpa, "POST", "/whitelist", rule(PartyId("CH", "CPC")))
    cpc = await network.connect("CH", "CPC", Role.CPO)
    await told(cpa, cpc, "CONNECTED")
    assert statuses(cpa, cpb) == []
    assert statuses(cpa, msp) == ["CONNECTED", "OFFLINE"]


async def test_16_pushes_from_a_peer_node_follow_the_rules_too(
    peers: tuple[Network, Network],
) -> None:
    one, two = peers
    cpa = await one.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    watching = await one.connect("NL", "WAT", Role.CPO, modules=WATCHING)
    await change_rules(one, cpa, "POST", "/whitelist", rule(PartyId("DE", "MSP")))
    cpb = await two.connect("CH", "CPB", Role.CPO)
    msp = await two.connect("DE", "MSP", Role.EMSP)
    await told(watching, cpb, "CONNECTED")
    await told(cpa, msp, "CONNECTED")  # pushed after CPB's, which CPA never got
    assert statuses(cpa, cpb) == []
