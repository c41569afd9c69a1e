"""The node-to-node protocol, all of it: the message, both signatures, the replay guard, sending,
accepting, answering, and ClientInfo between nodes.

* `POST /scn/message` carries a `NodeMessage` (one routed request) as JSON. The sending node
  signs the exact bytes with its wallet (EIP-191) in `SCN-Signature` (`NODE_SIGNATURE`). A
  broadcast (receiver: the hub) also carries the sender's own rules (`owner_rules`): every
  node it reaches keeps the object for GET All, and the owner's rules say who may read it.
* The receiving node trusts a message only if the signer is the registry operator of the node
  the sender party is listed with, the timestamp is recent, and the id was never delivered.
* Every answer, errors included, is signed by the answering node over the message's hash, the
  HTTP status, the answer headers the sender acts on, and the body (`answer_to_sign`).
* `PUT /scn/client-info` carries a ClientInfo about one of the sending node's parties, signed
  the same way; the signer must operate the node the registry lists that party with.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from scn_node.hub.message import ScpiReply, ScpiRequest
from scn_node.hub.modules import Family
from scn_node.hub.ports import (
    OutboundRequest,
    PartyResponse,
    Registry,
    SeenMessages,
    Transport,
    Wallet,
)
from scn_node.hub.rules import ListKind, PartyRules, RuleEntry, parse_entries
from scn_node.scpi.envelope import decode, timestamp
from scn_node.scpi.errors import (
    ConnectionProblem,
    HubError,
    InvalidNodeSignature,
    InvalidParameters,
    ReceiverTimeout,
    ReplayedMessage,
)
from scn_node.scpi.headers import (
    ANSWER_HEADERS,
    CORRELATION_ID,
    NODE_SIGNATURE,
    REQUEST_ID,
    RoutingHeaders,
)
from scn_node.scpi.hubclientinfo import ClientInfo, parse_client_info
from scn_node.scpi.party import InvalidPartyId, PartyId
from scn_node.scpi.versions import InterfaceRole

MESSAGE_PATH = "/scn/message"
CLIENT_INFO_PATH = "/scn/client-info"
MAX_AGE_SECONDS = 120.0  # clocks of two nodes may differ this much, and a message live this long


@dataclass(frozen=True, slots=True)
class NodeMessage:
    """One routed request on its way to the receiver's node (to one of its proxies, when
    `proxy` names the receiving node's proxy uid; module and path are then not used)."""

    request: ScpiRequest
    family: Family = Family.STANDARD
    proxy: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timestamp: str = field(default_factory=timestamp)
    owner_rules: PartyRules | None = None
    """A broadcast's sender's own rules (who may GET the objects it pushed); None otherwise."""
    opened: bool = False
    """Open routing found the receiver: a receiver whose rules refuse the sender is answered
    as unknown, so rules cannot be probed through another node either."""

    @property
    def headers(self) -> RoutingHeaders:
        return self.request.headers

    def encode(self) -> bytes:
        request, headers = self.request, self.request.headers
        data: dict[str, Any] = {
            "id": self.id,
            "timestamp": self.timestamp,
            "method": request.method,
            "module": request.module,
            "interface": request.interface.value,
            "custom": self.family is Family.CUSTOM,
            "path": request.tail,
            "query": request.query,
            "proxy": self.proxy,
            "request_id": headers.request_id,
            "correlation_id": headers.correlation_id,
            "sender": _party_json(headers.sender),
            "receiver": _party_json(headers.receiver),
            "signature": headers.signature,
            "body": None,
            "body_base64": None,
        }
        if request.body:
            try:
                data["body"] = request.body.decode("utf-8")  # exact: a JSON string round-trips it
            except UnicodeDecodeError:
                data["body_base64"] = base64.b64encode(request.body).decode("ascii")
        if self.owner_rules is not None:  # absent, not null: other messages' bytes unchanged
            data["owner_rules"] = self.owner_rules.to_json()
        if self.opened:
            data["opened"] = True
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def decode(cls, raw: bytes) -> NodeMessage:
        data = decode(raw)
        try:
            body = b""
            if data.get("body") is not None:
                body = str(data["body"]).encode("utf-8")
            elif data.get("body_base64") is not None:
                body = base64.b64decode(data["body_base64"], validate=True)
            headers = RoutingHeaders(
                _text(data, "request_id"),
                _text(data, "correlation_id"),
                _party(data["sender"]),
                _party(data["receiver"]),
                _optional_text(data, "signature"),
            )
            request = ScpiRequest(
                _text(data, "method"),
                _text(data, "module"),
                InterfaceRole(data["interface"]),
                headers,
                tail=str(data.get("path") or ""),
                query=str(data.get("query") or ""),
                body=body,
            )
            custom = bool(data.get("custom", False))
            return cls(
                request,
                Family.CUSTOM if custom else Family.STANDARD,
                proxy=data.get("proxy"),
                id=_text(data, "id"),
                timestamp=_text(data, "timestamp"),
                owner_rules=rules_from_json(data.get("owner_rules")),
                opened=data.get("opened") is True,
            )
        except (KeyError, TypeError, ValueError, AttributeError, binascii.Error, InvalidPartyId):
            raise InvalidParameters("Not a node message") from None


