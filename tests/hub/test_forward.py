"""The forward pipeline on one node: a party's request reaches the party it names, byte for byte."""

from __future__ import annotations

from scn_node.scpi.party import Role
from tests.fakes.hub import HubUnderTest


async def test_a_party_reaches_another(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    answer = await node.send(emsp, "GET", "/scpi/sender/2.2/locations/LOC1", to=cpo)
    assert (answer.status, answer.status_code) == (200, 1000)
    assert cpo.module_requests()[-1].path == "/scpi/cpo/2.2/locations/sender/LOC1"
