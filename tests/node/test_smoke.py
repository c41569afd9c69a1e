from __future__ import annotations

from scn_node.scpi.party import Role
from tests.node.conftest import Network


async def test_emsp_gets_cpo_location(network: Network) -> None:
    cpo = await network.connect("DE", "CPO", Role.CPO)
    emsp = await network.connect("DE", "MSP", Role.EMSP)
    response = await network.send(emsp, "GET", "/scpi/sender/2.2/locations/LOC1?x=1", to=cpo)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["path"] == "/scpi/cpo/2.2/locations/sender/LOC1"
    got = cpo.module_requests()[-1]
    assert got.query == "x=1"
    assert got.headers["X-Correlation-ID"] == "corr-1"
    assert got.headers["X-Request-ID"] != "req-1"
