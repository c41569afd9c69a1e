"""Broadcast push on one node: a push TO the hub reaches every party on the other side of the
module, each leg FROM the hub and TO that party, byte for byte; the sender gets the hub's 1000.

The CPO DE CPO pushes; the eMSP DE MSP, the NSP NL NSP and the OTHER party BE OTH receive; the
CPO NL CPO (a CPO too) does not.
"""

from __future__ import annotations

import json

from scn_node.hub.model import PartyResponse
from scn_node.hub.rules import ListKind, PartyRules, RuleEntry
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.errors import ReceiverTimeout
from scn_node.scpi.hubclientinfo import ConnectionStatus
from scn_node.scpi.party import PartyId, Role
from tests.fakes.backoffice import FakeBackoffice, Received, answer
from tests.fakes.hub import Answer, HubUnderTest
from tests.hub.test_routing import odd

LOCATION = "/scpi/receiver/2.2/locations/DE/CPO/LOC1"
QUERY = "x=%C3%A9&b=1&a="
BODY = odd('"id" : "LOC1", "country_code":"DE", "party_id":"CPO"').encode()


def push_path(path: str = LOCATION, query: str = QUERY) -> str:
    return f"{path}?{query}" if query else path


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def legs(party: FakeBackoffice) -> list[Received]:
    return party.module_requests()


def routing(got: Answer | Received) -> tuple[str, str, str, str]:
    headers = {k.lower(): v for k, v in got.headers.items()}
    return (
        headers["scpi-from-country-code"],
        headers["scpi-from-party-id"],
        headers["scpi-to-country-code"],
        headers["scpi-to-party-id"],
    )


async def receivers(node: HubUnderTest) -> list[FakeBackoffice]:
    """The eMSP, the NSP and the OTHER party: every one a CPO's push goes to."""
    return [
        await node.connect("DE", "MSP", Role.EMSP),
        await node.connect("NL", "NSP", Role.NSP),
        await node.connect("BE", "OTH", Role.OTHER),
    ]


async def push(
    node: HubUnderTest,
    sender: FakeBackoffice,
    path: str = LOCATION,
    *,
    method: str = "PUT",
    body: bytes = BODY,
    query: str = QUERY,
    headers: dict[str, str] | None = None,
) -> Answer:
    """`sender`'s push TO the hub; what it got back, once the legs have run."""
    got = await node.send(
        sender, method, push_path(path, query), to=NODE_PARTY, body=body, headers=headers
    )
    await node.drain()
    return got


def expect_hub_answer(got: Answer, sender: FakeBackoffice, status_code: int = 1000) -> None:
    assert (got.status, got.status_code) == (200, status_code), got.body
    assert routing(got) == ("DE", "SCN", sender.party.country_code, sender.party.party_id)
    assert (got.headers["X-Request-ID"], got.headers["X-Correlation-ID"]) == ("req-1", "corr-1")


# ---------------------------------------------------------------- who gets what


async def test_a_cpo_push_reaches_every_emsp_nsp_and_other_party_byte_for_byte(
    node: HubUnderTest,
) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    other_cpo = await node.connect("NL", "CPO", Role.CPO)
    parties = await receivers(node)
    got = await push(node, cpo)
    expect_hub_answer(got, cpo)
    assert "data" not in got.json()
    ids = set()
    for party in parties:
        (leg,) = legs(party)
        headers = lower(leg.headers)
        assert leg.method == "PUT"
        assert leg.path == party.endpoint_path("locations", "RECEIVER") + "/DE/CPO/LOC1"
        assert leg.query == QUERY
        assert leg.body == BODY  # not re-serialised
        assert routing(leg) == ("DE", "SCN", party.party.country_code, party.party.party_id)
        assert headers["authorization"] == f"Token {party.token_b}"
        assert headers["x-correlation-id"] == "corr-1"
        assert headers["x-request-id"] != "req-1"
        assert headers["content-type"] == "application/json"
        assert "scn-signature" not in headers
        ids.add(headers["x-request-id"])
    assert len(ids) == len(parties)  # a new request id per leg
    assert legs(cpo) == [] and legs(other_cpo) == []