class ReplayGuard:
    """Refuses old or repeated node messages: ids are remembered in memory for twice the
    accepted age (`check`), and in `seen` while they are accepted at all (`admit`)."""

    def __init__(
        self,
        seen: SeenMessages | None = None,
        *,
        max_age: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.seen = seen
        self.max_age = max_age
        self.clock = clock
        self._seen: set[str] = set()
        self._order: deque[tuple[float, str]] = deque()  # oldest first, to forget in O(1)

    async def admit(self, message_id: str, sent_at: str) -> None:
        """`check`, then the record that outlives this process: a message is refused while
        its window lasts, whichever process saw it first."""
        sent = self.check(message_id, sent_at)
        if self.seen is not None and not await self.seen.first_delivery(
            message_id, sent + self.max_age
        ):
            raise ReplayedMessage(f"Node message {message_id} was delivered before")

    def check(self, message_id: str, sent_at: str) -> float:
        """Refuse a message outside the window or seen by this process; its send time."""
        now = self.clock()
        try:
            sent = datetime.fromisoformat(sent_at.rstrip("Z")).replace(tzinfo=UTC).timestamp()
        except ValueError:
            raise ReplayedMessage(f"Node message {message_id} has no valid timestamp") from None
        if abs(now - sent) > self.max_age:
            raise ReplayedMessage(
                f"Node message {message_id} was sent at {sent_at}, outside the "
                f"{self.max_age:.0f} s window"
            )
        while self._order and self._order[0][0] < now - 2 * self.max_age:
            self._seen.discard(self._order.popleft()[1])
        if message_id in self._seen:
            raise ReplayedMessage(f"Node message {message_id} was delivered before")
        self._seen.add(message_id)
        self._order.append((now, message_id))
        return sent


def answer_to_sign(message: bytes, status: int, headers: Mapping[str, str], body: bytes) -> bytes:
    """What a node signs of its answer to a node message: bound to that message's exact bytes
    (themselves signed, and unique: the replay guard refuses a second delivery), so an answer
    cannot be passed off as another message's; covering the HTTP status, the headers the sender
    acts on (lower-case names) and the body. The prefix keeps these signatures apart from the
    node's other EIP-191 signatures (node messages, ClientInfo)."""
    lines = [
        "SCN node answer",
        hashlib.sha256(message).hexdigest(),
        str(status),
        *(headers.get(h, "") for h in ANSWER_HEADERS),
    ]
    return "\n".join(lines).encode() + b"\n" + body


class PeerLink:
    """This node's side of the protocol with every other node."""

    def __init__(
        self,
        wallet: Wallet,
        registry: Registry,
        transport: Transport,
        *,
        replays: ReplayGuard | None = None,
        new_request_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.wallet = wallet
        self.registry = registry
        self.transport = transport
        self.replays = replays or ReplayGuard()  # in memory only, unless given a store
        self.new_request_id = new_request_id
        self.clock = clock

    # ---------------------------------------------------------------- routed messages

    async def send(self, node_url: str, operator: str, message: NodeMessage) -> PartyResponse:
        """Deliver `message` to the node at `node_url` (run by `operator`, as the registry
        says); its answer, once its signature shows it is that node's, unchanged."""
        raw = message.encode()
        headers = {
            NODE_SIGNATURE: self.wallet.sign(raw),
            "Content-Type": "application/json",
            REQUEST_ID: self.new_request_id(),
            CORRELATION_ID: message.headers.correlation_id,
        }
        request = OutboundRequest("POST", node_url + MESSAGE_PATH, headers, raw)
        try:
            response = await self.transport.send(request)
        except (ReceiverTimeout, ConnectionProblem) as error:
            receiver = message.headers.receiver
            raise type(error)(
                f"The node {node_url} of receiver {receiver} {error.message}"
            ) from None
        self._check_answer(raw, response, node_url=node_url, operator=operator)
        return response

    async def accept(self, raw: bytes, signature: str | None) -> NodeMessage:
        """A message from a peer node, once it is shown to be from the sender's node and new."""
        message = NodeMessage.decode(raw)
        await self._check_signer(raw, signature, message.headers.sender)
        await self.replays.admit(message.id, message.timestamp)
        return message

    def answer(self, raw: bytes, reply: ScpiReply) -> ScpiReply:
        """`reply` to the message `raw`, signed by this node (errors as well as answers)."""
        lower = {k.lower(): v for k, v in reply.headers.items()}
        signature = self.wallet.sign(answer_to_sign(raw, reply.status, lower, reply.body))
        return replace(reply, headers={**reply.headers, NODE_SIGNATURE: signature})

    # ---------------------------------------------------------------- ClientInfo

    async def push_client_info(self, node_url: str, info: ClientInfo) -> PartyResponse:
        """PUT one ClientInfo about a party here to another node, signed."""
        body = info.encode()
        headers = {
            NODE_SIGNATURE: self.wallet.sign(body),
            "Content-Type": "application/json",
            REQUEST_ID: self.new_request_id(),
            CORRELATION_ID: self.new_request_id(),
        }
        url = node_url.rstrip("/") + CLIENT_INFO_PATH
        return await self.transport.send(OutboundRequest("PUT", url, headers, body))

    async def accept_client_info(self, raw: bytes, signature: str | None) -> ClientInfo:
        """A ClientInfo from a peer node; its signer must operate the node the registry lists
        the party with (asked again of the chain when the cache disagrees: parties move)."""
        info = parse_client_info(raw, self.clock())
        await self._check_signer(raw, signature, info.party, recheck=True)
        return info

    # ---------------------------------------------------------------- signatures

    async def _check_signer(
        self, raw: bytes, signature: str | None, party: PartyId, *, recheck: bool = False
    ) -> None:
        """`raw` must be signed by the operator of the node the registry lists `party` with.

        `recheck` asks the chain again when the cached listing disagrees (it may predate a
        move); the message path leaves it off, so forged messages cannot make the node call
        the chain."""
        if not signature:
            raise InvalidNodeSignature(f"Missing {NODE_SIGNATURE} header")
        try:
            signer = self.wallet.recover(raw, signature)
        except ValueError as error:
            raise InvalidNodeSignature(f"Invalid {NODE_SIGNATURE}: {error}") from None
        listed = await self.registry.party(party)
        if recheck and (listed is None or listed.operator.lower() != signer.lower()):
            listed = await self.registry.party(party, fresh=True)
        if listed is None or not listed.node_url:
            raise InvalidNodeSignature(f"{party} is not listed in the SCN Registry with a node")
        if listed.operator.lower() != signer.lower():
            raise InvalidNodeSignature(
                f"Signed by {signer}, but {party} is listed with the node of {listed.operator}"
            )

    def _check_answer(
        self, message: bytes, response: PartyResponse, *, node_url: str, operator: str
    ) -> None:
        """The answer of the node at `node_url` must be signed by `operator`, the registry's
        operator of the receiver's node: nothing between the nodes may change it."""
        signature = response.headers.get(NODE_SIGNATURE.lower())
        signed = answer_to_sign(message, response.status, response.headers, response.body)
        try:
            if not signature:
                raise ValueError("no signature")
            signer = self.wallet.recover(signed, signature)
        except ValueError as error:
            raise HubError(f"The answer of the node {node_url} is not signed: {error}") from None
        if signer.lower() != operator.lower():
            raise HubError(
                f"The answer of the node {node_url} is signed by {signer}, not by its operator "
                f"{operator} in the SCN Registry"
            )


def _text(data: dict[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value:
        raise ValueError(key)
    return value


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(key)
    return value or None


def rules_from_json(data: Any) -> PartyRules | None:
    """`PartyRules.to_json()` read back (None: absent); ValueError when it is not that."""
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("signatures", False), bool):
        raise ValueError("owner_rules")
    active: ListKind | None = None
    entries: tuple[RuleEntry, ...] = ()
    for kind in ListKind:
        listing = data.get(kind.value) or {}
        if not isinstance(listing, dict):
            raise ValueError("owner_rules")
        if listing.get("active") is True:
            if active is not None:
                raise ValueError("owner_rules: a whitelist and a blacklist both active")
            try:
                active, entries = kind, parse_entries(listing.get("list", []))
            except InvalidParameters as error:
                raise ValueError(f"owner_rules: {error.message}") from None
    return PartyRules(bool(data.get("signatures", False)), active, entries)


def _party(data: Any) -> PartyId:
    return PartyId.parse(data["country_code"], data["party_id"])


def _party_json(party: PartyId) -> dict[str, str]:
    return {"country_code": party.country_code, "party_id": party.party_id}
