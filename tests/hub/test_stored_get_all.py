"""A requester's GET All TO the hub, answered from the objects broadcast to it, end to end
through the node (`Forwarder.handle` → `GetAllPages.page` → `StoredObjects.page`).

Expected to fail until hub/get_all.py asks `stored.page` first for GetAll.STORED modules; the
marker is strict, so the test says so the moment it passes: then remove the marker.
"""

from __future__ import annotations

import json

from scn_node.hub.exchange import Exchange, FromParty
from scn_node.hub.message import ScpiRequest
from scn_node.hub.modules import spec_for
from scn_node.hub.rules import NO_RULES
from scn_node.hub.scenario import Scenario
from scn_node.hub.signing import SignaturePolicy
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.headers import RoutingHeaders
from scn_node.scpi.party import Role
from scn_node.scpi.versions import InterfaceRole
from tests.fakes.hub import HubUnderTest


def tariff(n: int) -> bytes:
    return f'{{ "id" : "T{n}", "currency":"EUR", "last_updated":"2026-01-0{n + 1}T10:00:00Z" }}'.encode()


async def test_a_get_all_to_the_hub_is_answered_from_the_kept_objects(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    msp = await node.connect("DE", "MSP", Role.EMSP)
    caller = await node.caller(cpo)
    for n in range(3):
        headers = RoutingHeaders(f"push-{n}", f"push-{n}", cpo.party, NODE_PARTY)
        pushed = ScpiRequest(
            "PUT", "tariffs", InterfaceRole.RECEIVER, headers, f"/DE/CPO/T{n}", "", tariff(n)
        )
        exchange = Exchange(
            pushed,
            FromParty(caller),
            spec_for("tariffs", InterfaceRole.RECEIVER),
            SignaturePolicy(),
            scenario=Scenario.BROADCAST,
        )
        await node.hub.forwarder.stored.keep(exchange, NO_RULES)

    first = await node.send(msp, "GET", "/scpi/sender/2.2/tariffs?limit=2", to=NODE_PARTY)
    assert first.status == 200 and first.status_code == 1000
    assert first.body.startswith(b'{"data":[' + tariff(0) + b"," + tariff(1) + b"],")
    assert (first.headers["X-Total-Count"], first.headers["X-Limit"]) == ("3", "100")
    assert (
        first.headers["SCPI-from-party-id"] == "SCN" and first.headers["SCPI-to-party-id"] == "MSP"
    )
    link = f"{node.url}/scpi/sender/2.2/tariffs?offset=2&limit=2"
    assert first.headers["Link"] == f'<{link}>; rel="next"'
    assert cpo.module_requests() == []  # no source was asked

    second = await node.send(msp, "GET", link, to=NODE_PARTY)
    assert second.body.startswith(b'{"data":[' + tariff(2) + b"],")
    assert "Link" not in second.headers
    assert [t["id"] for t in json.loads(second.body)["data"]] == ["T2"]
