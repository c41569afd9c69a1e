"""Broadcast push: a push TO the hub goes to every party that receives the module.

OCPI 2.2.1 "Broadcast Push" for locations, tariffs and tokens (the classifier, `scenario.py`,
lets nothing else through). What the spec leaves open is decided here:

* **Receivers**: every CONNECTED party here but the sender with the module's RECEIVER endpoint
  and a role opposite the sender's (`COUNTERPARTS`), whose rules let the sender through (and
  that gets a signed request if its rules ask for one). OFFLINE and SUSPENDED parties are
  skipped, not queued. A platform with several such parties gets one leg per party: a leg's
  TO names one party.
* **Legs**: FROM = the hub, TO = the receiver, its TOKEN_B, a new X-Request-ID, the same
  X-Correlation-ID; path tail (the owner stays in the URL), query and body byte for byte. A
  signed push is re-signed by the node, with the original from- and to-headers as rewrites.
* **Answer**: 200/1000 FROM the hub once the push is valid and its receivers are chosen; the
  legs then run in the background, bounded. A receiver's error is logged and counted, never
  relayed. Nobody to send to at all is 4003. With `SCN_BROADCAST_WAIT` the answer waits for
  every leg and says how many succeeded (4003 if none did).
* **Order**: legs run one after another per receiver and object (owner + object id), so two
  quick pushes of one object reach each receiver in the order they came.
* **Network**: the sender's node sends one signed node message to every other node, which
  sends legs to its own parties only: a broadcast never loops. A sender with no receiver on
  its own node still gets 1000 when there are other nodes (they may have receivers).
* **Kept**: every node a push reaches keeps the object (`StoredObjects`), in the same order.
* **Services**: the sender's services get one copy of the push as sent, never of the legs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from urllib.parse import unquote

from scn_node.hub.background import Background
from scn_node.hub.copies import ServiceCopies
from scn_node.hub.delivery import Delivery
from scn_node.hub.exchange import Exchange, FromParty, LocalParty
from scn_node.hub.in_order import InOrder
from scn_node.hub.message import ScpiReply, ScpiRequest
from scn_node.hub.model import ListedNode, PartyResponse, Platform
from scn_node.hub.modules import COUNTERPARTS
from scn_node.hub.peer import NodeMessage, PeerLink
from scn_node.hub.ports import Platforms, Registry
from scn_node.hub.rules import PartyRules
from scn_node.hub.signing import (
    FROM_COUNTRY_CODE_PATH,
    FROM_PARTY_ID_PATH,
    TO_COUNTRY_CODE_PATH,
    TO_PARTY_ID_PATH,
    Signatures,
)
from scn_node.hub.stored import StoredObjects
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.envelope import encode, envelope
from scn_node.scpi.errors import ConnectionProblem, InvalidParameters, ScpiError, SenderBlocked
from scn_node.scpi.headers import CORRELATION_ID, REQUEST_ID, routing_pair
from scn_node.scpi.notary import Notary
from scn_node.scpi.party import PartyId, Role
from scn_node.scpi.status import ScpiStatus
from scn_node.scpi.versions import InterfaceRole

log = logging.getLogger(__name__)
# Legs and node messages in flight (or waiting their turn) at once; over it, new ones are
# dropped and logged: a hub that queues behind slow receivers wedges itself.
MAX_LEGS = 2048

Learn = Callable[[Exchange], None]


@dataclass(frozen=True, slots=True)
class _Leg:
    platform: Platform
    party: PartyId
    url: str  # the party's endpoint and the push's path tail


class Broadcaster:
    def __init__(
        self,
        platforms: Platforms,
        registry: Registry,
        delivery: Delivery,
        signing: Signatures,
        peers: PeerLink,
        copies: ServiceCopies,
        stored: StoredObjects,
        *,
        node_address: str,
        wait: bool = False,
        learn: Learn | None = None,
        new_request_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        limit: int = MAX_LEGS,
    ) -> None:
        self.platforms = platforms
        self.registry = registry
        self.delivery = delivery
        self.signing = signing
        self.peers = peers
        self.copies = copies
        self.stored = stored
        self.node_address = node_address
        self.wait = wait  # SCN_BROADCAST_WAIT: answer once every leg has ended
        self.learn = learn  # open routing learns who owns what a push names
        self.new_request_id = new_request_id
        self.background = Background("broadcast legs", limit=limit)
        self._in_order = InOrder(self.background)
        # Since the start, for metrics (`background.dropped`: legs never started).
        self.legs_sent = self.legs_failed = 0
        self.messages_sent = self.messages_failed = 0

    async def push(self, exchange: Exchange) -> ScpiReply:
        """A party's push TO the hub here, or a peer node's (FromPeer): its legs to every
        receiver here and, from a party here, one message to every other node."""
        request, sender = exchange.request, exchange.headers.sender
        owner_rules = self._owner_rules(exchange)
        if request.method not in exchange.spec.broadcast:  # a peer's message, checked again
            raise InvalidParameters(f"{request.method} {request.module} is not broadcast")
        counterparts = _counterparts(sender, await self._roles(exchange))
        notary = await self.signing.check_request(request, exchange.spec, exchange.policy)
        legs = await self._legs(exchange, counterparts, signed=notary is not None)
        nodes = await self._other_nodes() if isinstance(exchange.origin, FromParty) else ()
        if not legs and not nodes:
            raise ConnectionProblem(f"No connected party receives {request.module}")
        self.copies.send(exchange)
        if self.learn is not None:
            self.learn(exchange)
        thing = _object(request)
        what = f"{exchange.headers.request_id} of {sender}"
        self._in_order.run(thing, lambda: self._keep(exchange, owner_rules), f"keeping {what}")
        to_parties = [
            self._in_order.run((leg.party, *thing), _job(self._leg, exchange, leg, notary), what)
            for leg in legs
        ]
        to_nodes = [
            self._in_order.run((node.url, *thing), _job(self._message, exchange, node), what)
            for node in nodes
        ]
        if not self.wait:
            return self._answer(exchange)
        parties_ok, nodes_ok = await _count(to_parties), await _count(to_nodes)
        counts = f"{parties_ok} of {len(legs)} receiving parties on this node"
        if nodes:
            counts += f"; {nodes_ok} of {len(nodes)} other nodes took it"
        if parties_ok + nodes_ok == 0:
            raise ConnectionProblem(f"No receiver took the push: {counts}")
        return self._answer(exchange, f"Delivered to {counts}")

    async def drain(self) -> None:
        await self.background.drain()

    async def close(self) -> None:
        await self.background.close()

    # ---------------------------------------------------------------- who receives it

    def _owner_rules(self, exchange: Exchange) -> PartyRules:
        caller = exchange.caller
        if caller is not None:
            return caller.platform.rules
        assert not isinstance(exchange.origin, FromParty)
        rules = self.peers.owner_rules(exchange.origin.message_id)
        if rules is None:
            raise InvalidParameters("A broadcast node message must carry its owner's rules")
        return rules

    async def _roles(self, exchange: Exchange) -> tuple[Role, ...]:
        """The roles the sender holds: its platform's, or (a peer's) the registry's."""
        sender, caller = exchange.headers.sender, exchange.caller
        if caller is not None:
            return tuple(r.role for r in caller.platform.roles if r.party == sender)
        listed = await self.registry.party(sender)
        return listed.roles if listed is not None else ()

    async def _legs(
        self, exchange: Exchange, counterparts: frozenset[Role], *, signed: bool
    ) -> list[_Leg]:
        request, sender = exchange.request, exchange.headers.sender
        legs: list[_Leg] = []
        for platform in await self.platforms.connected_platforms():
            parties = [r.party for r in platform.roles if r.role in counterparts]
            parties = [p for p in dict.fromkeys(parties) if p != sender]
            if not parties:
                continue
            url = await self.platforms.endpoint(platform.id, request.module, InterfaceRole.RECEIVER)
            if url is None:
                continue
            for party in parties:
                try:
                    platform.rules.check(sender, request.module, party)
                except SenderBlocked:
                    continue  # as a HubClientInfo push: the rules decide who hears of whom
                if platform.rules.signatures and not signed:
                    log.info("broadcast of %s not sent to %s: it wants signed requests",
                             exchange.headers.request_id, party)  # fmt: skip
                    continue
                legs.append(_Leg(platform, party, url.rstrip("/") + request.tail))
        return legs

    async def _other_nodes(self) -> tuple[ListedNode, ...]:
        try:
            nodes = await self.registry.nodes()
        except ScpiError as error:
            log.warning("broadcast not sent to other nodes: %s", error.message)
            return ()
        mine = self.node_address.lower()
        return tuple(node for node in nodes if node.operator.lower() != mine and node.url)

    # ---------------------------------------------------------------- the legs

    async def _leg(self, exchange: Exchange, leg: _Leg, notary: Notary | None) -> bool:
        """One leg; whatever goes wrong with it is logged and touches no other leg."""
        request_id = exchange.headers.request_id
        try:
            request = self._addressed(exchange, leg.party, notary)
            # The endpoint was read when the receivers were chosen: no second lookup.
            target = LocalParty(leg.platform, leg.url)
            delivered = await self.delivery.deliver(request, exchange.spec.family, target)
        except ScpiError as error:
            self.legs_failed += 1
            log.warning("broadcast %s to %s failed: %s", request_id, leg.party, error.message)
            return False
        except Exception:  # a leg must never take the node down with it
            self.legs_failed += 1
            log.exception("broadcast %s to %s failed", request_id, leg.party)
            return False
        return self._counted(delivered.response, f"{request_id} to {leg.party}", node=False)

    def _addressed(self, exchange: Exchange, party: PartyId, notary: Notary | None) -> ScpiRequest:
        """The push from the hub to `party`, re-signed over the new routing headers when it was
        signed (the originals kept as rewrites)."""
        request, headers = exchange.request, exchange.headers
        leg = replace(
            request,
            headers=replace(
                headers, sender=NODE_PARTY, receiver=party, request_id=self.new_request_id()
            ),
        )
        if notary is None:
            return leg
        rewritten = {
            FROM_COUNTRY_CODE_PATH: headers.sender.country_code,
            FROM_PARTY_ID_PATH: headers.sender.party_id,
            TO_COUNTRY_CODE_PATH: headers.receiver.country_code,
            TO_PARTY_ID_PATH: headers.receiver.party_id,
        }
        return self.signing.resign_request(leg, exchange.spec, notary, rewritten)

    async def _message(self, exchange: Exchange, node: ListedNode) -> bool:
        """The push to another node, which sends it to its own parties."""
        assert exchange.caller is not None  # only a party's push here goes to other nodes
        message = NodeMessage(
            exchange.request, exchange.spec.family, owner_rules=exchange.caller.platform.rules
        )
        request_id = exchange.headers.request_id
        try:
            response = await self.peers.send(node.url, node.operator, message)
        except ScpiError as error:
            self.messages_failed += 1
            log.warning("broadcast %s to the node %s failed: %s", request_id, node.url,
                        error.message)  # fmt: skip
            return False
        return self._counted(response, f"{request_id} to the node {node.url}", node=True)

    def _counted(self, response: PartyResponse, what: str, *, node: bool) -> bool:
        status = _status_code(response)
        succeeded = 200 <= response.status < 300 and status is not None and 1000 <= status < 2000
        if node:
            self.messages_sent += succeeded
            self.messages_failed += not succeeded
        else:
            self.legs_sent += succeeded
            self.legs_failed += not succeeded
        if not succeeded:
            log.warning("broadcast %s answered HTTP %d, status_code %s", what, response.status,
                        status)  # fmt: skip
        return succeeded

    async def _keep(self, exchange: Exchange, owner_rules: PartyRules) -> bool:
        try:
            await self.stored.keep(exchange, owner_rules)
        except Exception:  # the legs go out whatever becomes of the copy kept here
            log.exception("broadcast %s not kept", exchange.headers.request_id)
            return False
        return True

    # ---------------------------------------------------------------- the answer

    def _answer(self, exchange: Exchange, message: str | None = None) -> ScpiReply:
        """The hub's own 1000, FROM the hub TO the sender; signed when signatures are in play."""
        headers = exchange.headers
        body = envelope(status=ScpiStatus.SUCCESS, message=message)
        if exchange.policy.signs_errors(headers.signature is not None):
            body["scn_signature"] = self.signing.sign_envelope(body)
        reply = {
            "Content-Type": "application/json",
            REQUEST_ID: headers.request_id,
            CORRELATION_ID: headers.correlation_id,
            **routing_pair(NODE_PARTY, headers.sender),
        }
        return ScpiReply(200, encode(body), reply, int(ScpiStatus.SUCCESS))


