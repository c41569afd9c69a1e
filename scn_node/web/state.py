"""What handlers share, under one AppKey; built in the app's cleanup context."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from scn_node.hub.clientinfo import HubClientInfo
from scn_node.hub.forwarder import Forwarder
from scn_node.hub.ports import Directory, Registry, Wallet
from scn_node.hub.registration import Handshake, NodeIdentity
from scn_node.scpi.headers import Routing
from scn_node.settings import Settings


@dataclass(frozen=True, slots=True)
class NodeState:
    settings: Settings
    node: NodeIdentity
    directory: Directory
    registry: Registry
    forwarder: Forwarder
    handshake: Handshake
    client_info: HubClientInfo

    @property
    def wallet(self) -> Wallet:
        return self.forwarder.wallet


STATE = web.AppKey("state", NodeState)
# A request's routing headers, read once by the handler that needs them; the request log (and
# the swapped headers on the node's own answers) read them from here.
ROUTING = web.RequestKey("routing", Routing)
