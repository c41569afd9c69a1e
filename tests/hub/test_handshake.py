"""A registered party's credentials (PUT, DELETE, token forms, takeovers) and the handshakes the
node starts, through the real Handshake and store, against the in-memory registry.

The party's own first handshake (POST with TOKEN_A) is in test_registration.py.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from scn_node.scpi.pagination import Page
from scn_node.scpi.party import Role
from tests.fakes.backoffice import ALL_MODULES, FakeBackoffice
from tests.fakes.hub import HubUnderTest
from tests.hub.test_registration import (
    assert_registers,
    calls,
    expect,
    list_as,
    node_credentials,
    token_roles,
)

WATCHING = (*ALL_MODULES, "hubclientinfo")  # offers the hubclientinfo RECEIVER interface
EVERYONE = Page(None, None, 0, 100)


def b64(token: str) -> str:
    return base64.b64encode(token.encode()).decode()


async def join(
    node: HubUnderTest, country_code: str, party_id: str, role: Role = Role.CPO, **kwargs: Any
) -> FakeBackoffice:
    """Listed and registered as the party's own backoffice does it: presenting its TOKEN_A in
    the form it uses (Base64 for a party that expects Base64 tokens)."""
    party = node.new_party(country_code, party_id, role, **kwargs)
    node.list_party(party)
    token_a = await node.token_a()
    await assert_registers(node, party, b64(token_a) if party.base64_tokens else token_a)
    return party


async def listed_statuses(node: HubUnderTest, reader: FakeBackoffice, party_id: str) -> list[str]:
    """The statuses `reader`'s HubClientInfo list (GET hubclientinfo) holds for `party_id`."""
    rules = (await node.caller(reader)).platform.rules
    infos, _ = await node.hub.presence.client_infos(EVERYONE, rules=rules)
    return [i.status.value for i in infos if i.party.party_id == party_id]


def statuses(watching: FakeBackoffice, about: FakeBackoffice) -> list[str]:
    """The statuses of `about` pushed to `watching`'s hubclientinfo receiver, in order."""
    prefix = watching.endpoint_path("hubclientinfo", "RECEIVER")
    pushed = [json.loads(r.body) for r in watching.received if r.path.startswith(prefix)]
    party = about.party
    return [
        p["status"]
        for p in pushed
        if (p["country_code"], p["party_id"]) == (party.country_code, party.party_id)
    ]


# ---------------------------------------------------------------- PUT and DELETE


