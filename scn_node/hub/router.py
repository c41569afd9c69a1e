"""Where a request goes: the party named in SCPI-to-*, on this node or on the node the
registry lists it with."""

from __future__ import annotations

from dataclasses import dataclass

from scn_node.hub.ports import Directory, Platform, Registry
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.errors import ConnectionProblem, InvalidParameters, UnknownReceiver
from scn_node.scpi.hubclientinfo import ConnectionStatus
from scn_node.scpi.party import PartyId


@dataclass(frozen=True, slots=True)
class LocalParty:
    platform: Platform


@dataclass(frozen=True, slots=True)
class RemoteParty:
    node_url: str
    operator: str


async def find(
    directory: Directory, registry: Registry, receiver: PartyId, node_address: str
) -> LocalParty | RemoteParty:
    """A connected party here; else the node the registry lists it with; else why neither."""
    if receiver == NODE_PARTY:
        raise InvalidParameters(
            f"SCPI-to-* names the node itself ({receiver}); address the party you want to reach"
        )
    platform = await directory.platform_of(receiver)
    if platform is not None and platform.status is ConnectionStatus.CONNECTED:
        return LocalParty(platform)  # the hot path: no registry lookup at all
    listed = await registry.party(receiver)
    elsewhere = listed is not None and listed.node_url
    if listed is not None and elsewhere and listed.operator.lower() != node_address.lower():
        return RemoteParty(listed.node_url, listed.operator)
    if platform is not None:
        raise ConnectionProblem(f"Receiver {receiver} is not connected ({platform.status})")
    if not elsewhere:
        raise UnknownReceiver(f"Unknown receiver {receiver}: not connected here, not listed")
    raise ConnectionProblem(
        f"Receiver {receiver} is listed with this node but has not connected yet"
    )


async def local_platform(directory: Directory, receiver: PartyId, node_url: str) -> Platform:
    """The connected platform of a party a peer node sends to: it must be on this node."""
    platform = await directory.platform_of(receiver)
    if platform is None:
        raise UnknownReceiver(f"Receiver {receiver} is not connected to the node {node_url}")
    if platform.status is not ConnectionStatus.CONNECTED:
        raise ConnectionProblem(
            f"Receiver {receiver} is not connected to the node {node_url} ({platform.status})"
        )
    return platform
