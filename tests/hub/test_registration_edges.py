"""Handshake edges: an OFFLINE party that updates, rotations the node cannot make (a party
gone, without a credentials endpoint, leaving meanwhile), handshakes and DELETEs overtaken by
other ones, a takeover of two connections, and a party moving while it is taken over."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scn_node.hub.registration import Handshake
from scn_node.scpi.errors import InvalidParameters, UnableToUseClientApi, Unauthorized
from scn_node.scpi.party import Role
from tests.fakes.backoffice import FakeBackoffice, Received, answer
from tests.fakes.clock import MovingClock
from tests.fakes.hub import HubUnderTest
from tests.hub.test_client_info import WATCHING, statuses
from tests.hub.test_client_info_still_alive import check
from tests.hub.test_registration import expect, token_roles


async def offline_msp(
    node: HubUnderTest, clock: MovingClock
) -> tuple[FakeBackoffice, FakeBackoffice]:
    """A watching CPO, and an MSP the still-alive check found unreachable (OFFLINE)."""
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    msp = await node.connect("DE", "MSP", Role.EMSP)
    msp.on("GET", "/scpi/versions", lambda _: answer(status=503, status_code=3000))
    await check(node, clock)
    assert statuses(cpa, msp) == ["CONNECTED", "OFFLINE"]
    return cpa, msp


async def test_an_offline_party_that_updates_its_credentials_is_connected_again(
    node: HubUnderTest, clock: MovingClock
) -> None:
    cpa, msp = await offline_msp(node, clock)
    msp._responders.clear()  # its versions answer again
    expect(await node.update(msp), 200, 1000)
    await node.drain()
    assert statuses(cpa, msp) == ["CONNECTED", "OFFLINE", "CONNECTED"]


async def test_a_connected_party_that_updates_is_no_news(node: HubUnderTest) -> None:
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    msp = await node.connect("DE", "MSP", Role.EMSP)
    await node.drain()
    expect(await node.update(msp), 200, 1000)
    await node.drain()
    assert statuses(cpa, msp) == ["CONNECTED"]


async def test_an_unregistered_party_has_no_tokens_to_rotate(node: HubUnderTest) -> None:
    cpo = await node.connect("NL", "CPO", Role.CPO)
    platform_id = (await node.caller(cpo)).platform.id
    expect(await node.unregister(cpo), 200, 1000)
    posts = len(cpo.received)
    with pytest.raises(InvalidParameters, match="it has no tokens to rotate") as refused:
        await node.hub.handshake.rotate(platform_id)
    assert refused.value.status.value == 2001
    assert len(cpo.received) == posts  # the party was not called


def endpoints_with_credentials(party: FakeBackoffice, roles: tuple[str, ...]) -> Any:
    """The party's 2.2 endpoints, with its credentials endpoint only in `roles`."""

    def details(_: Received) -> Any:
        endpoints = [
            {
                "identifier": "credentials",
                "role": role,
                "url": f"{party.base_url}/scpi/2.2/credentials",
            }
            for role in roles
        ]
        endpoints += [
            {"identifier": "locations", "role": role, "url": party.endpoint("locations", role)}
            for role in ("SENDER", "RECEIVER")
        ]
        return answer({"version": "2.2", "endpoints": endpoints})

    return details


async def test_the_node_rotates_at_a_credentials_receiver_endpoint(node: HubUnderTest) -> None:
    cpo = node.new_party("NL", "CPO")
    cpo.on("GET", "/scpi/2.2", endpoints_with_credentials(cpo, ("RECEIVER",)))
    node.list_party(cpo)
    cpo.token_c = expect(await node.register(cpo, await node.token_a()), 200, 1000)["data"]["token"]
    platform_id = (await node.caller(cpo)).platform.id
    old = cpo.token_c
    await node.hub.handshake.rotate(platform_id)
    puts = [r for r in cpo.received if r.method == "PUT"]
    assert [r.path for r in puts] == ["/scpi/2.2/credentials"]
    assert cpo.token_c != old and json.loads(puts[0].body)["token"] == cpo.token_c


async def test_a_party_without_a_credentials_endpoint_cannot_be_rotated(
    node: HubUnderTest,
) -> None:
    cpo = node.new_party("NL", "CPO")
    cpo.on("GET", "/scpi/2.2", endpoints_with_credentials(cpo, ()))
    node.list_party(cpo)
    cpo.token_c = expect(await node.register(cpo, await node.token_a()), 200, 1000)["data"]["token"]
    platform_id = (await node.caller(cpo)).platform.id
    with pytest.raises(UnableToUseClientApi, match="offers no credentials endpoint") as refused:
        await node.hub.handshake.rotate(platform_id)
    assert refused.value.status.value == 3001
    assert [r for r in cpo.received if r.method == "PUT"] == []


async def test_a_delete_after_a_takeover_leaves_the_new_connection(node: HubUnderTest) -> None:
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    msp = await node.connect("DE", "MSP", Role.EMSP)
    old = await node.caller(msp)
    token_a = await node.token_a(
        token_roles({"country_code": "DE", "party_id": "MSP", "role": "EMSP"})
    )
    msp.token_c = expect(await node.register(msp, token_a), 200, 1000)["data"]["token"]
    await node.hub.handshake.unregister(old)  # the DELETE of the connection taken over, late
    await node.drain()
    assert "SUSPENDED" not in statuses(cpa, msp)
    assert (await node.caller(msp)).platform.status.value == "CONNECTED"
    got = await node.send(cpa, "GET", "/scpi/sender/2.2/tokens", to=msp)
    assert got.status_code == 1000, got.body


