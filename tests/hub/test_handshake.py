"""The credentials handshake through the real Handshake and store, against the in-memory registry."""

from __future__ import annotations

import json

from scn_node.scpi.party import Role
from tests.fakes.hub import HubUnderTest


async def test_a_listed_party_registers_and_the_node_fetched_its_endpoints(
    node: HubUnderTest,
) -> None:
    cpo = node.new_party("NL", "CPO")
    node.list_party(cpo)
    got = await node.register(cpo, await node.token_a())
    assert (got.status, got.status_code) == (200, 1000)
    data = got.json()["data"]
    assert data["url"] == f"{node.url}/scpi/versions"
    assert data["roles"][0]["party_id"] == "SCN"
    assert [r.path for r in cpo.received] == ["/scpi/versions", "/scpi/2.2"]
    assert cpo.received[0].headers["Authorization"] == f"Token {cpo.token_b}"


async def test_a_party_not_listed_is_refused_and_the_token_a_survives(node: HubUnderTest) -> None:
    cpo = node.new_party("NL", "CPO")
    token = await node.token_a()
    refused = await node.register(cpo, token)
    assert refused.status_code == 2001
    assert "NL CPO is not listed in the SCN Registry" in refused.json()["status_message"]
    node.list_party(cpo)
    assert (await node.register(cpo, token)).status_code == 1000


async def test_a_party_listed_with_another_node_is_refused(node: HubUnderTest) -> None:
    cpo = node.new_party("NL", "CPO")
    node.list_party(cpo, operator="0x" + "ab" * 20)
    refused = await node.register(cpo, await node.token_a())
    assert refused.status_code == 2001
    assert "with the node operator" in refused.json()["status_message"]


async def test_a_token_a_is_single_use(node: HubUnderTest) -> None:
    cpo = node.new_party("NL", "CPO")
    node.list_party(cpo)
    token = await node.token_a()
    assert (await node.register(cpo, token)).status_code == 1000
    again = await node.register(cpo, token)
    assert (again.status, again.status_code) == (401, 2000)


async def test_a_party_without_2_2_gets_3002(node: HubUnderTest) -> None:
    cpo = node.new_party("NL", "CPO", versions=["2.1.1"])
    node.list_party(cpo)
    got = await node.register(cpo, await node.token_a())
    assert got.status_code == 3002


async def test_unreachable_versions_are_3001(node: HubUnderTest) -> None:
    cpo = node.new_party("NL", "CPO")
    node.list_party(cpo)
    node.network.drop(cpo.base_url)
    got = await node.register(cpo, await node.token_a())
    assert got.status_code == 3001
    assert "could not be reached" in got.json()["status_message"]


async def test_malformed_credentials_are_refused(node: HubUnderTest) -> None:
    cpo = node.new_party("NL", "CPO")
    node.list_party(cpo)
    got = await node.register(cpo, await node.token_a(), body=b"{nope")
    assert (got.status, got.status_code) == (400, 2001)


async def test_a_token_a_for_another_party_cannot_register(node: HubUnderTest) -> None:
    cpo = node.new_party("NL", "CPO")
    node.list_party(cpo)
    token = await node.token_a(json.dumps([{"country_code": "BE", "party_id": "XYZ"}]).encode())
    got = await node.register(cpo, token)
    assert got.status_code == 2001
    assert "This TOKEN_A is for BE XYZ" in got.json()["status_message"]


async def test_a_base64_party_is_called_with_a_base64_token_b(node: HubUnderTest) -> None:
    cpo = await node.connect("NL", "CPO", Role.CPO, base64_tokens=True)
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert got.status_code == 1000
    assert cpo.module_requests()[-1].headers["Authorization"] != f"Token {cpo.token_b}"


async def test_the_node_connects_a_party_with_the_token_a_it_issued(node: HubUnderTest) -> None:
    cpo = node.new_party("NL", "CPO")
    node.list_party(cpo)
    body = json.dumps({"versions_url": cpo.versions_url, "token": cpo.token_b}).encode()
    platform = await node.hub.handshake.connect(body)
    assert [str(r.party) for r in platform.roles] == ["NL CPO"]
    posted = [r for r in cpo.received if r.path == "/scpi/2.2/credentials"]
    assert [r.method for r in posted] == ["POST"]
    assert json.loads(posted[0].body)["url"] == f"{node.url}/scpi/versions"
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert got.status_code == 1000


async def test_the_node_rotates_a_partys_credentials(node: HubUnderTest) -> None:
    cpo = await node.connect("NL", "CPO", Role.CPO)
    caller = await node.caller(cpo)
    old = cpo.token_c
    await node.hub.handshake.rotate(caller.platform.id)
    assert cpo.token_c != old  # the party took the node's new TOKEN_C
    assert (await node.caller(cpo)).platform.id == caller.platform.id
    cpo.token_c = old
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    refused = await node.send(cpo, "GET", "/scpi/sender/2.2/locations", to=emsp)
    assert (refused.status, refused.status_code) == (401, 2000)
