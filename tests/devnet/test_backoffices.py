"""The demo backoffices act out the tutorial through a real node: registration, locations,
tariffs, async command results, the CDR round trip, and sessions "not implemented"."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from scn_node.devnet.cpo.backend import REJECTED, Command, CommandResult
from scn_node.devnet.cpo.server import SESSIONS_NOT_IMPLEMENTED, DemoCpo
from scn_node.devnet.cpo.static import StaticCpo
from scn_node.devnet.data import demo_location
from scn_node.devnet.emsp import DemoEmsp
from scn_node.scpi.party import Role
from tests.devnet.demo import DE_CPO, DE_MSP, NL_CPX, Demo, register_emsp, start_cpo
from tests.node.conftest import ADMIN_KEY, Network


async def test_the_cpo_registers_through_the_real_flow(demo: Demo) -> None:
    listing = await demo.net.registry.get_party(DE_CPO)
    assert listing is not None and listing.roles == (Role.CPO,)
    assert listing.operator == demo.net.node_account.address
    assert listing.address == demo.cpo.signer.address
    assert demo.cpo.token_c
    status = await demo.net.client.get(
        "/admin/connection-status/DE/CPO", headers={"Authorization": f"Token {ADMIN_KEY}"}
    )
    assert status.json()["status"] == "CONNECTED", status.text
    # The node fetched the CPO's versions and details with its TOKEN_B during the handshake.
    paths = [e.data["path"] for e in demo.cpo.record.of("request")]
    assert paths[:2] == ["/scpi/cpo/versions", "/scpi/cpo/2.2"]


async def test_registration_is_narrated(network: Network, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="scn_node.devnet.demo")
    cpo = await start_cpo(network, DE_CPO)
    await cpo.stop()
    text = caplog.text
    for step in (
        "CPO [DE CPO] asking",
        "listing itself in the SCN Registry",
        "registration token (TOKEN_A)",
        "(versions, with TOKEN_A)",
        "(version 2.2 details)",
        "/scpi/2.2/credentials (our credentials;",
        "CPO [DE CPO] -- GET /scpi/cpo/versions 200",
        "TOKEN_C saved",
    ):
        assert step in text, step


async def test_locations_through_the_node(demo: Demo) -> None:
    listed = await demo.send("GET", "/scpi/sender/2.2/locations")
    assert listed.status_code == 200, listed.text
    locations = listed.json()["data"]
    assert [loc["id"] for loc in locations] == ["LOC1"]
    loc1 = locations[0]
    assert (loc1["country_code"], loc1["party_id"]) == ("DE", "CPO")
    assert [(e["uid"], e["status"]) for e in loc1["evses"]] == [
        ("1234", "AVAILABLE"),
        ("4567", "RESERVED"),
    ]
    assert [e["connectors"][0]["tariff_ids"] for e in loc1["evses"]] == [["xxx-123"], ["xyz-456"]]
    for required in ("publish", "address", "city", "country", "coordinates", "time_zone"):
        assert required in loc1

    one = (await demo.send("GET", "/scpi/sender/2.2/locations/LOC1")).json()
    assert one["data"] == demo_location(DE_CPO)
    evse = (await demo.send("GET", "/scpi/sender/2.2/locations/LOC1/1234")).json()
    assert evse["data"]["uid"] == "1234" and evse["data"]["status"] == "AVAILABLE"
    connector = (await demo.send("GET", "/scpi/sender/2.2/locations/LOC1/1234/1")).json()
    assert connector["data"]["id"] == "1" and connector["data"]["tariff_ids"] == ["xxx-123"]

    for unknown in ("LOC2", "LOC1/9999", "LOC1/1234/7"):
        missing = await demo.send("GET", f"/scpi/sender/2.2/locations/{unknown}")
        assert missing.status_code == 404, unknown
        assert missing.json()["status_code"] == 2003, missing.text


async def test_tariffs_match_the_connectors(demo: Demo) -> None:
    response = await demo.send("GET", "/scpi/sender/2.2/tariffs")
    assert response.status_code == 200, response.text
    tariffs = response.json()["data"]
    assert [t["id"] for t in tariffs] == ["xxx-123", "xyz-456"]
    for tariff in tariffs:
        assert (tariff["country_code"], tariff["party_id"]) == ("DE", "CPO")
        assert tariff["currency"] == "EUR" and tariff["last_updated"]
        component = tariff["elements"][0]["price_components"][0]
        assert {"type", "price", "step_size"} <= component.keys()


async def test_sessions_are_not_implemented(demo: Demo) -> None:
    response = await demo.send("GET", "/scpi/sender/2.2/sessions")
    assert response.status_code == 501
    assert response.json()["status_code"] == 2000
    assert response.json()["status_message"] == SESSIONS_NOT_IMPLEMENTED


async def test_the_cpo_refuses_a_wrong_token(demo: Demo) -> None:
    async with httpx.AsyncClient() as client:
        wrong = await client.get(
            f"{demo.cpo.base_url}/scpi/cpo/2.2/locations", headers={"Authorization": "Token x"}
        )
        right = await client.get(
            f"{demo.cpo.base_url}/scpi/cpo/2.2/locations",
            headers={"Authorization": f"Token {demo.cpo.token_b}"},
        )
        emsp = await client.get(f"{demo.emsp.base_url}/scpi/emsp/versions")
    assert wrong.status_code == 401 and wrong.json()["status_code"] == 2000
    assert right.status_code == 200
    assert emsp.status_code == 401


async def test_start_session_result_reaches_the_emsp(
    demo: Demo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="scn_node.devnet.demo")
    command = {
        "response_url": demo.emsp.response_url("START_SESSION"),
        "token": {"uid": "DEMO-TOKEN-1", "type": "RFID", "contract_id": "DE-MSP-C12345678-X"},
        "location_id": "LOC1",
        "evse_uid": "1234",
    }
    response = await demo.send("POST", "/scpi/receiver/2.2/commands/START_SESSION", body=command)
    assert response.json()["data"] == {"result": "ACCEPTED", "timeout": 30}, response.text

    result = await demo.emsp.wait_for("command-result", within=10)
    assert result.data["command"] == "START_SESSION"
    assert result.data["result"] == {"result": "ACCEPTED"}
    assert result.data["sender"] == DE_CPO
    done = await demo.cpo.wait_for("command-done", within=10)
    assert done.data == {"command": "START_SESSION", "ok": True, "error": ""}
    assert "CPO [DE CPO] sending async START_SESSION response" in caplog.text
    assert 'EMSP [DE MSP] received async command response: {"result":"ACCEPTED"}' in caplog.text
    assert not demo.emsp.cdrs  # only STOP_SESSION ends in a CDR


async def test_unsupported_commands_are_refused(demo: Demo) -> None:
    response = await demo.send(
        "POST",
        "/scpi/receiver/2.2/commands/UNLOCK_CONNECTOR",
        body={"response_url": demo.emsp.response_url("UNLOCK_CONNECTOR")},
    )
    assert response.json()["data"]["result"] == "NOT_SUPPORTED", response.text
    assert not demo.cpo.record.of("command")


async def test_stop_session_ends_in_a_cdr_stored_and_checked(
    demo: Demo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="scn_node.devnet.demo")
    await stop_session_round_trip(demo, demo.cpo)
    log = caplog.text
    order = [
        "CPO [DE CPO] sending async STOP_SESSION response",
        'EMSP [DE MSP] received async command response: {"result":"ACCEPTED"}',
        "CPO [DE CPO] sending cdr after session end",
        "EMSP [DE MSP] -- POST /scpi/emsp/2.2/cdrs 200",
        "EMSP [DE MSP] -- GET /scpi/emsp/2.2/cdrs/1 200",
        "CPO [DE CPO] acknowledges cdr correctly stored on EMSP system",
    ]
    positions = [log.index(line) for line in order]
    assert positions == sorted(positions)


async def stop_session_round_trip(demo: Demo, cpo: DemoCpo) -> None:
    next_done = len(cpo.record.of("command-done")) + 1
    next_ack = len(cpo.record.of("cdr-acknowledged")) + 1
    command = {"response_url": demo.emsp.response_url("STOP_SESSION"), "session_id": "SES1"}
    response = await demo.send(
        "POST", "/scpi/receiver/2.2/commands/STOP_SESSION", to=cpo.party, body=command
    )
    assert response.json()["data"] == {"result": "ACCEPTED", "timeout": 30}, response.text

    done = await cpo.wait_for("command-done", next_done, within=10)
    assert done.data == {"command": "STOP_SESSION", "ok": True, "error": ""}
    result = demo.emsp.record.of("command-result")[-1]
    assert result.data["command"] == "STOP_SESSION" and result.data["sender"] == cpo.party
    assert result.data["result"] == {"result": "ACCEPTED"}

    # The CDR follows the result: the backend reports the session's end, the CPO pushes it.
    ack = await cpo.wait_for("cdr-acknowledged", next_ack, within=10)
    sent = cpo.record.of("cdr-sent")[-1]
    stored = demo.emsp.record.of("cdr-stored")[-1]
    assert stored.data["cdr"] == sent.data["cdr"]
    assert stored.data["sender"] == cpo.party
    assert stored.data["cdr"]["session_id"] == "SES1"
    assert stored.data["cdr"]["cdr_location"]["id"] == "LOC1"
    assert (stored.data["cdr"]["country_code"], stored.data["cdr"]["party_id"]) == (
        cpo.party.country_code,
        cpo.party.party_id,
    )
    # The CPO only ever sees its own node: the Location is a node proxy URL.
    assert sent.data["location"].startswith(cpo.node_url + "/")
    assert demo.emsp.base_url not in sent.data["location"]
    assert demo.emsp.record.of("cdr-fetched")
    assert ack.data["cdr"] == demo.emsp.cdrs[-1]
    assert not cpo.record.of("cdr-mismatch")


async def test_a_remote_cpo_on_the_peer_node_works_the_same(
    peers: tuple[Network, Network], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="scn_node.devnet.demo")
    one, two = peers
    emsp = DemoEmsp(DE_MSP, one.url)
    await emsp.start()
    local: DemoCpo | None = None
    remote: DemoCpo | None = None
    try:
        local = await start_cpo(one, DE_CPO)
        remote = await start_cpo(two, NL_CPX)
        await register_emsp(one, emsp)
        demo = Demo(one, local, emsp)

        locations = await demo.send("GET", "/scpi/sender/2.2/locations", to=NL_CPX)
        loc1 = locations.json()["data"][0]
        assert (loc1["country_code"], loc1["party_id"], loc1["id"]) == ("NL", "CPX", "LOC1")
        evse = await demo.send("GET", "/scpi/sender/2.2/locations/LOC1/4567", to=NL_CPX)
        assert evse.json()["data"]["status"] == "RESERVED"
        tariffs = await demo.send("GET", "/scpi/sender/2.2/tariffs", to=NL_CPX)
        assert [t["id"] for t in tariffs.json()["data"]] == ["xxx-123", "xyz-456"]
        sessions = await demo.send("GET", "/scpi/sender/2.2/sessions", to=NL_CPX)
        assert sessions.status_code == 501
        assert sessions.json()["status_message"] == SESSIONS_NOT_IMPLEMENTED

        start = await demo.send(
            "POST",
            "/scpi/receiver/2.2/commands/START_SESSION",
            to=NL_CPX,
            body={
                "response_url": emsp.response_url("START_SESSION"),
                "token": {"uid": "DEMO-TOKEN-1", "type": "RFID", "contract_id": "X"},
                "location_id": "LOC1",
            },
        )
        assert start.json()["data"]["result"] == "ACCEPTED", start.text
        result = await emsp.wait_for("command-result", within=10)
        assert result.data["sender"] == NL_CPX
        assert (await remote.wait_for("command-done", within=10)).data["ok"]

        await stop_session_round_trip(demo, remote)
        assert remote.record.of("cdr-sent")[-1].data["location"].startswith(two.url + "/")
        assert "CPO [NL CPX] acknowledges cdr correctly stored on EMSP system" in caplog.text
    finally:
        for cpo in (local, remote):
            if cpo is not None:
                await cpo.stop()
        await emsp.stop()


async def test_the_emsp_lists_what_it_received(demo: Demo) -> None:
    """The demo-only debug view Postman and curl users check the async results and CDRs with."""
    url = f"{demo.emsp.base_url}/scpi/emsp/received"
    auth = {"Authorization": f"Token {demo.emsp.token_b}"}
    async with httpx.AsyncClient() as client:
        empty = await client.get(url, headers=auth)
        assert empty.status_code == 200
        assert empty.json()["data"] == {"command_results": [], "cdrs": [], "pushes": []}
        assert (await client.get(url)).status_code == 401

        await stop_session_round_trip(demo, demo.cpo)
        answer = await client.get(url, headers=auth)
    assert answer.status_code == 200 and answer.json()["status_code"] == 1000
    cdr = demo.emsp.cdrs[0]
    assert answer.json()["data"] == {
        "command_results": [
            {
                "command": "STOP_SESSION",
                "uid": "1",
                "result": {"result": "ACCEPTED"},
                "sender": "DE CPO",
            }
        ],
        "cdrs": [
            {
                "number": 1,
                "location": f"{demo.emsp.base_url}/scpi/emsp/2.2/cdrs/1",
                "country_code": "DE",
                "party_id": "CPO",
                "id": cdr["id"],
                "session_id": "SES1",
            }
        ],
        "pushes": [],
    }


async def test_an_operator_rotation_reaches_the_demo_cpo_which_routes_on(demo: Demo) -> None:
    admin = {"Authorization": f"Token {ADMIN_KEY}"}
    platforms = (await demo.net.client.get("/admin/platforms", headers=admin)).json()["data"]
    (cpo_id,) = [p["id"] for p in platforms if p["roles"][0]["party_id"] == "CPO"]
    old = demo.cpo.token_c

    rotated = await demo.net.client.post(f"/admin/platforms/{cpo_id}/rotate", headers=admin)

    assert rotated.json()["status_code"] == 1000, rotated.text
    assert demo.cpo.token_c not in ("", old)
    refused = await demo.net.client.get("/scpi/2.2/credentials", headers=auth_of(old))
    assert (refused.status_code, refused.json()["status_code"]) == (401, 2000)
    listed = await demo.net.client.get("/scpi/2.2/hubclientinfo", headers=auth_of(demo.cpo.token_c))
    assert (listed.status_code, listed.json()["status_code"]) == (200, 1000)


def auth_of(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


class RejectingCpo(StaticCpo):
    """Another backend behind the same OCPI server: one EVSE, and every start rejected."""

    def location(self, location_id: str) -> dict[str, Any] | None:
        found = super().location(location_id)
        return found and {**found, "evses": found["evses"][:1]}

    async def start_session(self, command: Command) -> CommandResult:
        self.started = command
        return CommandResult(REJECTED, [{"language": "en", "text": "EVSE 1234 is out of order"}])


async def test_the_cpo_serves_whatever_backend_stands_behind_it(network: Network) -> None:
    backend = RejectingCpo(DE_CPO, result_delay=0)
    cpo = DemoCpo(
        DE_CPO,
        network.url,
        admin_key=ADMIN_KEY,
        signer=network.new_account(),
        registry=network.registry,
        backend=backend,
    )
    emsp = DemoEmsp(DE_MSP, network.url)
    await cpo.start()
    await emsp.start()
    try:
        await cpo.register()
        await register_emsp(network, emsp)
        demo = Demo(network, cpo, emsp)

        location = (await demo.send("GET", "/scpi/sender/2.2/locations/LOC1")).json()["data"]
        assert [e["uid"] for e in location["evses"]] == ["1234"]
        command = {"response_url": emsp.response_url("START_SESSION"), "location_id": "LOC1"}
        answer = await demo.send("POST", "/scpi/receiver/2.2/commands/START_SESSION", body=command)
        assert answer.json()["data"] == {"result": "ACCEPTED", "timeout": 30}, answer.text

        result = await emsp.wait_for("command-result", within=10)
        assert result.data["result"] == {
            "result": "REJECTED",
            "message": [{"language": "en", "text": "EVSE 1234 is out of order"}],
        }
        assert backend.started.sender == DE_MSP
        assert backend.started.body["location_id"] == "LOC1"
    finally:
        await cpo.stop()
        await emsp.stop()
