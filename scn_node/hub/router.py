"""Addressing: where the one party a request goes to is: connected here, or on the node the
registry lists it with. (Broadcasts and GET All pick their parties themselves and address
each of them here.)"""

from __future__ import annotations

from scn_node.hub.exchange import Exchange, FromPeer, LocalParty, RemoteParty, Target
from scn_node.hub.ports import Platforms, Registry
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.errors import ConnectionProblem, InvalidParameters, UnknownReceiver
from scn_node.scpi.hubclientinfo import ConnectionStatus
from scn_node.scpi.party import PartyId


class Router:
    def __init__(
        self, platforms: Platforms, registry: Registry, *, node_url: str, node_address: str
    ) -> None:
        self.platforms = platforms
        self.registry = registry
        self.node_url = node_url
        self.node_address = node_address

    async def target(self, exchange: Exchange) -> Target:
        """Where `exchange` goes. A peer only sends a node the parties connected to it."""
        receiver = exchange.headers.receiver
        if isinstance(exchange.origin, FromPeer):
            return await self.here(receiver)
        return await self.find(receiver)

    async def find(self, receiver: PartyId) -> Target:
        """A connected party here; else the node the registry lists it with; else why neither."""
        if receiver == NODE_PARTY:
            raise InvalidParameters(
                f"SCPI-to-* names the node itself ({receiver}); address the party you want to reach"
            )
        platform = await self.platforms.platform_of(receiver)
        if platform is not None and platform.status is ConnectionStatus.CONNECTED:
            return LocalParty(platform)  # the hot path: no registry lookup at all
        listed = await self.registry.party(receiver)
        elsewhere = listed is not None and listed.node_url
        if (
            listed is not None
            and elsewhere
            and listed.operator.lower() != self.node_address.lower()
        ):
            return RemoteParty(listed.node_url, listed.operator)
        if platform is not None:
            raise ConnectionProblem(f"Receiver {receiver} is not connected ({platform.status})")
        if not elsewhere:
            raise UnknownReceiver(f"Unknown receiver {receiver}: not connected here, not listed")
        raise ConnectionProblem(
            f"Receiver {receiver} is listed with this node but has not connected yet"
        )

    async def here(self, receiver: PartyId) -> LocalParty:
        """The connected platform of a party a peer node sends to: it must be on this node."""
        platform = await self.platforms.platform_of(receiver)
        if platform is None:
            raise UnknownReceiver(
                f"Receiver {receiver} is not connected to the node {self.node_url}"
            )
        if platform.status is not ConnectionStatus.CONNECTED:
            raise ConnectionProblem(
                f"Receiver {receiver} is not connected to the node {self.node_url} "
                f"({platform.status})"
            )
        return LocalParty(platform)
