"""The one forward path for every functional and custom module, on this node and across nodes.

Each entry point only builds an `Exchange`: `route` (a party's request to a module URL),
`route_proxied` (a party's call to one of this node's proxy URLs) and `receive` (a peer node's
message). `handle` then runs the same pipeline for all of them:

    admit     the sender, the proxy it called, the request's shape
    scenario  a broadcast or a GET All is answered by its own service (`broadcast`,
              `get_all`), whose legs come back through `deliver`; an open request is
              addressed to the party the hub finds (`open_routing`) and goes on
    address   the receiver: a party here, or on the node it is on
    admit at  the receiver's rules, and the signature policy
    hide      the response_url a receiver could not call, behind a node URL
    copies    to the services the sender agreed to
    deliver   to the party here, or signed to the node it is on
    relay     the answer, with node URLs for its Link and Location, re-signed if signed

Every node a message crosses puts its own URLs in, so a party only ever calls its own node, and
a node only ever calls its own parties' URLs. Errors become the node's own answers here, signed
when the policy says so: the web adapter renders nothing for a routed request.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import unquote

from scn_node.hub.broadcast import Broadcaster
from scn_node.hub.copies import ServiceCopies
from scn_node.hub.delivery import Delivered, Delivery
from scn_node.hub.exchange import Exchange, FromParty, LocalParty, RemoteParty, Target
from scn_node.hub.get_all import GetAllPages
from scn_node.hub.message import ScpiReply, ScpiRequest
from scn_node.hub.modules import Family, spec_for
from scn_node.hub.open_routing import UNKNOWN, OpenRouting
from scn_node.hub.peer import PeerLink, ReplayGuard
from scn_node.hub.ports import (
    Caller,
    HubObjects,
    Liveness,
    Platforms,
    Proxies,
    Registry,
    RouteKeys,
    Transport,
    Wallet,
)
from scn_node.hub.proxies import ProxyBook, target_of
from scn_node.hub.router import Router
from scn_node.hub.scenario import Scenario, classify
from scn_node.hub.signing import LINK_PATH, LOCATION_PATH, SignaturePolicy, Signatures
from scn_node.hub.stored import StoredObjects
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.envelope import decode, error_envelope
from scn_node.scpi.errors import (
    Codes,
    InvalidParameters,
    ScpiError,
    SenderBlocked,
    SenderNotAllowed,
    UnknownReceiver,
)
from scn_node.scpi.headers import (
    ANSWER_HEADER_NAMES,
    CORRELATION_ID,
    REQUEST_ID,
    Routing,
    RoutingHeaders,
    Unaddressed,
    routing_pair,
)
from scn_node.scpi.notary import Notary
from scn_node.scpi.pagination import link_header, next_link
from scn_node.scpi.party import InvalidPartyId, PartyId
from scn_node.scpi.versions import InterfaceRole

_REWRITTEN = ("link", "location")


class _Unheard:
    def routed(self, caller: Caller | None, sender: PartyId, receiver: PartyId) -> None:
        pass


class Forwarder:
    def __init__(
        self,
        platforms: Platforms,
        proxies: Proxies,
        registry: Registry,
        transport: Transport,
        *,
        node_url: str,
        wallet: Wallet,
        signatures: bool = False,
        services: bool = True,
        replays: ReplayGuard | None = None,
        peers: PeerLink | None = None,
        liveness: Liveness | None = None,
        objects: HubObjects | None = None,
        broadcast_wait: bool = False,
        route_keys: RouteKeys | None = None,
        new_request_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        new_proxy_uid: Callable[[], str] = lambda: secrets.token_urlsafe(18),
    ) -> None:
        self.node_url = node_url
        self.wallet = wallet
        self.signatures_required = signatures
        self.liveness: Liveness = liveness or _Unheard()
        self.signing = Signatures(wallet, registry)
        self.peers = peers or PeerLink(
            wallet, registry, transport, replays=replays, new_request_id=new_request_id
        )
        self.router = Router(platforms, registry, node_url=node_url, node_address=wallet.address)
        self.proxies = ProxyBook(proxies, self.signing, node_url=node_url, new_uid=new_proxy_uid)
        self.delivery = Delivery(
            platforms, transport, self.peers, node_url=node_url, new_request_id=new_request_id
        )
        self.copies = ServiceCopies(
            registry,
            self.signing,
            address=self.router.find,
            deliver=self._deliver,
            enabled=services,
            new_request_id=new_request_id,
        )
        # The hub's own scenarios (`hub/scenario.py`), each its own service over the above.
        self.stored = StoredObjects(objects, registry, self.signing, node_url=node_url)
        self.open_routing = OpenRouting(
            platforms, registry, self.signing, node_address=wallet.address, keys=route_keys
        )
        self.broadcasts = Broadcaster(
            platforms,
            registry,
            self.delivery,
            self.signing,
            self.peers,
            self.copies,
            self.stored,
            node_address=wallet.address,
            wait=broadcast_wait,
            learn=self.open_routing.learn,
            new_request_id=new_request_id,
        )
        self.get_all = GetAllPages(
            platforms, registry, self.router, self.delivery, self.signing, self.proxies,
            copies=self.copies, stored=self.stored, node_address=wallet.address,
            learn=self.open_routing.learn,
        )  # fmt: skip

    # ---------------------------------------------------------------- entry points

    async def route(
        self,
        caller: Caller,
        routing: Routing,
        method: str,
        module: str,
        interface: InterfaceRole,
        family: Family = Family.STANDARD,
        *,
        tail: str = "",
        query: str = "",
        body: bytes = b"",
    ) -> ScpiReply:
        """A party's request to a module URL of this node."""

        def exchange(headers: RoutingHeaders | Unaddressed, policy: SignaturePolicy) -> Exchange:
            spec = spec_for(module, interface, family)
            if isinstance(headers, Unaddressed):
                scenario = classify(None, method, module, interface, spec, tail)
                headers = headers.to(NODE_PARTY)  # until open routing finds the receiver
            else:
                scenario = classify(headers.receiver, method, module, interface, spec, tail)
            request = ScpiRequest(method, module, interface, headers, tail, query, body)
            return Exchange(request, FromParty(caller), spec, policy, scenario=scenario)

        return await self._from_party(caller, routing, exchange, _codes(family))

    async def route_proxied(
        self, caller: Caller, routing: Routing, uid: str, method: str, body: bytes
    ) -> ScpiReply:
        """A party's call to one of this node's proxy URLs."""

        def exchange(headers: RoutingHeaders | Unaddressed, policy: SignaturePolicy) -> Exchange:
            if isinstance(headers, Unaddressed):  # a proxy URL stands for one party's URL
                routing.require()
                raise AssertionError("unreachable: an unaddressed request has a problem")
            request = ScpiRequest(method, "", InterfaceRole.SENDER, headers, body=body)
            return Exchange.via_proxy(FromParty(caller), request, policy, uid)

        # A proxy URL stands for a standard module's page, Location or response_url.
        return await self._from_party(caller, routing, exchange, Codes.STANDARD)

    async def _from_party(
        self,
        caller: Caller,
        routing: Routing,
        exchange: Callable[[RoutingHeaders | Unaddressed, SignaturePolicy], Exchange],
        codes: Codes,
    ) -> ScpiReply:
        """Build the exchange and run it; a refusal is the node's own answer, signed when
        signatures are in play. An answered request shows both parties are alive."""
        policy = SignaturePolicy(self.signatures_required, caller.platform.rules.signatures)
        try:
            headers = routing.require_any()
            reply = await self.handle(exchange(headers, policy))
        except ScpiError as error:
            return self.refusal(error, codes, routing, policy.signs_errors(routing.signed))
        receiver = headers.receiver if isinstance(headers, RoutingHeaders) else NODE_PARTY
        # The hub answered a broadcast, a GET All or an open request itself: only the sender
        # is known to be alive.
        self.liveness.routed(
            caller, headers.sender, headers.sender if receiver == NODE_PARTY else receiver
        )
        return reply

    async def receive(self, raw: bytes, signature: str | None) -> ScpiReply:
        """A peer node's message (POST /scn/message); every answer, errors too, node-signed."""
        try:
            message = await self.peers.accept(raw, signature)
        except ScpiError as error:  # the node-to-node protocol's own refusal
            return self.peers.answer(raw, self.refusal(error, Codes.SCN))
        try:
            exchange = Exchange.from_peer(message, SignaturePolicy(node=self.signatures_required))
            reply = await self.handle(exchange)
        except ScpiError as error:
            # Relayed to the sender as its request's answer: the codes of the module's route.
            reply = self.refusal(error, _codes(message.family))
        else:
            if message.headers.receiver != NODE_PARTY:  # a broadcast is answered by the hub
                self.liveness.routed(None, message.headers.sender, message.headers.receiver)
        return self.peers.answer(raw, reply)

    async def drain(self) -> None:
        """Wait for the background work: service copies, broadcast legs, what open routing
        learns (tests: instead of polling)."""
        await self.copies.drain()
        await self.broadcasts.drain()
        await self.open_routing.drain()

    async def close(self) -> None:
        await self.copies.close()
        await self.broadcasts.close()
        await self.open_routing.close()

    # ---------------------------------------------------------------- the pipeline

    async def handle(self, exchange: Exchange) -> ScpiReply:
        exchange = await self._admit(exchange)
        if exchange.scenario is Scenario.BROADCAST:
            return await self.broadcasts.push(exchange)
        if exchange.scenario is Scenario.GET_ALL:
            return await self.get_all.page(exchange)
        if exchange.scenario is Scenario.OPEN:
            exchange = await self.open_routing.address(exchange)
        target = await self.router.target(exchange)
        target = self._through_proxy(exchange, target)
        exchange, notary = await self._admit_at(exchange, target)
        if exchange.via is None:  # a stored URL is called as stored
            request = await self.proxies.hide_response_url(exchange.request, exchange.spec, notary)
            exchange = replace(exchange, request=request)
        self.copies.send(exchange)
        delivered = await self._deliver(exchange, target)
        self.open_routing.learn(exchange, delivered)
        return await self._relay(exchange, delivered)

    async def _admit(self, exchange: Exchange) -> Exchange:
        """The sender (a party here must hold the role it sends as; a peer's message was
        vouched for by its node), the proxy it called, and the request's shape."""
        headers = exchange.headers
        caller = exchange.caller
        if caller is not None and not caller.platform.has_party(headers.sender):
            raise SenderNotAllowed(
                f"SCPI-from-* names {headers.sender}, which is not one of your roles"
            )
        if exchange.via is not None:
            exchange = exchange.through(await self.proxies.resolve(exchange.via, headers))
        _check_shape(exchange)
        return exchange

    def _through_proxy(self, exchange: Exchange, target: Target) -> Target:
        proxy = exchange.proxy
        if proxy is None:
            return target
        if isinstance(target, LocalParty):
            return LocalParty(target.platform, proxy.url)
        uid = self.proxies.peer_uid(proxy, target.node_url)
        return RemoteParty(target.node_url, target.operator, uid, proxy.url)

    async def _admit_at(self, exchange: Exchange, target: Target) -> tuple[Exchange, Notary | None]:
        """The receiver's rules (when it is on this node) and the signature policy; the
        request's verified signature, if it has one."""
        if isinstance(target, LocalParty):
            rules, headers = target.platform.rules, exchange.headers
            try:
                rules.check(headers.sender, exchange.request.module, headers.receiver)
            except SenderBlocked:
                if exchange.opened:  # found by open routing on another node: as if unknown
                    raise UnknownReceiver(UNKNOWN) from None
                raise
            exchange = replace(exchange, policy=exchange.policy.with_receiver(rules.signatures))
        notary = await self.signing.check_request(exchange.request, exchange.spec, exchange.policy)
        return exchange, notary

    async def _deliver(self, exchange: Exchange, target: Target) -> Delivered:
        return await self.delivery.deliver(
            exchange.request, exchange.spec.family, target, opened=exchange.opened
        )

    async def _relay(self, exchange: Exchange, delivered: Delivered) -> ScpiReply:
        """The receiver's answer, with node URLs for its Link and Location, re-signed if it
        was signed."""
        response, request, headers = delivered.response, exchange.request, exchange.headers
        notary = await self.signing.check_response(
            response.body, response.headers, headers.receiver, exchange.policy
        )
        reply = {
            name: response.headers[key]
            for key, name in ANSWER_HEADER_NAMES.items()
            if key in response.headers and key not in _REWRITTEN
        }
        rewritten: dict[str, object] = {}
        next_page = next_link(response.headers.get("link"))
        if next_page is not None:
            target = target_of(delivered.url, next_page, "Link", headers.receiver)
            if target is not None:
                reply["Link"] = link_header(await self.proxies.proxy_for(request, target))
            rewritten[LINK_PATH] = response.headers["link"]
        location = response.headers.get("location")
        if location:
            target = target_of(delivered.url, location, "Location", headers.receiver)
            if target is not None:
                reply["Location"] = await self.proxies.proxy_for(request, target)
            rewritten[LOCATION_PATH] = location
        body = response.body
        if notary is not None and rewritten:
            signed_headers = {k.lower(): v for k, v in reply.items()}
            body = self.signing.resign_response(body, signed_headers, notary, rewritten)
        reply[REQUEST_ID] = headers.request_id
        reply[CORRELATION_ID] = headers.correlation_id
        reply.update(routing_pair(headers.receiver, headers.sender))
        return ScpiReply(response.status, body, reply)

    # ---------------------------------------------------------------- the node's own answers

    def refusal(
        self,
        error: ScpiError,
        codes: Codes,
        routing: Routing | None = None,
        signed: bool = False,
    ) -> ScpiReply:
        """The node's answer to a routed request it could not deliver: the error's envelope in
        the route's `codes`, with the node's scn_signature when `signed`, and the routing
        headers swapped."""
        sign = self.signing.sign_envelope if signed else None
        http_status, status, body = error_envelope(error, codes, sign)
        headers = {"Content-Type": "application/json"}
        if routing is not None and routing.headers is not None:
            headers.update(_ids(routing.headers))
        if routing is not None and routing.sender is not None and routing.receiver is not None:
            headers.update(routing_pair(routing.receiver, routing.sender))
        elif routing is not None and routing.unaddressed is not None:
            headers.update(routing_pair(NODE_PARTY, routing.unaddressed.sender))  # the hub's answer
        return ScpiReply(http_status, body, headers, int(status))


def _codes(family: Family) -> Codes:
    """Standard modules answer with OCPI's codes only; custom modules are SCN's own."""
    return Codes.STANDARD if family is Family.STANDARD else Codes.SCN


def _ids(headers: RoutingHeaders) -> dict[str, str]:
    return {REQUEST_ID: headers.request_id, CORRELATION_ID: headers.correlation_id}


def _check_shape(exchange: Exchange) -> None:
    request, spec = exchange.request, exchange.spec
    segments = [unquote(s) for s in request.tail.split("/")]
    if any(s in (".", "..") for s in segments):
        # The receiver (or the HTTP client) would resolve them: a path out of the endpoint.
        raise InvalidParameters("The path may not contain '.' or '..' segments")
    if spec.owner_in_path:
        owner = _owner_in_path(request.tail)
        if owner is not None and owner != request.headers.sender:
            raise SenderNotAllowed(
                f"The URL names {owner} as the object's owner, "
                f"but SCPI-from-* is {request.headers.sender}"
            )
    if spec.json_body and request.body.strip():
        decode(request.body)


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
