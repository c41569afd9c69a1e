"""The hub's services wired together over its ports: what a node is, minus HTTP and storage.

`create_app` builds one over the production adapters; tests build one over fakes (see
`tests/fakes`). Nothing here does I/O of its own.
"""

from __future__ import annotations

import secrets
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from scn_node.hub.clientinfo import HubClientInfo
from scn_node.hub.forwarder import Forwarder
from scn_node.hub.peer import PeerLink, ReplayGuard
from scn_node.hub.ports import (
    Directory,
    Leadership,
    NetworkListing,
    Registry,
    SeenMessages,
    Transport,
    Wallet,
)
from scn_node.hub.registration import Handshake, NodeIdentity

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class Hub:
    node: NodeIdentity
    forwarder: Forwarder
    handshake: Handshake
    presence: HubClientInfo
    peers: PeerLink

    @classmethod
    def build(
        cls,
        node: NodeIdentity,
        *,
        directory: Directory,
        registry: Registry,
        listing: NetworkListing,
        transport: Transport,
        wallet: Wallet,
        seen: SeenMessages | None = None,
        signatures: bool = False,
        services: bool = True,
        broadcast_wait: bool = False,
        clock: Clock | None = None,
        leadership: Leadership | None = None,
        new_id: Callable[[], str] = _new_id,
        new_proxy_uid: Callable[[], str] = lambda: secrets.token_urlsafe(18),
        new_token: Callable[[], str] = _new_id,
    ) -> Hub:
        # py_ecc (imported by eth-account) raises the recursion limit to 100000; at that depth
        # a deeply nested JSON body overflows the C stack inside json.loads before
        # RecursionError. The hub decodes every JSON body, so whoever builds one gets the guard.
        sys.setrecursionlimit(min(sys.getrecursionlimit(), 1000))
        clock = clock or _now
        replays = ReplayGuard(seen, clock=lambda: clock().timestamp())
        peers = PeerLink(
            wallet, registry, transport, replays=replays, new_request_id=new_id, clock=clock
        )
        presence = HubClientInfo(
            directory,
            transport,
            peers,
            nodes=listing.other_nodes,
            planned=listing.planned_parties,
            new_id=new_id,
            clock=clock,
            leadership=leadership,
        )
        forwarder = Forwarder(
            directory,
            directory,
            registry,
            transport,
            node_url=node.url,
            wallet=wallet,
            signatures=signatures,
            services=services,
            peers=peers,
            liveness=presence,
            objects=directory,
            broadcast_wait=broadcast_wait,
            route_keys=directory,
            new_request_id=new_id,
            new_proxy_uid=new_proxy_uid,
        )
        handshake = Handshake(
            directory, registry, transport, node, new_token=new_token, events=presence
        )
        return cls(node, forwarder, handshake, presence, peers)

    async def close(self) -> None:
        """Background work first: copies and pushes finish before the adapters close."""
        await self.presence.close()
        await self.forwarder.close()
