"""Delivery: the one hop out of this node, to a party here or to the node a party is on.

A hop that fails is named ("Receiver X on the node Y …", "The node Y of receiver X …"), so a
sender behind a peer node learns whether the party or a node was out of reach.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from scn_node.hub.exchange import LocalParty, RemoteParty, Target
from scn_node.hub.message import ScpiRequest
from scn_node.hub.modules import Family
from scn_node.hub.peer import NodeMessage, PeerLink
from scn_node.hub.ports import OutboundRequest, PartyResponse, Platforms, Transport
from scn_node.scpi.authorization import authorization
from scn_node.scpi.errors import ConnectionProblem, ReceiverModuleMissing, ReceiverTimeout
from scn_node.scpi.headers import (
    CORRELATION_ID,
    OCN_PARTY_SIGNATURE,
    PARTY_SIGNATURE,
    REQUEST_ID,
    routing_pair,
)


@dataclass(frozen=True, slots=True)
class Delivered:
    """A receiver's answer, and the URL its Link and Location are read against."""

    response: PartyResponse
    url: str


class Delivery:
    def __init__(
        self,
        platforms: Platforms,
        transport: Transport,
        peers: PeerLink,
        *,
        node_url: str,
        new_request_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.platforms = platforms
        self.transport = transport
        self.peers = peers
        self.node_url = node_url
        self.new_request_id = new_request_id

    async def deliver(
        self, request: ScpiRequest, family: Family, target: Target, *, opened: bool = False
    ) -> Delivered:
        if isinstance(target, RemoteParty):
            message = NodeMessage(request, family, proxy=target.proxy, opened=opened)
            response = await self.peers.send(target.node_url, target.operator, message)
            return Delivered(response, target.url or target.node_url)
        url = target.url or await self._endpoint(target, request)
        return Delivered(await self._send(target, request, url), url)

    async def _endpoint(self, target: LocalParty, request: ScpiRequest) -> str:
        url = await self.platforms.endpoint(target.platform.id, request.module, request.interface)
        if url is None:
            raise ReceiverModuleMissing(
                f"Receiver {request.headers.receiver} has no {request.module} "
                f"{request.interface} endpoint"
            )
        return url.rstrip("/") + request.tail

    async def _send(self, target: LocalParty, request: ScpiRequest, url: str) -> PartyResponse:
        headers, platform = request.headers, target.platform
        outbound = {
            "Authorization": authorization(platform.token_b or "", platform.token_form),
            REQUEST_ID: self.new_request_id(),
            CORRELATION_ID: headers.correlation_id,
            **routing_pair(headers.sender, headers.receiver),
        }
        if headers.signature is not None:
            outbound[PARTY_SIGNATURE] = outbound[OCN_PARTY_SIGNATURE] = headers.signature
        if request.body:
            outbound["Content-Type"] = "application/json"
        if request.query:
            url = f"{url}{'&' if '?' in url else '?'}{request.query}"
        try:
            response = await self.transport.send(
                OutboundRequest(request.method, url, outbound, request.body)
            )
        except (ReceiverTimeout, ConnectionProblem) as error:
            raise type(error)(
                f"Receiver {headers.receiver} on the node {self.node_url} {error.message}"
            ) from None
        if response.status == 401:
            # The receiver refused the node's TOKEN_B, not the sender's TOKEN_C: say so.
            raise ConnectionProblem(
                f"Receiver {headers.receiver} refused the node's credentials (HTTP 401); "
                "it needs to update its connection with this node"
            )
        return response