def _counterparts(sender: PartyId, roles: tuple[Role, ...]) -> frozenset[Role]:
    """Who receives a push from a party in `roles` (a party in several: any of theirs)."""
    found: set[Role] = set()
    for role in roles:
        found |= COUNTERPARTS.get(role, frozenset())
    if not found:
        named = ", ".join(sorted(roles)) or "no role"
        raise InvalidParameters(
            f"{sender} holds {named}: only a CPO's, an eMSP's, an NSP's or an OTHER party's "
            "pushes are broadcast (the spec names no receivers for other roles)"
        )
    return frozenset(found)


def _object(request: ScpiRequest) -> tuple[str, ...]:
    """The pushed object: the module, and owner and object id (the tail's first three
    segments), whatever part of it the push changes."""
    segments = [unquote(s) for s in request.tail.split("/") if s][:3]
    return (request.module, *segments)


def _job(work: Callable[..., Awaitable[bool]], *args: object) -> Callable[[], Awaitable[bool]]:
    return lambda: work(*args)


async def _count(results: list[asyncio.Future[bool] | None]) -> int:
    """How many of the jobs succeeded (a dropped one did not)."""
    return sum(await asyncio.gather(*(r for r in results if r is not None)))


def _status_code(response: PartyResponse) -> int | None:
    try:
        status = json.loads(response.body).get("status_code")
    except (ValueError, AttributeError):
        return None
    return status if isinstance(status, int) and not isinstance(status, bool) else None
