"""The operator's platform API (/admin/platforms, /admin/connect) and `scn-node platforms`,
against a real node and real FakeParty backoffices. No answer may hold a token."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from click.testing import CliRunner, Result

from scn_node.platforms_cli import platforms
from scn_node.scpi.party import Role
from tests.node.conftest import ADMIN_KEY, Network
from tests.node.parties import FakeParty
from tests.node.test_client_info import WATCHING, told
from tests.node.test_handshake import ADMIN, auth, expect


def no_tokens(response: httpx.Response, *parties: FakeParty) -> None:
    for party in parties:
        for token in (party.token_b, party.token_c, party.token_a):
            assert not token or token not in response.text, response.text


async def platform_of(network: Network, party: FakeParty) -> dict[str, Any]:
    listed = expect(await network.client.get("/admin/platforms", headers=ADMIN), 200, 1000)
    (found,) = [p for p in listed["data"] if p["roles"][0]["party_id"] == party.party.party_id]
    return dict(found)


async def test_platforms_are_listed_a_page_at_a_time_and_shown_without_tokens(
    network: Network,
) -> None:
    parties = [await network.connect("DE", pid) for pid in ("CP1", "CP2", "CP3")]
    response = await network.client.get("/admin/platforms?limit=2", headers=ADMIN)
    page = expect(response, 200, 1000)["data"]
    assert (response.headers["X-Total-Count"], response.headers["X-Limit"]) == ("3", "100")
    assert (
        response.headers["Link"] == f'<{network.url}/admin/platforms?offset=2&limit=2>; rel="next"'
    )
    assert [p["roles"] for p in page] == [
        [{"country_code": "DE", "party_id": pid, "role": "CPO", "name": f"Test DE {pid}"}]
        for pid in ("CP1", "CP2")
    ]
    first = page[0]
    assert (first["status"], first["version"], first["endpoint_count"]) == ("CONNECTED", "2.2", 15)
    no_tokens(response, *parties)
    rest = await network.client.get("/admin/platforms?offset=2&limit=2", headers=ADMIN)
    assert [p["roles"][0]["party_id"] for p in expect(rest, 200, 1000)["data"]] == ["CP3"]
    assert "Link" not in rest.headers

    shown = await network.client.get(f"/admin/platforms/{first['id']}", headers=ADMIN)
    one = expect(shown, 200, 1000)["data"]
    assert one["versions_url"] == parties[0].versions_url
    assert {
        "identifier": "locations",
        "role": "SENDER",
        "url": parties[0].endpoint("locations", "SENDER"),
    } in one["endpoints"]
    assert len(one["endpoints"]) == one["endpoint_count"] == 15
    no_tokens(shown, *parties)

    for path in ("/admin/platforms/999999", "/admin/platforms/abc"):
        expect(await network.client.get(path, headers=ADMIN), 404, 2000, "No platform")
    for method, path in [("GET", "/admin/platforms"), ("POST", "/admin/platforms/1/rotate")]:
        refused = await network.client.request(method, path, headers=auth("wrong"))
        expect(refused, 401, 2000, "missing or wrong admin API key")


async def test_a_disconnected_platform_is_suspended_and_its_token_refused(
    network: Network,
) -> None:
    emsp = await network.connect("DE", "MSP", Role.EMSP, modules=WATCHING)
    cpo = await network.connect("DE", "CPO")
    platform = await platform_of(network, cpo)
    response = await network.client.delete(f"/admin/platforms/{platform['id']}", headers=ADMIN)
    assert expect(response, 200, 1000)["data"]["status"] == "SUSPENDED"
    no_tokens(response, cpo)
    gone = await network.client.get("/scpi/2.2/credentials", headers=auth(cpo.token_c))
    expect(gone, 401, 2000, "Unknown credentials token")
    routed = await network.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    expect(routed, 200, 4003, "not connected")
    await told(emsp, cpo, "SUSPENDED")
    assert (await platform_of(network, cpo))["status"] == "SUSPENDED"


async def test_rotate_gives_the_party_a_new_token_c_and_keeps_its_new_token_b(
    network: Network,
) -> None:
    emsp = await network.connect("DE", "MSP", Role.EMSP)
    cpo = await network.connect("DE", "CPO")
    old_c, platform_id = cpo.token_c, (await platform_of(network, cpo))["id"]
    cpo.next_token_b = "token-b-after-rotation"
    response = await network.client.post(f"/admin/platforms/{platform_id}/rotate", headers=ADMIN)
    assert expect(response, 200, 1000)["data"]["status"] == "CONNECTED"
    put = [r for r in cpo.received if r.path == "/scpi/2.2/credentials"]
    assert [(r.method, r.json()["url"]) for r in put] == [("PUT", f"{network.url}/scpi/versions")]
    assert cpo.token_c != old_c and cpo.node_versions_status == 200  # usable while it answered
    no_tokens(response, cpo)
    expect(await network.client.get("/scpi/2.2/credentials", headers=auth(old_c)), 401, 2000)
    expect(await network.client.get("/scpi/2.2/credentials", headers=auth(cpo.token_c)), 200, 1000)
    await network.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert cpo.module_requests()[-1].headers["Authorization"] == "Token token-b-after-rotation"

    # A party that cannot be reached keeps what it has.
    kept_c = cpo.token_c
    await cpo.stop()
    failed = await network.client.post(f"/admin/platforms/{platform_id}/rotate", headers=ADMIN)
    expect(failed, 200, 3001, "Could not PUT credentials")
    await cpo.start()  # on a new port: its endpoints are gone, its token is not
    expect(await network.client.get("/scpi/2.2/credentials", headers=auth(kept_c)), 200, 1000)


async def test_the_node_connects_a_party_with_the_token_a_it_issued(network: Network) -> None:
    emsp = await network.connect("DE", "MSP", Role.EMSP)
    cpo = await network.start_party("DE", "CPO", token_a="party-issued-token-a")
    body = {"versions_url": cpo.versions_url, "token": cpo.token_a}

    refused = await network.client.post("/admin/connect", headers=ADMIN, json=body)
    expect(refused, 200, 2001, "DE CPO is not listed in the SCN Registry")
    staged = cpo.token_c
    assert [r.method for r in cpo.received if r.path == "/scpi/2.2/credentials"] == [
        "POST",
        "DELETE",
    ]
    expect(await network.client.get("/scpi/versions", headers=auth(staged)), 401, 2000)
    expect(await network.client.get("/admin/connection-status/DE/CPO", headers=ADMIN), 404, 2000)

    await network.list_party(cpo)
    response = await network.client.post("/admin/connect", headers=ADMIN, json=body)
    connected = expect(response, 200, 1000)["data"]
    assert (connected["status"], connected["roles"][0]["party_id"]) == ("CONNECTED", "CPO")
    assert cpo.node_versions_status == 200
    no_tokens(response, cpo)
    expect(await network.client.get("/scpi/2.2/credentials", headers=auth(cpo.token_c)), 200, 1000)
    routed = await network.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert routed.json()["data"]["path"] == cpo.endpoint_path("locations", "SENDER")

    bad = await network.client.post("/admin/connect", headers=ADMIN, content=b'{"versions_url":')
    expect(bad, 400, 2001)
    wrong = await network.client.post("/admin/connect", headers=ADMIN, json={"token": "x"})
    expect(wrong, 200, 2001, "versions_url: Field required")


async def test_the_cli_lists_shows_rotates_and_disconnects(network: Network) -> None:
    cpo = await network.connect("DE", "CPO")
    runner = CliRunner()
    base = ["--node-url", network.url, "--admin-key", ADMIN_KEY]

    async def run(*args: str) -> Result:
        # The node answers on this event loop: the CLI's blocking calls run beside it.
        return await asyncio.to_thread(runner.invoke, platforms, [*args, *base])

    listed = await run("list", "--json")
    assert listed.exit_code == 0, listed.output
    (platform,) = json.loads(listed.output)
    assert platform["roles"][0]["party_id"] == "CPO"
    pid = str(platform["id"])
    table = await run("list")
    assert table.exit_code == 0 and "DE CPO CPO" in table.output and "CONNECTED" in table.output
    shown = await run("show", pid)
    assert shown.exit_code == 0 and cpo.endpoint("locations", "SENDER") in shown.output
    old_c = cpo.token_c
    rotated = await run("rotate", pid)
    assert rotated.exit_code == 0, rotated.output
    assert (
        cpo.token_c != old_c and old_c not in rotated.output and cpo.token_c not in rotated.output
    )
    left = await run("disconnect", pid, "--json")
    assert left.exit_code == 0 and json.loads(left.output)["status"] == "SUSPENDED"
    expect(await network.client.get("/scpi/2.2/credentials", headers=auth(cpo.token_c)), 401, 2000)

    unknown = await run("show", "999999")
    assert (
        unknown.exit_code == 1
        and "No platform 999999 on this node (HTTP 404, 2000)" in unknown.output
    )
    wrong = await asyncio.to_thread(
        runner.invoke, platforms, ["list", "--node-url", network.url, "--admin-key", "nope"]
    )
    assert wrong.exit_code == 1 and "missing or wrong admin API key" in wrong.output
