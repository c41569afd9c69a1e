"""The one forward path for every functional and custom module, on this node and across nodes.

`Forwarder.forward` reads as the protocol: check the sender, find the receiver, hide URLs the
receiver cannot call, send (to the party, or signed to the node it is on), and relay the answer
with this node's URLs in place of anyone else's. `Forwarder.receive` is the same path for a
message a peer node brings. Every node a message crosses puts its own URLs in, so a party only
ever calls its own node, and a node only ever calls its own parties' URLs.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import unquote, urljoin, urlsplit

from scn_node.hub.message import ScpiReply, ScpiRequest
from scn_node.hub.modules import ModuleRules, Where, rules_for
from scn_node.hub.network import (
    MESSAGE_PATH,
    SIGNATURE_HEADER,
    NodeMessage,
    ReplayGuard,
    check_answer_signature,
    check_node_signature,
)
from scn_node.hub.ports import (
    Caller,
    Directory,
    OutboundRequest,
    PartyResponse,
    PartyTransport,
    Platform,
    Proxy,
    Registry,
    Service,
    Wallet,
)
from scn_node.hub.rewrites import RESPONSE_URL, replace_member, replace_query_parameter
from scn_node.hub.router import LocalParty, RemoteParty, find, local_platform
from scn_node.hub.rules import PartyRules
from scn_node.hub.signing import (
    LINK_PATH,
    LOCATION_PATH,
    TO_COUNTRY_CODE_PATH,
    TO_PARTY_ID_PATH,
    Signatures,
    body_path,
    params_path,
)
from scn_node.scpi.authorization import authorization
from scn_node.scpi.envelope import decode
from scn_node.scpi.errors import (
    ConnectionProblem,
    InvalidParameters,
    ReceiverModuleMissing,
    ReceiverTimeout,
    ResourceNotFound,
    ScpiError,
    SenderNotAllowed,
)
from scn_node.scpi.headers import (
    CORRELATION_ID,
    OCN_PARTY_SIGNATURE,
    PARTY_SIGNATURE,
    REQUEST_ID,
    RoutingHeaders,
    routing_pair,
)
from scn_node.scpi.notary import Notary
from scn_node.scpi.pagination import link_header, next_link
from scn_node.scpi.party import InvalidPartyId, PartyId
from scn_node.scpi.versions import InterfaceRole, proxy_path

Route = LocalParty | RemoteParty
log = logging.getLogger(__name__)
MAX_COPIES = 256  # service copies in flight at once
DROP_LOG_SECONDS = 10.0  # dropped copies are reported at most this often

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
        wallet: Wallet,
        signatures: bool = False,
        services: bool = True,
        replays: ReplayGuard | None = None,
        new_request_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        new_proxy_uid: Callable[[], str] = lambda: secrets.token_urlsafe(18),
    ) -> None:
        self.directory = directory
        self.registry = registry
        self.transport = transport
        self.node_url = node_url
        self.wallet = wallet
        self.node_address = wallet.address
        self.replays = replays or ReplayGuard()  # in memory only, unless given a store
        self.signing = Signatures(wallet, registry, required=signatures)
        self.services = services
        self._copies: set[asyncio.Task[None]] = set()
        self._dropped, self._dropped_logged_at = 0, float("-inf")
        self.new_request_id = new_request_id
        self.new_proxy_uid = new_proxy_uid

    async def forward(self, request: ScpiRequest, caller: Caller) -> ScpiReply:
        rules = rules_for(request.module, request.interface, custom=request.custom)
        self._check_sender(request.headers, caller)
        self._check_request(request, rules)
        route = await find(
            self.directory, self.registry, request.headers.receiver, self.node_address
        )
        receiver_rules = route.platform.rules if isinstance(route, LocalParty) else None
        notary = await self._admit(request, receiver_rules)
        request = await self._hide_response_url(request, rules, notary)
        if not request.custom:
            self._copy_to_services(request)
        response, url = await self._deliver(route, request)
        return await self._relay(response, request, url, caller.platform.rules.signatures)

    async def forward_proxied(
        self, uid: str, method: str, headers: RoutingHeaders, body: bytes, caller: Caller
    ) -> ScpiReply:
        """A call to a node URL that stands for another URL (a page, a CDR, a response_url).

        The URL behind it is called as stored: a query on the node URL is not passed on.
        """
        self._check_sender(headers, caller)
        proxy = await self._proxy(uid, headers)
        request = ScpiRequest(method, proxy.module, proxy.interface, headers, body=body)
        self._check_request(request, rules_for(proxy.module, proxy.interface, custom=False))
        route = await find(self.directory, self.registry, proxy.target, self.node_address)
        wants_signed = caller.platform.rules.signatures
        if isinstance(route, RemoteParty):
            await self.signing.check_request(request)
            self._copy_to_services(request)
            message = NodeMessage.carrying(request, proxy=_peer_proxy_uid(proxy, route))
            response = await self._to_peer(route, message)
            return await self._relay(response, request, proxy.url, wants_signed)
        return await self._to_proxy(route.platform, request, proxy, wants_signed, copies=True)

    async def receive(self, raw: bytes, signature: str | None) -> ScpiReply:
        """A message from a peer node for a party on this node (POST /scn/message)."""
        message = NodeMessage.decode(raw)
        await check_node_signature(
            self.wallet, self.registry, raw, signature, message.headers.sender
        )
        await self.replays.admit(message.id, message.timestamp)
        platform = await local_platform(self.directory, message.headers.receiver, self.node_url)
        if message.proxy is not None:
            proxy = await self._proxy(message.proxy, message.headers)
            request = ScpiRequest(
                message.method, proxy.module, proxy.interface, message.headers, body=message.body
            )
            self._check_request(request, rules_for(proxy.module, proxy.interface, custom=False))
            return await self._to_proxy(platform, request, proxy)
        request = message.request()
        rules = rules_for(request.module, request.interface, custom=request.custom)
        self._check_request(request, rules)
        notary = await self._admit(request, platform.rules)
        request = await self._hide_response_url(request, rules, notary)
        response, url = await self._deliver(LocalParty(platform), request)
        return await self._relay(response, request, url)

    async def _deliver(self, route: Route, request: ScpiRequest) -> tuple[PartyResponse, str]:
        """Send to the party's endpoint here, or to the node it is on. Also returns the URL its
        Link and Location resolve against."""
        if isinstance(route, RemoteParty):
            return await self._to_peer(route, NodeMessage.carrying(request)), route.node_url
        url = await self._endpoint(route.platform, request)
        return await self._send(route.platform, request, url), url

    async def _to_proxy(
        self,
        platform: Platform,
        request: ScpiRequest,
        proxy: Proxy,
        wants_signed: bool = False,
        *,
        copies: bool = False,
    ) -> ScpiReply:
        """Call the party URL behind one of this node's proxies, for a party on this node.
        Its rules apply as to any request: a party that blocks a sender blocks its old URLs too."""
        headers = request.headers
        platform.rules.check(headers.sender, proxy.module, headers.receiver)
        await self.signing.check_request(request, receiver_requires=platform.rules.signatures)
        if copies:  # the sender is on this node
            self._copy_to_services(request)
        response = await self._send(platform, request, proxy.url)
        return await self._relay(response, request, proxy.url, wants_signed)

    async def _to_peer(self, route: RemoteParty, message: NodeMessage) -> PartyResponse:
        raw = message.encode()
        headers = {
            SIGNATURE_HEADER: self.wallet.sign(raw),
            "Content-Type": "application/json",
            REQUEST_ID: self.new_request_id(),
            CORRELATION_ID: message.headers.correlation_id,
        }
        request = OutboundRequest("POST", route.node_url + MESSAGE_PATH, headers, raw)
        receiver = message.headers.receiver
        try:
            response = await self.transport.send(request)
        except (ReceiverTimeout, ConnectionProblem) as error:
            raise type(error)(
                f"The node {route.node_url} of receiver {receiver} {error.message}"
            ) from None
        check_answer_signature(
            self.wallet,
            raw,
            response.status,
            response.headers,
            response.body,
            node_url=route.node_url,
            operator=route.operator,
        )
        return response

    async def _proxy(self, uid: str, headers: RoutingHeaders) -> Proxy:
        proxy = await self.directory.proxy(uid)
        if proxy is None or (proxy.caller, proxy.target) != (headers.sender, headers.receiver):
            raise ResourceNotFound(
                f"No proxied resource {uid} from {headers.sender} to {headers.receiver}"
            )
        return proxy

    async def _endpoint(self, platform: Platform, request: ScpiRequest) -> str:
        url = await self.directory.endpoint(platform.id, request.module, request.interface)
        if url is None:
            raise ReceiverModuleMissing(
                f"Receiver {request.headers.receiver} has no {request.module} "
                f"{request.interface} endpoint"
            )
        return url.rstrip("/") + request.tail

    def _check_sender(self, headers: RoutingHeaders, caller: Caller) -> None:
        if not caller.platform.has_party(headers.sender):
            raise SenderNotAllowed(
                f"SCPI-from-* names {headers.sender}, which is not one of your roles"
            )

    def _check_request(self, request: ScpiRequest, rules: ModuleRules) -> None:
        segments = [unquote(s) for s in request.tail.split("/")]
        if any(s in (".", "..") for s in segments):
            # The receiver (or the HTTP client) would resolve them: a path out of the endpoint.
            raise InvalidParameters("The path may not contain '.' or '..' segments")
        if rules.owner_in_path:
            owner = _owner_in_path(request.tail)
            if owner is not None and owner != request.headers.sender:
                raise SenderNotAllowed(
                    f"The URL names {owner} as the object's owner, "
                    f"but SCPI-from-* is {request.headers.sender}"
                )
        if rules.json_body and request.body.strip():
            decode(request.body)

    async def _admit(self, request: ScpiRequest, receiver: PartyRules | None) -> Notary | None:
        """The receiver's rules (when it is on this node) and the signature policy."""
        if receiver is not None:
            headers = request.headers
            receiver.check(headers.sender, request.module, headers.receiver)
        return await self.signing.check_request(
            request, receiver_requires=receiver is not None and receiver.signatures
        )

    async def _hide_response_url(
        self, request: ScpiRequest, rules: ModuleRules, notary: Notary | None
    ) -> ScpiRequest:
        """Give the receiver a node URL for the asynchronous result, remembering the real one.

        The mapping is saved before the request goes out: receivers may post the result
        before they answer the request itself.
        """
        where = rules.response_url.get(request.method)
        if where is None:
            return request
        uid = self.new_proxy_uid()
        proxy_url = self.node_url + proxy_path("scpi", uid)
        body, query = request.body, request.query
        if where is Where.BODY:
            body, original = replace_member(body, RESPONSE_URL, proxy_url)
            path = body_path(RESPONSE_URL)
        else:
            query, original = replace_query_parameter(query, RESPONSE_URL, proxy_url)
            path = params_path(RESPONSE_URL)
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
        hidden = replace(request, query=query, body=body)
        if notary is None:
            return hidden
        return self.signing.resign_request(hidden, notary, {path: original})

    async def _send(self, platform: Platform, request: ScpiRequest, url: str) -> PartyResponse:
        headers = request.headers
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
            # Name the hop: behind a peer node, the sender must learn it was the party, not it.
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

    async def _relay(
        self,
        response: PartyResponse,
        request: ScpiRequest,
        url: str,
        wants_signed: bool = False,
    ) -> ScpiReply:
        """The receiver's answer, with node URLs for its Link and Location, re-signed if it
        was signed. `wants_signed`: the sender asks for signed answers (its rules)."""
        headers = request.headers
        notary = await self.signing.check_response(
            response.body, response.headers, headers.receiver, sender_requires=wants_signed
        )
        reply = {
            name: response.headers[key] for key, name in _RELAYED.items() if key in response.headers
        }
        rewritten: dict[str, object] = {}
        next_page = next_link(response.headers.get("link"))
        if next_page is not None:
            target = _target(url, next_page, "Link", headers.receiver)
            if target is not None:
                reply["Link"] = link_header(await self._proxy_for(request, target))
            rewritten[LINK_PATH] = response.headers["link"]
        location = response.headers.get("location")
        if location:
            target = _target(url, location, "Location", headers.receiver)
            if target is not None:
                reply["Location"] = await self._proxy_for(request, target)
            rewritten[LOCATION_PATH] = location
        body = response.body
        if notary is not None and rewritten:
            signed_headers = {k.lower(): v for k, v in reply.items()}
            body = self.signing.resign_response(body, signed_headers, notary, rewritten)
        reply[REQUEST_ID] = headers.request_id
        reply[CORRELATION_ID] = headers.correlation_id
        reply.update(routing_pair(headers.receiver, headers.sender))
        return ScpiReply(response.status, body, reply)

    # ---------------------------------------------------------------- service copies

    def _copy_to_services(self, request: ScpiRequest) -> None:
        """Send a copy to each service the sender agreed to, after (never before or in the
        way of) the original. Copies wait for nobody: over MAX_COPIES in flight, they are
        dropped (and logged) rather than queued behind slow services."""
        if not self.services or self.registry.known_services(request.headers.sender) == ():
            return  # the common case: no task for a sender known to have no services
        if len(self._copies) >= MAX_COPIES:
            self._dropped += 1
            now = time.monotonic()
            if now - self._dropped_logged_at >= DROP_LOG_SECONDS:  # one line, not a flood
                log.warning(
                    "service copies dropped: %d requests' copies since the last report "
                    "(the latest %s), %d copies in flight",
                    self._dropped, request.headers.request_id, len(self._copies),
                )  # fmt: skip
                self._dropped, self._dropped_logged_at = 0, now
            return
        task = asyncio.get_running_loop().create_task(self._copies_of(request))
        self._copies.add(task)
        task.add_done_callback(self._copies.discard)

    async def _copies_of(self, request: ScpiRequest) -> None:
        headers = request.headers
        try:
            services = await self.registry.services_of(headers.sender)
        except ScpiError as error:
            log.warning("copies of %s to services not sent: %s", headers.request_id, error)
            return
        wanted = [
            service
            for service in services
            if service.party not in (headers.sender, headers.receiver)
            and service.wants(request.module, request.interface)
        ]
        await asyncio.gather(*(self._copy(request, service) for service in wanted))

    async def _copy(self, request: ScpiRequest, service: Service) -> None:
        """One copy; whatever goes wrong with it is logged and touches no other copy."""
        headers = request.headers
        try:
            # Read now, not from a cache: a revoked agreement stops copies at once.
            if not await self.registry.agrees(headers.sender, service.provider):
                log.info(
                    "no copy of %s to service %s: %s has no standing agreement with it",
                    headers.request_id, service.party, headers.sender,
                )  # fmt: skip
                return
            copy = replace(
                request,
                headers=replace(headers, receiver=service.party, request_id=self.new_request_id()),
            )
            if headers.signature is not None:
                copy = self.signing.resign_request(
                    copy,
                    Notary.decode(headers.signature),
                    {
                        TO_COUNTRY_CODE_PATH: headers.receiver.country_code,
                        TO_PARTY_ID_PATH: headers.receiver.party_id,
                    },
                )
            route = await find(self.directory, self.registry, service.party, self.node_address)
            if isinstance(route, LocalParty):  # a peer node applies its party's rules itself
                route.platform.rules.check(headers.sender, copy.module, service.party)
            response, _ = await self._deliver(route, copy)
        except ScpiError as error:
            log.warning(
                "copy of %s to service %s failed: %s", headers.request_id, service.party, error
            )
            return
        except Exception:  # a copy must never take the node down with it
            log.exception("copy of %s to service %s failed", headers.request_id, service.party)
            return
        log.info(
            "copied %s to service %s (HTTP %d)", headers.request_id, service.party, response.status
        )

    async def close(self) -> None:
        """Let the copies in flight finish (briefly), then cancel the rest."""
        if self._copies:
            _, pending = await asyncio.wait(set(self._copies), timeout=2.0)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

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


