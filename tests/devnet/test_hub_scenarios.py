"""The demo backoffices use the hub's own scenarios through real nodes: the CPOs broadcast their
locations, tariffs and EVSE status changes TO the hub, the eMSP syncs with one GET All and
broadcasts its token, and a CPO's authorization without SCPI-to-* finds the token's eMSP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
import pytest

from scn_node.devnet.chain import free_port
from scn_node.devnet.cpo.server import DemoCpo
from scn_node.devnet.data import demo_location, demo_tariffs, demo_token
from scn_node.devnet.emsp import DemoEmsp
from scn_node.devnet.recorder import Event
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.party import PartyId
from tests.devnet.demo import DE_CPO, DE_MSP, NL_CPX, Demo, drain, register_emsp, start_cpo
from tests.node.conftest import ADMIN_KEY, Network


def pushes(party: DemoCpo | DemoEmsp) -> list[tuple[str, str, str, PartyId, PartyId]]:
    """What `party` received as pushes: method, module, path, FROM and TO."""
    return [
        (e.data["method"], e.data["module"], e.data["path"], e.data["sender"], e.data["receiver"])
        for e in party.record.of("push")
    ]


async def test_once_connected_a_cpo_broadcasts_its_locations_and_tariffs(
    network: Network,
) -> None:
    emsp = DemoEmsp(DE_MSP, network.url)
    await emsp.start()
    cpo: DemoCpo | None = None
    try:
        await register_emsp(network, emsp)
        cpo = await start_cpo(network, DE_CPO)
        await drain(network)

        sent = [
            (e.data["method"], e.data["module"], e.data["path"]) for e in cpo.record.of("broadcast")
        ]
        assert sent == [
            ("PUT", "locations", "DE/CPO/LOC1"),
            ("PUT", "tariffs", "DE/CPO/xxx-123"),
            ("PUT", "tariffs", "DE/CPO/xyz-456"),
        ]
        for event in cpo.record.of("broadcast"):
            assert (event.data["status"], event.data["status_code"]) == (200, 1000), event.data
            assert event.data["answered_by"] == NODE_PARTY
        assert pushes(emsp) == [
            ("PUT", module, path, NODE_PARTY, DE_MSP) for _, module, path in sent
        ]
        bodies = [e.data["body"] for e in emsp.record.of("push")]
        assert bodies == [demo_location(DE_CPO), *demo_tariffs(DE_CPO)]
    finally:
        if cpo is not None:
            await cpo.stop()
        await emsp.stop()


async def test_a_broadcast_that_fails_is_recorded_and_the_cpo_carries_on(network: Network) -> None:
    """The node is gone: each push fails, is logged and recorded, and nothing is raised."""
    cpo = DemoCpo(
        DE_CPO,
        f"http://127.0.0.1:{free_port()}",  # nothing listens there
        admin_key=ADMIN_KEY,
        signer=network.new_account(),
        registry=network.registry,
    )
    await cpo.start()
    try:
        cpo.token_c = "a-token"
        await cpo.announce()
        failed = cpo.record.of("broadcast")
        assert [e.data["path"] for e in failed] == [
            "DE/CPO/LOC1",
            "DE/CPO/xxx-123",
            "DE/CPO/xyz-456",
        ]
        assert all(
            e.data["status"] is None and "ClientConnectorError" in e.data["error"] for e in failed
        )
    finally:
        await cpo.stop()


def patch_of(party: PartyId, status: str) -> Callable[[Event], bool]:
    wanted = f"{party.country_code}/{party.party_id}/LOC1/1234"

    def match(event: Event) -> bool:
        data = event.data
        return bool(
            data["method"] == "PATCH"
            and data["path"] == wanted
            and data["body"]["status"] == status
        )

    return match


async def test_an_evse_status_change_reaches_the_emsp_as_a_broadcast_patch(demo: Demo) -> None:
    start = {
        "response_url": demo.emsp.response_url("START_SESSION"),
        "token": demo_token(DE_MSP),
        "location_id": "LOC1",
        "evse_uid": "1234",
    }
    answer = await demo.send("POST", "/scpi/receiver/2.2/commands/START_SESSION", body=start)
    assert answer.json()["data"]["result"] == "ACCEPTED", answer.text

    charging = await demo.emsp.record.first("push", patch_of(DE_CPO, "CHARGING"), within=10)
    assert (charging.data["sender"], charging.data["receiver"]) == (NODE_PARTY, DE_MSP)
    assert charging.data["module"] == "locations"
    assert set(charging.data["body"]) == {"status", "last_updated"}
    evse = (await demo.send("GET", "/scpi/sender/2.2/locations/LOC1/1234")).json()["data"]
    assert (evse["status"], evse["last_updated"]) == (
        "CHARGING",
        charging.data["body"]["last_updated"],
    )
    sent = demo.cpo.record.of("broadcast")[-1].data
    assert (sent["method"], sent["path"], sent["status_code"]) == (
        "PATCH",
        "DE/CPO/LOC1/1234",
        1000,
    )

    stop = {"response_url": demo.emsp.response_url("STOP_SESSION"), "session_id": "SESSION-1"}
    answer = await demo.send("POST", "/scpi/receiver/2.2/commands/STOP_SESSION", body=stop)
    assert answer.json()["data"]["result"] == "ACCEPTED", answer.text
    await demo.emsp.record.first("push", patch_of(DE_CPO, "AVAILABLE"), within=10)
    evse = (await demo.send("GET", "/scpi/sender/2.2/locations/LOC1/1234")).json()["data"]
    assert evse["status"] == "AVAILABLE"


@dataclass
class Network2:
    """DE CPO on node one, NL CPX on node two, DE MSP on node one (registered)."""

    one: Network
    two: Network
    de_cpo: DemoCpo
    nl_cpx: DemoCpo
    emsp: DemoEmsp
    session: aiohttp.ClientSession


@pytest.fixture
async def across(peers: tuple[Network, Network]) -> AsyncIterator[Network2]:
    one, two = peers
    emsp = DemoEmsp(DE_MSP, one.url)
    await emsp.start()
    started: list[DemoCpo] = []
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
    try:
        started.append(await start_cpo(one, DE_CPO))
        started.append(await start_cpo(two, NL_CPX))
        await register_emsp(one, emsp)
        await drain(one)
        await drain(two)
        yield Network2(one, two, started[0], started[1], emsp, session)
    finally:
        await session.close()
        for cpo in started:
            await cpo.stop()
        await emsp.stop()


async def test_the_emsp_syncs_every_cpos_locations_with_one_get_all(across: Network2) -> None:
    synced = await across.emsp.sync(across.session, "locations")

    assert synced.ok, synced.pages
    assert {page.sender for page in synced.pages} == {NODE_PARTY}
    assert synced.pages[-1].next_url is None
    assert synced.pages[0].total == 2
    assert sorted(synced.objects, key=lambda loc: loc["country_code"]) == [
        demo_location(DE_CPO),
        demo_location(NL_CPX),
    ]
    # One tariff a page: the eMSP follows the Links to the end.
    tariffs = await across.emsp.sync(across.session, "tariffs", limit=1)
    assert tariffs.ok, tariffs.pages
    assert [(len(p.data), p.total, p.sender) for p in tariffs.pages] == [(1, 4, NODE_PARTY)] * 4
    assert [p.next_url is not None for p in tariffs.pages] == [True, True, True, False]
    assert all(str(p.next_url).startswith(across.one.url + "/") for p in tariffs.pages[:3])
    assert sorted((t["party_id"], t["id"]) for t in tariffs.objects) == [
        ("CPO", "xxx-123"), ("CPO", "xyz-456"), ("CPX", "xxx-123"), ("CPX", "xyz-456"),
    ]  # fmt: skip


async def test_a_cpo_finds_the_tokens_emsp_without_scpi_to(across: Network2) -> None:
    status, body, sender = await across.emsp.broadcast_token(across.session)
    assert (status, body["status_code"], sender) == (200, 1000, NODE_PARTY), body
    for cpo in (across.de_cpo, across.nl_cpx):
        await cpo.wait_for("push", within=10)
        assert pushes(cpo) == [("PUT", "tokens", "DE/MSP/012345678", NODE_PARTY, cpo.party)]
    await drain(across.one)
    await drain(across.two)

    # NL CPX on node two names no receiver: the hub finds DE MSP, on node one.
    answer = await across.nl_cpx.authorize("012345678")

    assert answer.ok, answer.text
    assert answer.sender == DE_MSP
    assert answer.body["data"] == {"allowed": "ALLOWED", "token": demo_token(DE_MSP)}
    asked = across.emsp.record.of("authorize")
    assert [(e.data["uid"], e.data["sender"], e.data["receiver"]) for e in asked] == [
        ("012345678", NL_CPX, DE_MSP)
    ]


async def test_a_location_id_two_cpos_have_is_not_enough_to_route(across: Network2) -> None:
    """LOC1 is at DE CPO and at NL CPX: without SCPI-to-* the hub cannot choose (2002)."""
    answer = await across.one.client.get(
        "/scpi/sender/2.2/locations/LOC1", headers=across.emsp.routing_headers(None)
    )
    assert answer.json()["status_code"] == 2002, answer.text
    assert "CPO" not in answer.json()["status_message"]
    assert "CPX" not in answer.json()["status_message"]
