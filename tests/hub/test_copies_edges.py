"""Service copies at their edges: too many in flight, a node closing with copies under way,
a service on another node, and a signed request's copy re-signed by the node."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from scn_node.scpi.notary import Notary
from scn_node.scpi.party import Role
from scn_node.scpi.services import ServicePermission
from tests.fakes.backoffice import FakeBackoffice, Received, answer
from tests.fakes.hub import HubUnderTest
from tests.hub.test_signatures import signed

Nodes = tuple[HubUnderTest, HubUnderTest]
LOCATIONS = "/scpi/sender/2.2/locations"


async def _service(
    node: HubUnderTest, user: FakeBackoffice, *, on: HubUnderTest | None = None
) -> FakeBackoffice:
    service = await (on or node).connect("CH", "SRV", Role.OTHER, custom_modules=("lite",))
    assert service.account is not None
    node.registry.add_service(
        user.party, service.party, service.account.address, ServicePermission.FORWARD_ALL
    )
    return service


def _held(service: FakeBackoffice) -> tuple[asyncio.Event, asyncio.Event]:
    """The service answers copies only once `release` is set; `arrived` is set when one came."""
    arrived, release = asyncio.Event(), asyncio.Event()

    async def later(_: Received) -> Any:
        arrived.set()
        await release.wait()
        return answer()

    service.on("*", "/scpi/other/2.2/locations", later)
    return arrived, release


async def test_copies_over_the_limit_are_dropped_and_reported_once(
    node: HubUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    node.hub.forwarder.copies.background.limit = 1
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    service = await _service(node, emsp)
    _, release = _held(service)
    caplog.set_level(logging.WARNING, logger="scn_node.hub.background")
    for n in (1, 2, 3):
        got = await node.send(emsp, "GET", LOCATIONS, to=cpo, headers={"X-Request-ID": f"r{n}"})
        assert got.status_code == 1000  # the original goes through, copies or not
    release.set()
    await node.drain()
    assert len(service.module_requests()) == 1
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert dropped == [
        "service copies dropped: 1 since the last report (the latest r2), 1 in flight"
    ]  # r3 is dropped too, but within DROP_LOG_SECONDS: no second line


async def test_closing_cancels_a_copy_still_under_way(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    service = await _service(node, emsp)
    arrived, _ = _held(service)
    await node.send(emsp, "GET", LOCATIONS, to=cpo)
    copies = node.hub.forwarder.copies
    await arrived.wait()
    (task,) = copies.background._tasks
    copies.background.shutdown_grace = 0  # no time left: the copy at the service is cancelled
    await copies.close()
    assert task.cancelled()
    assert len(service.module_requests()) == 1


async def test_closing_with_copies_that_finish_in_time_lets_them_finish(
    node: HubUnderTest,
) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    service = await _service(node, emsp)
    await node.send(emsp, "GET", LOCATIONS, to=cpo)
    copies = node.hub.forwarder.copies
    (task,) = copies.background._tasks
    await copies.close()
    assert task.done() and not task.cancelled()
    (copy,) = service.module_requests()
    assert copy.headers["SCPI-to-party-id"] == "SRV"


async def test_a_service_on_another_node_gets_its_copy_through_that_node(
    two_nodes: Nodes,
) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await one.connect("NL", "CPO", Role.CPO)
    service = await _service(one, emsp, on=two)
    got = await one.send(emsp, "GET", LOCATIONS + "/L1", to=cpo)
    assert got.status_code == 1000
    await one.drain()
    await two.drain()
    (copy,) = service.module_requests()
    assert copy.path == "/scpi/other/2.2/locations/sender/L1"
    assert (copy.headers["SCPI-from-party-id"], copy.headers["SCPI-to-party-id"]) == ("MSP", "SRV")


async def test_a_signed_requests_copy_is_re_signed_by_the_node_keeping_the_original(
    node: HubUnderTest,
) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    service = await _service(node, emsp)
    got = await node.send(emsp, "GET", LOCATIONS, to=cpo, headers=signed(emsp, cpo, LOCATIONS))
    assert got.status_code == 1000
    await node.drain()
    (copy,) = service.module_requests()
    notary = Notary.decode(copy.headers["SCN-Signature"])
    assert notary.signatory.lower() == node.address.lower()
    assert emsp.account is not None
    (original,) = notary.rewrites
    assert original.signatory.lower() == emsp.account.address.lower()
    assert dict(original.rewritten_fields) == {
        "$['headers']['scpi-to-country-code']": "NL",
        "$['headers']['scpi-to-party-id']": "CPO",
    }