def _target(base: str, reference: str, header: str, receiver: PartyId) -> str | None:
    """The http(s) URL a receiver's Link or Location names, or None (logged): the node gives
    a proxy URL to nothing else, and the sender gets the answer without that header."""
    try:
        target = urljoin(base, reference)
        parts = urlsplit(target)
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number or too big)
    except ValueError:
        log.warning("dropped the %s header of %s's answer: not a valid URL", header, receiver)
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        log.warning(
            "dropped the %s header of %s's answer: not an http(s) URL with a host", header, receiver
        )
        return None
    return target


def _owner_in_path(tail: str) -> PartyId | None:
    segments = [s for s in tail.split("/") if s]
    if len(segments) < 2:
        return None
    try:
        return PartyId.parse(unquote(segments[0]), unquote(segments[1]))
    except InvalidPartyId:
        raise InvalidParameters(
            f"The URL must name the object's owner as /{{country_code}}/{{party_id}}/…, "
            f"not /{segments[0]}/{segments[1]}"
        ) from None


def _peer_proxy_uid(proxy: Proxy, route: RemoteParty) -> str:
    """The peer's own proxy uid behind one of ours: our proxy stores the peer's proxy URL."""
    prefix = route.node_url + proxy_path("scpi", "")
    if not proxy.url.startswith(prefix):
        raise ResourceNotFound(
            f"The proxied resource belongs to a node that {proxy.target} no longer uses"
        )
    return proxy.url[len(prefix) :]
