"""Where a request goes: the local party named in SCPI-to-*, and its endpoint for the module."""

from __future__ import annotations

from dataclasses import dataclass

from scn_node.hub.ports import Directory, Platform, Registry
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.errors import (
    ConnectionProblem,
    InvalidParameters,
    ReceiverModuleMissing,
    UnknownReceiver,
)
from scn_node.scpi.hubclientinfo import ConnectionStatus
from scn_node.scpi.party import PartyId
from scn_node.scpi.versions import InterfaceRole


@dataclass(frozen=True, slots=True)
class LocalRoute:
    platform: Platform
    url: str


async def connected_platform(
    directory: Directory, registry: Registry, receiver: PartyId, node_address: str
) -> Platform:
    """The connected platform of `receiver`, or the hub error that says why there is none."""
    if receiver == NODE_PARTY:
        raise InvalidParameters(
            f"SCPI-to-* names the node itself ({receiver}); address the party you want to reach"
        )
    platform = await directory.platform_of(receiver)
    if platform is None:
        listed = await registry.party(receiver)
        if listed is None or not listed.node_url:
            raise UnknownReceiver(f"Unknown receiver {receiver}: not connected here, not listed")
        if listed.operator.lower() == node_address.lower():
            raise ConnectionProblem(
                f"Receiver {receiver} is listed with this node but has not connected yet"
            )
        raise UnknownReceiver(
            f"Unknown receiver {receiver}: it is listed at the node {listed.node_url}, "
            "and this node does not route to other nodes yet"
        )
    if platform.status is not ConnectionStatus.CONNECTED:
        raise ConnectionProblem(f"Receiver {receiver} is not connected ({platform.status})")
    return platform


async def locate(
    directory: Directory,
    registry: Registry,
    receiver: PartyId,
    module: str,
    interface: InterfaceRole,
    node_address: str,
) -> LocalRoute:
    platform = await connected_platform(directory, registry, receiver, node_address)
    url = await directory.endpoint(platform.id, module, interface)
    if url is None:
        raise ReceiverModuleMissing(f"Receiver {receiver} has no {module} {interface} endpoint")
    return LocalRoute(platform, url)
