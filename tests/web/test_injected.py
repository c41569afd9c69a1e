"""create_app over injected dependencies: the whole HTTP node with an in-memory registry and a
socket-free transport to its parties, no chain. Only the node itself listens (loopback, port 0)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from scn_node.app import create_app
from scn_node.registry.wallet import NodeWallet
from scn_node.scpi.party import PartyId, Role
from scn_node.settings import Settings
from tests.fakes.backoffice import FakeBackoffice
from tests.fakes.hub import key
from tests.fakes.registry import InMemoryRegistry
from tests.fakes.transport import FakeNetwork

ADMIN = {"Authorization": "Token admin-key"}


@dataclass
class Node:
    client: TestClient  # type: ignore[type-arg]
    registry: InMemoryRegistry
    network: FakeNetwork
    wallet: NodeWallet

    async def connect(self, party: FakeBackoffice) -> None:
        self.network.serve(party.base_url, party.handle)
        self.registry.list_party(party.party, [party.role], self.wallet.address)
        issued = await self.client.post("/admin/generate-registration-token", headers=ADMIN)
        token_a = (await issued.json())["token"]
        registered = await self.client.post(
            "/scpi/2.2/credentials",
            headers={"Authorization": f"Token {token_a}"},
            data=json.dumps(party.credentials()),
        )
        party.token_c = (await registered.json())["data"]["token"]


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    registry, network, wallet = InMemoryRegistry(), FakeNetwork(), NodeWallet(key(1))
    url = "http://node.test"  # as the registry and the parties know it; the test calls its port
    settings = Settings(
        node_url=url,
        private_key=key(1),
        admin_api_key="admin-key",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'node.db'}",
    )
    registry.set_node(wallet.address, url)
    app = create_app(settings, registry=registry, transport=network, wallet=wallet)
    client = TestClient(TestServer(app, host="127.0.0.1", port=0))
    await client.start_server()
    try:
        yield Node(client, registry, network, wallet)
    finally:
        await client.close()


async def test_a_node_built_without_a_chain_routes_a_request(node: Node) -> None:
    emsp = FakeBackoffice(PartyId("DE", "MSP"), Role.EMSP, "token-b-emsp")
    cpo = FakeBackoffice(PartyId("NL", "CPO"), Role.CPO, "token-b-cpo")
    await node.connect(emsp)
    await node.connect(cpo)
    headers = {
        "Authorization": emsp.authorization(),
        "X-Request-ID": "r1",
        "X-Correlation-ID": "c1",
        "OCPI-from-country-code": "DE",
        "OCPI-from-party-id": "MSP",
        "OCPI-to-country-code": "NL",
        "OCPI-to-party-id": "CPO",
    }
    got = await node.client.get("/ocpi/sender/2.2/locations/L1", headers=headers)
    assert (got.status, (await got.json())["status_code"]) == (200, 1000)
    assert got.headers["SCPI-from-party-id"] == "CPO" and got.headers["X-Request-ID"] == "r1"
    assert cpo.module_requests()[-1].path == "/scpi/cpo/2.2/locations/sender/L1"


async def test_a_refusal_is_rendered_once_with_the_routing_swapped(node: Node) -> None:
    emsp = FakeBackoffice(PartyId("DE", "MSP"), Role.EMSP, "token-b-emsp")
    await node.connect(emsp)
    headers = {
        "Authorization": emsp.authorization(),
        "X-Request-ID": "r1",
        "X-Correlation-ID": "c1",
        "SCPI-from-country-code": "DE",
        "SCPI-from-party-id": "MSP",
        "SCPI-to-country-code": "XX",
        "SCPI-to-party-id": "NOP",
    }
    got = await node.client.get("/scpi/sender/2.2/locations", headers=headers)
    body = await got.json()
    assert (got.status, body["status_code"]) == (200, 4001)
    assert got.headers["SCPI-to-party-id"] == "MSP" and got.headers["SCPI-from-party-id"] == "NOP"
    assert got.headers["Content-Type"] == "application/json"
