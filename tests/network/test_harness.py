"""The harness itself: two real node processes with their own wallets, databases and logs."""

from __future__ import annotations

import pytest

from scn_node.devnet.chain import dev_account
from scn_node.scpi.party import Role
from tests.network.harness import ADMIN_KEY, NODE_ACCOUNTS, TwoNodes, key_of

pytestmark = pytest.mark.ganache


async def test_two_listed_nodes_with_their_own_wallets(two_nodes: TwoNodes) -> None:
    for number, index in NODE_ACCOUNTS.items():
        url = two_nodes.url(number)
        info = (await two_nodes.client.get(f"{url}/scn/registry/node-info")).json()
        assert info == {"url": url, "address": dev_account(index).address.lower()}
        listed = await two_nodes.registry.get_node(dev_account(index).address)
        assert listed is not None and listed.url == url
    assert two_nodes.url(1) != two_nodes.url(2)


async def test_a_party_routes_locally_through_a_real_node_process(two_nodes: TwoNodes) -> None:
    cpo = await two_nodes.connect(1, "DE", "CPO", Role.CPO)
    msp = await two_nodes.connect(1, "DE", "MSP", Role.EMSP)
    response = await two_nodes.send(msp, "GET", "/scpi/sender/2.2/locations/LOC1", to=cpo)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["path"] == cpo.endpoint_path("locations", "SENDER") + "/LOC1"
    forwarded = cpo.requests_to("locations")[-1]
    assert forwarded.headers["Authorization"] == f"Token {cpo.token_b}"
    assert forwarded.headers["X-Correlation-ID"] == response.headers["X-Correlation-ID"]


async def test_a_restarted_node_keeps_its_parties(two_nodes: TwoNodes) -> None:
    cpo = await two_nodes.connect(2, "NL", "CPX", Role.CPO)
    msp = await two_nodes.connect(2, "NL", "MSX", Role.EMSP)
    await two_nodes.restart_node(2)
    response = await two_nodes.send(msp, "GET", "/scpi/sender/2.2/tariffs", to=cpo)
    assert response.status_code == 200 and response.json()["status_code"] == 1000, response.text
    assert len(two_nodes.node(2).exit_codes) == 1  # the restart's clean SIGTERM exit


async def test_nodes_log_json_without_secrets(two_nodes: TwoNodes) -> None:
    await two_nodes.connect(1, "DE", "CPO", Role.CPO)
    for number in NODE_ACCOUNTS:
        entries = two_nodes.log_entries(number)
        assert entries and all("level" in e and "message" in e for e in entries)
        logs = two_nodes.logs(number)
        assert ADMIN_KEY not in logs
        assert key_of(two_nodes.node(number).account)[2:] not in logs