async def test_put_rotates_token_c_and_refetches_endpoints(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO")
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    old_c = cpo.token_c
    cpo.token_b = "token-b-rotated"
    cpo.modules = ("locations",)
    cpo.received.clear()
    body = expect(await node.update(cpo), 200, 1000)
    new_c = body["data"]["token"]
    assert new_c != old_c
    assert body["data"] == node_credentials(node, new_c)
    bearer = "Token token-b-rotated"
    assert calls(cpo) == [("GET", "/scpi/versions", bearer), ("GET", "/scpi/2.2", bearer)]

    expect(await node.read_credentials(f"Token {old_c}"), 401, 2000)
    new = await node.read_credentials(f"Token {new_c}")
    assert expect(new, 200, 1000)["data"]["token"] == new_c

    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert got.json()["data"]["path"] == cpo.endpoint_path("locations", "SENDER")
    assert cpo.module_requests()[-1].headers["Authorization"] == bearer
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/cdrs", to=cpo)
    expect(got, 200, 4001, "no cdrs SENDER endpoint")


async def test_put_credentials_keeps_the_token_a_restriction(node: HubUnderTest) -> None:
    cpo = node.new_party("DE", "CPO")
    node.list_party(cpo)
    other = node.new_party("NL", "XYZ")
    node.list_party(other, operator=node.address)
    token_a = await node.token_a(token_roles({"country_code": "DE", "party_id": "CPO"}))
    await assert_registers(node, cpo, token_a)
    widened = cpo.credentials()
    widened["roles"].append({**widened["roles"][0], "party_id": "XYZ", "country_code": "NL"})
    got = await node.update(cpo, json.dumps(widened).encode())
    assert (got.status, got.status_code) == (200, 2001)
    assert "cannot register NL XYZ" in got.json()["status_message"]


async def test_delete_suspends_the_party_until_it_registers_again(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO")
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    assert "data" not in expect(await node.unregister(cpo), 200, 1000)
    gone = await node.read_credentials(cpo.authorization())
    expect(gone, 401, 2000, "Unknown credentials token")

    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    expect(got, 200, 4003, "not connected")
    assert cpo.module_requests() == []
    platform = await node.directory.platform_of(cpo.party)
    assert platform is not None
    roles = [r.role.value for r in platform.roles if r.party == cpo.party]
    assert (platform.status.value, roles) == ("SUSPENDED", ["CPO"])

    await assert_registers(node, cpo, await node.token_a())
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert got.json()["data"]["path"] == cpo.endpoint_path("locations", "SENDER")
    # The suspended connection is superseded, not listed too.
    assert await listed_statuses(node, emsp, "CPO") == ["CONNECTED"]


async def test_token_a_is_refused_on_modules(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO")
    token_a = await node.token_a()
    got = await node.send(
        cpo,
        "GET",
        "/scpi/sender/2.2/locations",
        to=cpo,
        headers={"Authorization": f"Token {token_a}"},
    )
    expect(got, 401, 2000, "only valid for versions and credentials")
    assert cpo.module_requests() == []


# ---------------------------------------------------------------- token forms


async def test_base64_party_is_called_with_base64_token_b_and_plain_with_plain(
    node: HubUnderTest,
) -> None:
    plain = await join(node, "DE", "CPO")
    coded = await join(node, "NL", "B64", Role.EMSP, base64_tokens=True)
    plain_bearer = f"Token {plain.token_b}"
    coded_bearer = f"Token {b64(coded.token_b)}"
    assert [c[2] for c in calls(plain)] == [plain_bearer, plain_bearer]
    assert [c[2] for c in calls(coded)] == [coded_bearer, coded_bearer]

    got = await node.send(coded, "GET", "/scpi/sender/2.2/locations", to=plain)
    expect(got, 200, 1000)
    assert plain.module_requests()[-1].headers["Authorization"] == plain_bearer
    got = await node.send(plain, "GET", "/scpi/sender/2.2/tokens", to=coded)
    expect(got, 200, 1000)
    assert coded.module_requests()[-1].headers["Authorization"] == coded_bearer
    credentials = await node.read_credentials(coded.authorization())
    assert expect(credentials, 200, 1000)["data"]["token"] == coded.token_c


# ---------------------------------------------------------------- takeovers


async def test_a_party_that_lost_its_handshake_answer_takes_its_connection_over(
    node: HubUnderTest,
) -> None:
    """The node saved a registration whose answer (TOKEN_C) never reached the party. A TOKEN_A
    issued for the party takes the connection over: the lost TOKEN_C stops working, the party
    is listed once, and the others hear it CONNECTED, never SUSPENDED."""
    emsp = await node.connect("DE", "MSP", Role.EMSP, modules=WATCHING)
    cpo = node.new_party("DE", "CPO")
    node.list_party(cpo)
    lost = expect(await node.register(cpo, await node.token_a()), 200, 1000)
    lost_c = lost["data"]["token"]

    # A TOKEN_A for anyone (as a new party gets) cannot displace a connected party from
    # another backoffice...
    elsewhere = {**cpo.credentials(), "url": "http://127.0.0.1:9/scpi/versions"}
    got = await node.register(cpo, await node.token_a(), json.dumps(elsewhere).encode())
    expect(got, 200, 2001, "DE CPO is already connected", "a TOKEN_A issued for DE CPO")
    # ...but the same backoffice retrying with a fresh TOKEN_A takes its connection over.
    await assert_registers(node, cpo, await node.token_a())

    gone = await node.read_credentials(f"Token {lost_c}")
    expect(gone, 401, 2000, "Unknown credentials token")
    # A TOKEN_A issued for the party takes it over too, from any versions URL.
    second_c = cpo.token_c
    token_a = await node.token_a(token_roles({"country_code": "DE", "party_id": "CPO"}))
    await assert_registers(node, cpo, token_a)
    gone = await node.read_credentials(f"Token {second_c}")
    expect(gone, 401, 2000, "Unknown credentials token")
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert got.json()["data"]["path"] == cpo.endpoint_path("locations", "SENDER")
    views, _ = await node.platforms.page(0, 100)
    held = [(r.party.party_id, v.platform.status.value) for v in views for r in v.platform.roles]
    assert sorted(held) == [("CPO", "CONNECTED"), ("MSP", "CONNECTED")]
    assert await listed_statuses(node, emsp, "CPO") == ["CONNECTED"]

    await node.drain()
    assert statuses(emsp, cpo) == ["CONNECTED", "CONNECTED", "CONNECTED"]


async def test_a_takeover_must_register_every_role_of_the_connection(node: HubUnderTest) -> None:
    cpo = node.new_party("DE", "CPO")
    list_as(node, cpo, roles=[Role.CPO, Role.EMSP])
    both = cpo.credentials()
    both["roles"].append({**both["roles"][0], "role": "EMSP"})
    got = await node.register(cpo, await node.token_a(), json.dumps(both).encode())
    old_c = expect(got, 200, 1000)["data"]["token"]
    token_a = await node.token_a(token_roles({"country_code": "DE", "party_id": "CPO"}))
    got = await node.register(cpo, token_a)  # the CPO role alone
    expect(got, 200, 2001, "with DE CPO EMSP too", "registers all of its roles")
    expect(await node.read_credentials(f"Token {old_c}"), 200, 1000)
    expect(await node.register(cpo, token_a, json.dumps(both).encode()), 200, 1000)
    expect(await node.read_credentials(f"Token {old_c}"), 401, 2000)


# ---------------------------------------------------------------- started by the node


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
