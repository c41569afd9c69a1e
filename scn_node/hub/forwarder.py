"""The one forward path for every functional and custom module.

`Forwarder.forward` reads as the protocol: check the sender, find the receiver, hide URLs the
receiver cannot call, send, and relay the answer with the node's URLs in place of the party's.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable
from urllib.parse import urljoin

from scn_node.hub.message import ScpiReply, ScpiRequest
from scn_node.hub.ports import (
    Caller,
    Directory,
    OutboundRequest,
    PartyResponse,
    PartyTransport,
    Platform,
    Proxy,
    Registry,
)
from scn_node.hub.rewrites import (
    OWNER_IN_PATH,
    RESPONSE_URL,
    RESPONSE_URLS,
    Where,
    replace_member,
    replace_query_parameter,
)
from scn_node.hub.router import connected_platform, locate
from scn_node.scpi.authorization import authorization
from scn_node.scpi.errors import (
    InvalidParameters,
    MalformedJson,
    ResourceNotFound,
    SenderNotAllowed,
)
from scn_node.scpi.headers import CORRELATION_ID, REQUEST_ID, routing_pair
from scn_node.scpi.pagination import link_header, next_link
from scn_node.scpi.party import InvalidPartyId, PartyId
from scn_node.scpi.versions import InterfaceRole, proxy_path

# Reply headers a receiver sets that matter to the sender; Link and Location are rewritten.
_RELAYED = {"content-type": "Content-Type", "x-total-count": "X-Total-Count", "x-limit": "X-Limit"}


class Forwarder:
    def __init__(
        self,
        directory: Directory,
        registry: Registry,
        transport: PartyTransport,
        *,
        node_url: str,
        node_address: str,
        new_request_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        new_proxy_uid: Callable[[], str] = lambda: secrets.token_urlsafe(18),
    ) -> None:
        self.directory = directory
        self.registry = registry
        self.transport = transport
        self.node_url = node_url
        self.node_address = node_address
        self.new_request_id = new_request_id
        self.new_proxy_uid = new_proxy_uid

    async def forward(self, request: ScpiRequest, caller: Caller) -> ScpiReply:
        self._check_sender(request, caller)
        self._check_body(request)
        route = await locate(
            self.directory,
            self.registry,
            request.headers.receiver,
            request.module,
            request.interface,
            self.node_address,
        )
        request = await self._hide_response_url(request)
        url = route.url.rstrip("/") + request.tail
        response = await self._send(route.platform, request, url)
        return await self._relay(response, request, url)

    async def forward_proxied(self, uid: str, request: ScpiRequest, caller: Caller) -> ScpiReply:
        """A call to a node URL that stands for a party URL (a page, a CDR, a response_url)."""
        self._check_sender(request, caller)
        self._check_body(request)
        proxy = await self.directory.proxy(uid)
        headers = request.headers
        if proxy is None or (proxy.caller, proxy.target) != (headers.sender, headers.receiver):
            raise ResourceNotFound(
                f"No proxied resource {uid} from {headers.sender} to {headers.receiver}"
            )
        platform = await connected_platform(
            self.directory, self.registry, proxy.target, self.node_address
        )
        request = ScpiRequest(
            method=request.method,
            module=proxy.module,
            interface=proxy.interface,
            headers=request.headers,
            body=request.body,
        )
        response = await self._send(platform, request, proxy.url)
        return await self._relay(response, request, proxy.url)

    def _check_sender(self, request: ScpiRequest, caller: Caller) -> None:
        sender = request.headers.sender
        if not caller.platform.has_party(sender):
            raise SenderNotAllowed(f"SCPI-from-* names {sender}, which is not one of your roles")
        if (request.module, request.interface) in OWNER_IN_PATH and not request.custom:
            owner = _owner_in_path(request.tail)
            if owner is not None and owner != sender:
                raise SenderNotAllowed(
                    f"The URL names {owner} as the object's owner, but SCPI-from-* is {sender}"
                )

    def _check_body(self, request: ScpiRequest) -> None:
        if request.custom or not request.body.strip():
            return  # custom modules may agree on any body (OCN's tests send plain strings)
        try:
            json.loads(request.body)
        except ValueError as error:
            raise MalformedJson(f"Request body is not valid JSON: {error}") from None

    async def _hide_response_url(self, request: ScpiRequest) -> ScpiRequest:
        """Give the receiver a node URL for the asynchronous result, remembering the real one.

        The mapping is saved before the request goes out: receivers may post the result
        before they answer the request itself.
        """
        where = (
            None
            if request.custom
            else RESPONSE_URLS.get((request.module, request.interface, request.method))
        )
        if where is None:
            return request
        uid = self.new_proxy_uid()
        proxy_url = self.node_url + proxy_path("scpi", uid)
        body, query = request.body, request.query
        if where is Where.BODY:
            body, original = replace_member(body, RESPONSE_URL, proxy_url)
        else:
            query, original = replace_query_parameter(query, RESPONSE_URL, proxy_url)
        if not original.startswith(("http://", "https://")):
            raise InvalidParameters(f"{RESPONSE_URL} must be an http(s) URL")
        await self.directory.save_proxy(
            Proxy(
                uid=uid,
                caller=request.headers.receiver,
                target=request.headers.sender,
                url=original,
                module=request.module,
                interface=InterfaceRole.SENDER,
            )
        )
        return ScpiRequest(
            method=request.method,
            module=request.module,
            interface=request.interface,
            headers=request.headers,
            tail=request.tail,
            query=query,
            body=body,
            custom=request.custom,
        )

    async def _send(self, platform: Platform, request: ScpiRequest, url: str) -> PartyResponse:
        headers = request.headers
        outbound = {
            "Authorization": authorization(platform.token_b or "", platform.token_form),
            REQUEST_ID: self.new_request_id(),
            CORRELATION_ID: headers.correlation_id,
            **routing_pair(headers.sender, headers.receiver),
        }
        if request.body:
            outbound["Content-Type"] = "application/json"
        if request.query:
            url = f"{url}{'&' if '?' in url else '?'}{request.query}"
        return await self.transport.send(
            OutboundRequest(request.method, url, outbound, request.body)
        )

    async def _relay(self, response: PartyResponse, request: ScpiRequest, url: str) -> ScpiReply:
        headers = request.headers
        reply = {
            name: response.headers[key] for key, name in _RELAYED.items() if key in response.headers
        }
        next_page = next_link(response.headers.get("link"))
        if next_page is not None:
            target = urljoin(url, next_page)
            reply["Link"] = link_header(await self._proxy_for(request, target))
        location = response.headers.get("location")
        if location:
            reply["Location"] = await self._proxy_for(request, urljoin(url, location))
        reply[REQUEST_ID] = headers.request_id
        reply[CORRELATION_ID] = headers.correlation_id
        reply.update(routing_pair(headers.receiver, headers.sender))
        return ScpiReply(response.status, response.body, reply)

    async def _proxy_for(self, request: ScpiRequest, target_url: str) -> str:
        """A node URL for `target_url`, usable only by this sender towards this receiver."""
        uid = self.new_proxy_uid()
        await self.directory.save_proxy(
            Proxy(
                uid=uid,
                caller=request.headers.sender,
                target=request.headers.receiver,
                url=target_url,
                module=request.module,
                interface=request.interface,
            )
        )
        return self.node_url + proxy_path("scpi", uid)


def _owner_in_path(tail: str) -> PartyId | None:
    segments = [s for s in tail.split("/") if s]
    if len(segments) < 2:
        return None
    try:
        return PartyId.parse(segments[0], segments[1])
    except InvalidPartyId:
        raise InvalidParameters(
            f"The URL must name the object's owner as /{{country_code}}/{{party_id}}/…, "
            f"not /{segments[0]}/{segments[1]}"
        ) from None
