"""Service copies: one stage, one rule. A party's request here is copied to the services it
agreed to; a revoked agreement, a custom module or a peer's message is not."""

from __future__ import annotations

from scn_node.scpi.party import Role
from scn_node.scpi.services import ServicePermission
from tests.fakes.backoffice import FakeBackoffice
from tests.fakes.hub import HubUnderTest


async def _service(
    node: HubUnderTest, user: FakeBackoffice, *permissions: ServicePermission
) -> FakeBackoffice:
    service = await node.connect("CH", "SRV", Role.OTHER, custom_modules=("lite",))
    assert service.account is not None
    node.registry.add_service(user.party, service.party, service.account.address, *permissions)
    return service


async def test_a_request_is_copied_to_the_service_the_sender_agreed_to(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    service = await _service(node, emsp, ServicePermission.FORWARD_MODULE_LOCATIONS_SENDER)
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations/L1", to=cpo)
    assert got.status_code == 1000
    await node.drain()
    (copy,) = service.module_requests()
    assert copy.path == "/scpi/other/2.2/locations/sender/L1"
    assert (copy.headers["SCPI-to-party-id"], copy.headers["SCPI-from-party-id"]) == ("SRV", "MSP")


async def test_only_the_modules_the_permission_names_are_copied(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    service = await _service(node, emsp, ServicePermission.FORWARD_MODULE_CDRS_SENDER)
    await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    await node.drain()
    assert service.module_requests() == []


async def test_a_revoked_agreement_stops_copies_at_once(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    service = await _service(node, emsp, ServicePermission.FORWARD_ALL)
    assert service.account is not None
    node.registry.revoke(emsp.party, service.account.address)
    await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    await node.drain()
    assert service.module_requests() == []


async def test_custom_modules_are_not_copied(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO, custom_modules=("lite",))
    service = await _service(node, emsp, ServicePermission.FORWARD_ALL)
    got = await node.send(emsp, "GET", "/scpi/custom/sender/lite", to=cpo)
    assert got.status_code == 1000
    await node.drain()
    assert service.module_requests() == []


async def test_a_peer_message_is_copied_at_the_senders_node_only(
    two_nodes: tuple[HubUnderTest, HubUnderTest],
) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    service = await _service(one, emsp, ServicePermission.FORWARD_ALL)
    await one.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    await one.drain()
    await two.drain()
    assert len(service.module_requests()) == 1


async def test_a_copy_that_fails_does_not_touch_the_answer(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    service = await _service(node, emsp, ServicePermission.FORWARD_ALL)
    node.network.drop(service.base_url)
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    await node.drain()
    assert got.status_code == 1000
