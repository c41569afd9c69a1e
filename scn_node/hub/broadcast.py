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
* **Kept**: every node a push reaches keeps the object (`StoredObjects`), in the same order,
  even when none of its parties receives it (a 4003): a party that connects later gets it
  from GET All.
* **Services**: the sender's services get one copy of the push as sent, never of the legs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from urllib.parse import unquote

from scn_node.hub.background import Background
from scn_node.hub.broadcast_receivers import Leg, Receivers
from scn_node.hub.copies import ServiceCopies
from scn_node.hub.delivery import Delivery
from scn_node.hub.exchange import Exchange, FromParty, LocalParty
from scn_node.hub.in_order import InOrder
from scn_node.hub.message import ScpiReply, ScpiRequest
from scn_node.hub.model import ListedNode, PartyResponse
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
from scn_node.scpi.errors import ConnectionProblem, InvalidParameters, ScpiError
from scn_node.scpi.headers import CORRELATION_ID, REQUEST_ID, routing_pair
from scn_node.scpi.notary import Notary
from scn_node.scpi.party import PartyId
from scn_node.scpi.status import ScpiStatus

log = logging.getLogger(__name__)
# Legs and node messages in flight (or waiting their turn) at once; over it, new ones are
# dropped and logged: a hub that queues behind slow receivers wedges itself.
MAX_LEGS = 2048

Learn = Callable[[Exchange], None]


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
        self.receivers = Receivers(platforms, registry, node_address=node_address)
        self.delivery = delivery
        self.signing = signing
        self.peers = peers
        self.copies = copies
        self.stored = stored
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
        counterparts = await self.receivers.counterparts(exchange)
        notary = await self.signing.check_request(request, exchange.spec, exchange.policy)
        legs = await self.receivers.parties(exchange, counterparts, signed=notary is not None)
        from_here = isinstance(exchange.origin, FromParty)
        nodes = await self.receivers.other_nodes() if from_here else ()
        # A valid push is copied, learnt from and kept even when nobody here receives it:
        # a party that connects later gets it from GET All.
        self.copies.send(exchange)
        if self.learn is not None:
            self.learn(exchange)
        thing = _object(request)
        what = f"{exchange.headers.request_id} of {sender}"
        self._in_order.run(thing, lambda: self._keep(exchange, owner_rules), f"keeping {what}")
        if not legs and not nodes:
            raise ConnectionProblem(f"No connected party receives {request.module}")
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

    def _owner_rules(self, exchange: Exchange) -> PartyRules:
        """The sender's own rules: its platform's, or those its node sent with the message."""
        caller = exchange.caller
        if caller is not None:
            return caller.platform.rules
        assert not isinstance(exchange.origin, FromParty)
        rules = exchange.origin.owner_rules
        if rules is None:
            raise InvalidParameters("A broadcast node message must carry its owner's rules")
        return rules

    # ---------------------------------------------------------------- the legs

    async def _leg(self, exchange: Exchange, leg: Leg, notary: Notary | None) -> bool:
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
    except (ValueError, AttributeError, RecursionError):  # not an envelope: not a success
        return None
    return status if isinstance(status, int) and not isinstance(status, bool) else None