async def test_an_emsp_token_push_reaches_the_cpos_only(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpos = [await node.connect("DE", "CPO", Role.CPO), await node.connect("NL", "CPO", Role.CPO)]
    other_emsp = await node.connect("NL", "MSP", Role.EMSP)
    nsp = await node.connect("NL", "NSP", Role.NSP)
    token = b'{"uid":"T1","type":"RFID","country_code":"DE","party_id":"MSP"}'
    got = await push(
        node, emsp, "/scpi/receiver/2.2/tokens/DE/MSP/T1", body=token, query="type=RFID"
    )
    expect_hub_answer(got, emsp)
    for cpo in cpos:
        (leg,) = legs(cpo)
        assert (leg.path, leg.query, leg.body) == (
            cpo.endpoint_path("tokens", "RECEIVER") + "/DE/MSP/T1", "type=RFID", token
        )  # fmt: skip
    assert legs(other_emsp) == [] and legs(nsp) == []


async def test_a_tariff_is_withdrawn_by_a_broadcast_delete(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    got = await push(
        node, cpo, "/scpi/receiver/2.2/tariffs/DE/CPO/T1", method="DELETE", body=b"", query=""
    )
    expect_hub_answer(got, cpo)
    (leg,) = legs(emsp)
    assert (leg.method, leg.path, leg.body) == (
        "DELETE", emsp.endpoint_path("tariffs", "RECEIVER") + "/DE/CPO/T1", b""
    )  # fmt: skip


async def test_a_patch_of_an_evse_is_broadcast_with_its_whole_tail(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    patch = b'{"status":"CHARGING","last_updated":"2019-06-24T12:39:09Z"}'
    got = await push(node, cpo, LOCATION + "/EVSE%201", method="PATCH", body=patch, query="")
    expect_hub_answer(got, cpo)
    (leg,) = legs(emsp)
    assert leg.path == emsp.endpoint_path("locations", "RECEIVER") + "/DE/CPO/LOC1/EVSE%201"
    assert leg.body == patch


async def test_a_platform_with_two_receiving_parties_gets_one_leg_each(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    emsp = node.new_party("DE", "MSP", Role.EMSP)
    node.list_party(emsp)
    assert emsp.account is not None
    node.registry.list_party(PartyId("DE", "MS2"), [Role.EMSP], node.address, emsp.account.address)
    credentials = emsp.credentials()
    credentials["roles"].append({**credentials["roles"][0], "party_id": "MS2"})
    registered = await node.register(emsp, await node.token_a(), json.dumps(credentials).encode())
    assert registered.status_code == 1000, registered.body
    emsp.token_c = registered.json()["data"]["token"]
    await push(node, cpo)
    assert sorted(routing(leg)[2:] for leg in legs(emsp)) == [("DE", "MS2"), ("DE", "MSP")]


async def test_a_party_whose_rules_block_the_sender_gets_nothing(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    blocking, other, _ = await receivers(node)
    entry = RuleEntry(cpo.party, frozenset({"locations"}))
    await node.set_rules(blocking, PartyRules(active=ListKind.BLACKLIST, entries=(entry,)))
    expect_hub_answer(await push(node, cpo), cpo)
    assert legs(blocking) == [] and len(legs(other)) == 1
    # Its other modules still come through.
    await push(node, cpo, "/scpi/receiver/2.2/tariffs/DE/CPO/T1")
    assert len(legs(blocking)) == 1


async def test_offline_and_suspended_parties_are_skipped_not_queued(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    offline, left, online = await receivers(node)
    platform = await node.directory.platform_of(offline.party)
    assert platform is not None
    moved = await node.directory.set_status(
        platform.id, ConnectionStatus.OFFLINE, was=ConnectionStatus.CONNECTED
    )
    assert moved is not None
    assert (await node.unregister(left)).status_code == 1000
    expect_hub_answer(await push(node, cpo), cpo)
    assert legs(offline) == [] and legs(left) == [] and len(legs(online)) == 1
    # Back online, it gets the next push and never the one it missed.
    await node.directory.set_status(
        platform.id, ConnectionStatus.CONNECTED, was=ConnectionStatus.OFFLINE
    )
    await push(node, cpo, LOCATION.replace("LOC1", "LOC2"))
    assert [leg.path.rsplit("/", 1)[1] for leg in legs(offline)] == ["LOC2"]


async def test_a_party_without_the_module_gets_nothing(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    no_locations = await node.connect("DE", "MSP", Role.EMSP, modules=("tokens",))
    emsp = await node.connect("NL", "MSP", Role.EMSP)
    await push(node, cpo)
    assert legs(no_locations) == [] and len(legs(emsp)) == 1


# ---------------------------------------------------------------- failures and refusals


async def test_receivers_down_slow_or_failing_do_not_touch_the_answer_or_the_others(
    node: HubUnderTest,
) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    down, slow, failing = await receivers(node)
    fine = await node.connect("NL", "MSP", Role.EMSP)
    node.network.drop(down.base_url)

    def timeout(_: Received) -> PartyResponse:
        raise ReceiverTimeout("did not answer in time")

    slow.on("PUT", "/", timeout)
    failing.on("PUT", "/", lambda _: answer(status_code=2001))
    got = await push(node, cpo)
    expect_hub_answer(got, cpo)
    assert "status_message" not in got.json()  # never relayed
    assert len(legs(fine)) == 1 and len(legs(slow)) == 1 and len(legs(failing)) == 1
    broadcasts = node.hub.forwarder.broadcasts
    assert (broadcasts.legs_sent, broadcasts.legs_failed) == (1, 3)


async def test_no_receiver_at_all_is_4003(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    other_cpo = await node.connect("NL", "CPO", Role.CPO)
    got = await push(node, cpo)
    expect_hub_answer(got, cpo, 4003)
    assert got.json()["status_message"] == "No connected party receives locations"
    assert legs(other_cpo) == []


async def test_the_hub_only_broadcasts_what_is_meant_for_everyone(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    for method, path in (
        ("PUT", "/scpi/receiver/2.2/sessions/DE/CPO/S1"),
        ("POST", "/scpi/receiver/2.2/cdrs"),
        ("GET", "/scpi/receiver/2.2/locations/DE/CPO/LOC1"),
        ("DELETE", LOCATION),
    ):
        got = await push(node, cpo, path, method=method, query="")
        expect_hub_answer(got, cpo, 2001)
        assert "SCPI-to-* = DE SCN is for a GET All" in got.json()["status_message"], path
    assert legs(emsp) == []


async def test_a_sender_in_a_role_with_no_receivers_named_is_refused(node: HubUnderTest) -> None:
    nap = await node.connect("DE", "NAP", Role.NAP)
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    got = await push(node, nap, "/scpi/receiver/2.2/locations/DE/NAP/LOC1")
    expect_hub_answer(got, nap, 2001)
    assert "DE NAP holds NAP: only a CPO's" in got.json()["status_message"]
    assert legs(emsp) == []


async def test_only_the_owner_pushes_its_objects(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    got = await push(node, cpo, "/scpi/receiver/2.2/locations/NL/XYZ/LOC1")
    expect_hub_answer(got, cpo, 2001)
    assert legs(emsp) == []


async def test_broadcast_wait_answers_with_how_many_succeeded(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    down, *_ = await receivers(node)
    node.hub.forwarder.broadcasts.wait = True  # SCN_BROADCAST_WAIT=true
    node.network.drop(down.base_url)
    got = await node.send(cpo, "PUT", LOCATION, to=NODE_PARTY, body=BODY)
    expect_hub_answer(got, cpo)
    assert got.json()["status_message"] == "Delivered to 2 of 3 receiving parties on this node"


async def test_broadcast_wait_is_4003_when_nobody_took_it(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    emsp, nsp, other = await receivers(node)
    node.hub.forwarder.broadcasts.wait = True
    for party in (emsp, nsp):
        node.network.drop(party.base_url)
    other.on("PUT", "/", lambda _: answer(status=500, status_code=3000))
    got = await node.send(cpo, "PUT", LOCATION, to=NODE_PARTY, body=BODY)
    expect_hub_answer(got, cpo, 4003)
    assert got.json()["status_message"] == (
        "No receiver took the push: 0 of 3 receiving parties on this node"
    )


async def test_legs_over_the_limit_are_dropped_not_queued(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    parties = await receivers(node)
    broadcasts = node.hub.forwarder.broadcasts
    broadcasts.background.limit = 2  # keeping the object takes one
    got = await push(node, cpo)
    expect_hub_answer(got, cpo)
    assert [len(legs(p)) for p in parties] == [1, 0, 0]
    assert (broadcasts.legs_sent, broadcasts.background.dropped) == (1, 2)


async def test_the_ocpi_dialect_broadcasts_too(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    headers = node.headers(cpo, NODE_PARTY, family="OCPI")
    got = await node.send_as_is("PUT", LOCATION, headers, BODY)
    await node.drain()
    assert (got.status, got.status_code) == (200, 1000)
    (leg,) = legs(emsp)
    assert routing(leg) == ("DE", "SCN", "DE", "MSP") and leg.body == BODY