async def test_a_takeover_of_two_connections_at_once_is_refused(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "AAA", Role.CPO)
    msp = await node.connect("DE", "BBB", Role.EMSP)
    both = node.new_party("DE", "AAA")
    credentials = both.credentials()
    credentials["roles"] += msp.credentials()["roles"]
    token_a = await node.token_a(
        token_roles(
            {"country_code": "DE", "party_id": "AAA", "role": "CPO"},
            {"country_code": "DE", "party_id": "BBB", "role": "EMSP"},
        )
    )
    got = await node.register(both, token_a, json.dumps(credentials).encode())
    expect(got, 200, 2001, "these roles are held by more than one connection")
    assert both.received == []
    for party in (cpo, msp):  # both keep their connections
        assert (await node.caller(party)).platform.status.value == "CONNECTED"


async def test_a_party_leaving_while_it_answers_the_rotation_keeps_nothing_of_it(
    node: HubUnderTest,
) -> None:
    cpo = await node.connect("NL", "CPO", Role.CPO)
    platform_id = (await node.caller(cpo)).platform.id

    async def leave_then_answer(request: Received) -> Any:
        expect(await node.unregister(cpo), 200, 1000)  # its DELETE overtakes its PUT answer
        return answer(cpo.credentials())

    cpo.on("PUT", "/scpi/2.2/credentials", leave_then_answer)
    with pytest.raises(InvalidParameters, match="changed its credentials meanwhile") as refused:
        await node.hub.handshake.rotate(platform_id)
    assert refused.value.status.value == 2001
    new_token = json.loads(next(r for r in cpo.received if r.method == "PUT").body)["token"]
    cpo.token_c = new_token
    with pytest.raises(Unauthorized, match=r"^Unknown credentials token$"):
        await node.caller(cpo)  # the TOKEN_C offered in the PUT opens nothing


async def test_a_party_leaving_before_the_rotation_starts_is_not_called(
    node: HubUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    cpo = await node.connect("NL", "CPO", Role.CPO)
    platform_id = (await node.caller(cpo)).platform.id
    directory = node.hub.handshake.directory
    stage = directory.stage_token_c

    async def delete_arrives_first(platform: int, token: str) -> bool:
        expect(await node.unregister(cpo), 200, 1000)
        return await stage(platform, token)

    monkeypatch.setattr(directory, "stage_token_c", delete_arrives_first)
    calls = len(cpo.received)
    with pytest.raises(InvalidParameters, match="left meanwhile") as refused:
        await node.hub.handshake.rotate(platform_id)
    assert refused.value.status.value == 2001
    assert len(cpo.received) == calls


async def test_the_nodes_handshake_overtaken_by_the_partys_own_is_withdrawn(
    node: HubUnderTest,
) -> None:
    cpo = node.new_party("NL", "CPO")
    node.list_party(cpo)
    own: dict[str, Any] = {}

    async def register_itself_first(request: Received) -> Any:
        # The party uses the node's new TOKEN_C as a TOKEN_A before answering the POST.
        got = await node.register(cpo, json.loads(request.body)["token"])
        own["token_c"] = expect(got, 200, 1000)["data"]["token"]
        return answer(cpo.credentials())

    cpo.on("POST", "/scpi/2.2/credentials", register_itself_first)
    body = json.dumps({"versions_url": cpo.versions_url, "token": cpo.token_b}).encode()
    with pytest.raises(Unauthorized, match="overtaken by another one") as refused:
        await node.hub.handshake.connect(body)
    assert refused.value.status.value == 2000
    assert [r.method for r in cpo.received if r.path == "/scpi/2.2/credentials"] == [
        "POST",
        "DELETE",
    ]
    cpo.token_c = own["token_c"]  # the party's own handshake stands
    assert (await node.caller(cpo)).platform.status.value == "CONNECTED"


async def test_a_handshake_without_connection_events_tells_nobody(node: HubUnderTest) -> None:
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    msp = await node.connect("DE", "MSP", Role.EMSP)
    await node.drain()
    quiet = Handshake(node.directory, node.registry, node.network, node.hub.node)
    await quiet.unregister(await node.caller(msp))
    await node.drain()
    assert statuses(cpa, msp) == ["CONNECTED"]  # no SUSPENDED pushed
    with pytest.raises(Unauthorized):
        await node.caller(msp)  # yet the party is gone


async def test_a_moved_party_whose_connection_was_just_taken_over_is_still_reported(
    node: HubUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    msp = await node.connect("DE", "MSP", Role.EMSP)
    await node.drain()
    registry = node.hub.handshake.registry
    read = registry.party
    taken_over: list[bool] = []

    async def takeover_while_reading(party: Any, *, fresh: bool = False) -> Any:
        if party == msp.party and not taken_over:
            taken_over.append(True)
            token_a = await node.token_a(
                token_roles({"country_code": "DE", "party_id": "MSP", "role": "EMSP"})
            )
            expect(await node.register(msp, token_a), 200, 1000)  # replaces the old connection
            node.registry.list_party(msp.party, [Role.EMSP], "0x" + "ab" * 20)  # then moves
        return await read(party, fresh=fresh)

    monkeypatch.setattr(registry, "party", takeover_while_reading)
    assert await node.hub.handshake.release_moved_parties() == [msp.party]
    await node.drain()
    assert "SUSPENDED" not in statuses(cpa, msp)  # the replaced connection is no news
