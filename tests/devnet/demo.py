"""The demo backoffices on the in-process test network: the tutorial's parties, joined as the
demo joins them (the CPOs by themselves, the eMSP as the tutorial's user registers it)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from scn_node.devnet.cpo.server import DemoCpo
from scn_node.devnet.emsp import DemoEmsp
from scn_node.scpi.party import PartyId, Role
from scn_node.web.state import STATE
from tests.node.conftest import ADMIN_KEY, Network

DE_CPO = PartyId("DE", "CPO")
NL_CPX = PartyId("NL", "CPX")
DE_MSP = PartyId("DE", "MSP")


@dataclass
class Demo:
    net: Network
    cpo: DemoCpo
    emsp: DemoEmsp

    async def send(
        self, method: str, path: str, *, to: PartyId | None = None, body: object = None
    ) -> httpx.Response:
        """A request from the eMSP to the node, as the tutorial's Postman requests make it."""
        headers = self.emsp.routing_headers(to or self.cpo.party)
        content = None
        if body is not None:
            content = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        return await self.net.client.request(method, path, headers=headers, content=content)


async def start_cpo(net: Network, party: PartyId) -> DemoCpo:
    cpo = DemoCpo(
        party,
        net.url,
        admin_key=ADMIN_KEY,
        signer=net.new_account(),
        registry=net.registry,
        result_delay=0.1,
    )
    await cpo.start()
    await cpo.register()
    return cpo


async def register_emsp(net: Network, emsp: DemoEmsp) -> None:
    """What the tutorial's user does: set-party, a TOKEN_A, then the credentials POST."""
    info = (await net.client.get("/scn/registry/node-info")).json()
    await net.registry.set_party(net.new_account(), emsp.party, [Role.EMSP], info["address"])
    token_a = await net.token_a()
    response = await net.client.post(
        "/scpi/2.2/credentials",
        headers={"Authorization": f"Token {token_a}"},
        json=emsp.credentials(),
    )
    assert response.json()["status_code"] == 1000, response.text
    emsp.token_c = response.json()["data"]["token"]


async def drain(net: Network) -> None:
    """Wait for the node's background work (broadcast legs, what open routing learns)."""
    assert net.node is not None
    await net.node.runner.app[STATE].forwarder.drain()
