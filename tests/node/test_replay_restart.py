"""A node message is delivered once, even when it is replayed to the node after a restart."""

from __future__ import annotations

from scn_node.hub.message import ScpiRequest
from scn_node.hub.peer import NodeMessage
from scn_node.registry.wallet import NodeWallet
from scn_node.scpi.headers import RoutingHeaders
from scn_node.scpi.party import Role
from scn_node.scpi.versions import InterfaceRole
from tests.node.conftest import Network


async def test_a_message_replayed_after_the_node_restarts_is_refused(
    peers: tuple[Network, Network],
) -> None:
    one, two = peers
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    message = NodeMessage(
        ScpiRequest(
            "GET", "locations", InterfaceRole.SENDER,
            RoutingHeaders("r", "c", emsp.party, cpo.party),
        )
    ).encode()  # fmt: skip
    signed = {"SCN-Signature": NodeWallet("0x" + bytes(one.node_account.key).hex()).sign(message)}
    delivered = await two.client.post("/scn/message", content=message, headers=signed)
    assert (delivered.status_code, delivered.json()["status_code"]) == (200, 1000)
    await two.stop_node()
    await two.start_node()  # same database, nothing in memory
    replayed = await two.client.post("/scn/message", content=message, headers=signed)
    assert (replayed.status_code, replayed.json()["status_code"]) == (409, 4902), replayed.text
    assert "delivered before" in replayed.json()["status_message"]
    assert len(cpo.module_requests()) == 1
