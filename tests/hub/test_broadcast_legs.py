"""Broadcast push on one node, around the legs: their order per object, signed pushes re-signed
by the node, one service copy of the push, and what the objects kept and open routing are
given. The helpers come from test_broadcast.py."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qsl

from scn_node.hub.exchange import Exchange
from scn_node.hub.model import PartyResponse
from scn_node.hub.rules import ListKind, PartyRules, RuleEntry
from scn_node.hub.signing import (
    FROM_COUNTRY_CODE_PATH,
    FROM_PARTY_ID_PATH,
    TO_COUNTRY_CODE_PATH,
    TO_PARTY_ID_PATH,
)
from scn_node.hub.stored import StoredObjects
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.notary import request_values, sign
from scn_node.scpi.party import Role
from scn_node.scpi.services import ServicePermission
from tests.fakes.backoffice import FakeBackoffice, Received, answer
from tests.fakes.hub import HubUnderTest, key
from tests.hub.test_broadcast import (
    BODY,
    LOCATION,
    QUERY,
    expect_hub_answer,
    legs,
    push,
    receivers,
    routing,
)
from tests.hub.test_signatures import account, signature_received, values_received, verify_reply


def signed_push(sender: FakeBackoffice, body: bytes = BODY, *, by: Any = None) -> dict[str, str]:
    """The SCN-Signature `sender` puts on its push TO the hub (`push`'s query and body)."""
    values = request_values(
        correlation_id="corr-1",
        sender=sender.party,
        receiver=NODE_PARTY,
        params=dict(parse_qsl(QUERY, keep_blank_values=True)),
        body=json.loads(body),
    )
    return {"SCN-Signature": sign(values, by or account(sender).key).encode()}


class KeptObjects(StoredObjects):
    """StoredObjects that remembers what it was asked to keep."""

    def __init__(self) -> None:
        self.kept: list[tuple[str, str, bytes, PartyRules]] = []

    async def keep(self, exchange: Exchange, owner_rules: PartyRules) -> None:
        request = exchange.request
        self.kept.append((request.method, request.tail, request.body, owner_rules))


# ---------------------------------------------------------------- order


async def test_two_quick_pushes_of_one_object_reach_each_receiver_in_order(
    node: HubUnderTest,
) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    slow, fast, _ = await receivers(node)
    gate, seen = asyncio.Event(), []

    async def receive(got: Received) -> PartyResponse:
        name = f"{got.path.rsplit('/', 1)[1]} v{got.json()['v']}"
        seen.append(f"start {name}")
        if name == "LOC1 v1":
            await gate.wait()  # the receiver is still busy with the first push
        if name == "LOC2 v1":
            gate.set()  # another object is not held up behind LOC1
        seen.append(f"end {name}")
        return answer()

    slow.on("PUT", "/", receive)
    for location, version in (("LOC1", 1), ("LOC1", 2), ("LOC2", 1)):
        got = await node.send(
            cpo, "PUT", LOCATION.replace("LOC1", location), to=NODE_PARTY,
            body=json.dumps({"v": version}),
        )  # fmt: skip
        expect_hub_answer(got, cpo)  # answered while the receiver is still busy
    await asyncio.wait_for(node.drain(), timeout=10)
    assert seen.index("end LOC1 v1") < seen.index("start LOC1 v2")
    assert seen.index("end LOC2 v1") < seen.index("end LOC1 v1")
    assert [leg.json()["v"] for leg in legs(fast) if leg.path.endswith("LOC1")] == [1, 2]


# ---------------------------------------------------------------- signed pushes


async def test_a_signed_push_is_re_signed_for_each_receiver(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    parties = await receivers(node)
    got = await push(node, cpo, headers=signed_push(cpo))
    expect_hub_answer(got, cpo)
    assert verify_reply(got).signatory == node.address  # the hub's own answer, signed
    for party in parties:
        (leg,) = legs(party)
        notary = signature_received(leg)
        notary.verify_exactly(values_received(leg))  # what the receiver got, FROM the hub
        assert notary.signatories() == [node.address, account(cpo).address]
        assert dict(notary.rewrites[0].rewritten_fields) == {
            FROM_COUNTRY_CODE_PATH: "DE",
            FROM_PARTY_ID_PATH: "CPO",
            TO_COUNTRY_CODE_PATH: "DE",
            TO_PARTY_ID_PATH: "SCN",
        }


async def test_a_push_with_a_bad_signature_is_refused_before_any_leg(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    emsp, *_ = await receivers(node)
    got = await push(node, cpo, headers=signed_push(cpo, by=key(7777)))
    expect_hub_answer(got, cpo, 2001)
    assert "The signature is by" in got.json()["status_message"]
    assert legs(emsp) == []


async def test_a_receiver_that_wants_signed_requests_gets_no_unsigned_push(
    node: HubUnderTest,
) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    strict, relaxed, _ = await receivers(node)
    await node.set_rules(strict, PartyRules(signatures=True))
    await push(node, cpo)
    assert legs(strict) == [] and len(legs(relaxed)) == 1
    await push(node, cpo, headers=signed_push(cpo))
    assert len(legs(strict)) == 1


# ---------------------------------------------------------------- services, kept objects


async def test_the_senders_service_gets_one_copy_of_the_push(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    emsp, nsp, other = await receivers(node)
    service = await node.connect("CH", "SRV", Role.CPO)  # a CPO: no receiver of the push
    assert service.account is not None
    node.registry.add_service(
        cpo.party,
        service.party,
        service.account.address,
        ServicePermission.FORWARD_MODULE_LOCATIONS_RECEIVER,
    )
    await push(node, cpo)
    (copy,) = legs(service)
    assert copy.path == service.endpoint_path("locations", "RECEIVER") + "/DE/CPO/LOC1"
    assert (copy.query, copy.body) == (QUERY, BODY)
    assert routing(copy) == ("DE", "CPO", "CH", "SRV")  # the push as sent, to the service
    assert [len(legs(p)) for p in (emsp, nsp, other)] == [1, 1, 1]


async def test_every_accepted_push_is_kept_with_its_owners_rules_and_learnt(
    node: HubUnderTest,
) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    rules = PartyRules(active=ListKind.WHITELIST, entries=(RuleEntry(emsp.party),))
    await node.set_rules(cpo, rules)
    broadcasts = node.hub.forwarder.broadcasts
    stored, learnt = KeptObjects(), []
    broadcasts.stored = stored
    broadcasts.learn = lambda exchange: learnt.append(exchange.request.tail)
    await push(node, cpo)
    await push(node, cpo, LOCATION + "/E1", method="PATCH", body=b'{"status":"CHARGING"}')
    await push(node, cpo, "/scpi/receiver/2.2/sessions/DE/CPO/S1")  # refused: not kept
    assert stored.kept == [
        ("PUT", "/DE/CPO/LOC1", BODY, rules),
        ("PATCH", "/DE/CPO/LOC1/E1", b'{"status":"CHARGING"}', rules),
    ]
    assert learnt == ["/DE/CPO/LOC1", "/DE/CPO/LOC1/E1"]


async def test_a_push_nobody_receives_is_still_kept_for_get_all(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    stored = KeptObjects()
    node.hub.forwarder.broadcasts.stored = stored
    got = await push(node, cpo)
    expect_hub_answer(got, cpo, 4003)
    assert stored.kept == [("PUT", "/DE/CPO/LOC1", BODY, PartyRules())]


async def test_keeping_that_fails_does_not_stop_the_legs(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    emsp = await node.connect("DE", "MSP", Role.EMSP)

    class Broken(StoredObjects):
        async def keep(self, exchange: Exchange, owner_rules: PartyRules) -> None:
            raise RuntimeError("the store is away")

    kept = node.hub.forwarder.stored
    node.hub.forwarder.broadcasts.stored = Broken(
        kept.objects, kept.registry, kept.signing, node_url=node.url
    )
    expect_hub_answer(await push(node, cpo), cpo)
    assert len(legs(emsp)) == 1


async def test_a_party_holding_two_roles_pushes_to_both_sides(node: HubUnderTest) -> None:
    both = node.new_party("DE", "ALL", Role.CPO)
    assert both.account is not None
    node.registry.list_party(both.party, [Role.CPO, Role.EMSP], node.address, both.account.address)
    credentials = both.credentials()
    credentials["roles"].append({**credentials["roles"][0], "role": "EMSP"})
    registered = await node.register(both, await node.token_a(), json.dumps(credentials).encode())
    assert registered.status_code == 1000, registered.body
    both.token_c = registered.json()["data"]["token"]
    cpo = await node.connect("NL", "CPO", Role.CPO)
    emsp = await node.connect("NL", "MSP", Role.EMSP)
    got = await push(node, both, "/scpi/receiver/2.2/locations/DE/ALL/LOC1")
    expect_hub_answer(got, both)
    assert (len(legs(cpo)), len(legs(emsp)), len(legs(both))) == (1, 1, 0)
    assert routing(legs(emsp)[0]) == ("DE", "SCN", "NL", "MSP")
