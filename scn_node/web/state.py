"""What handlers share, under one AppKey; built in the app's cleanup context."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from scn_node.hub.forwarder import Forwarder
from scn_node.hub.ports import Directory, Registry, Wallet
from scn_node.hub.registration import Handshake, NodeIdentity
from scn_node.settings import Settings


@dataclass(frozen=True, slots=True)
class NodeState:
    settings: Settings
    node: NodeIdentity
    directory: Directory
    registry: Registry
    forwarder: Forwarder
    handshake: Handshake

    @property
    def wallet(self) -> Wallet:
        return self.forwarder.wallet


STATE = web.AppKey("state", NodeState)
ROUTED = web.RequestKey("routed", bool)  # set on routed requests: their errors may be node-signed
# Set (to the sender's rules) on routed requests whose sender asks for signed answers: the node
# signs its error answers then, as it does when signatures are required or the request is signed.
WANTS_SIGNED = web.RequestKey("wants_signed", bool)
