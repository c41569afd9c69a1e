"""Node-to-node messages: one routed request, carried to the receiver's node and signed there.

`POST /scn/message` carries a NodeMessage as JSON; the sending node signs the exact bytes with
its wallet (EIP-191) in `SCN-Signature`. The receiving node trusts a message only if the signer
is the registry operator of the node the sender party is listed with, the timestamp is recent,
and the id has not been seen before.
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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from scn_node.hub.message import ScpiRequest
from scn_node.hub.ports import Registry, Wallet
from scn_node.scpi.envelope import decode, timestamp
from scn_node.scpi.errors import (
    HubError,
    InvalidNodeSignature,
    InvalidParameters,
    ReplayedMessage,
)
from scn_node.scpi.headers import RoutingHeaders
from scn_node.scpi.party import InvalidPartyId, PartyId
from scn_node.scpi.versions import InterfaceRole

SIGNATURE_HEADER = "SCN-Signature"
MESSAGE_PATH = "/scn/message"
CLIENT_INFO_PATH = "/scn/client-info"
# An answer's headers that mean something to the sender, and so are signed with its body.
SIGNED_ANSWER_HEADERS = ("link", "location", "x-total-count", "x-limit")
MAX_AGE_SECONDS = 120.0  # clocks of two nodes may differ this much, and a message live this long


@dataclass(frozen=True, slots=True)
class NodeMessage:
    method: str
    module: str
    interface: InterfaceRole
    headers: RoutingHeaders
    path: str = ""
    query: str = ""
    body: bytes = b""
    custom: bool = False
    proxy: str | None = None  # a proxy uid of the receiving node, instead of module and path
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timestamp: str = field(default_factory=timestamp)

    @classmethod
    def carrying(cls, request: ScpiRequest, *, proxy: str | None = None) -> NodeMessage:
        """The message that carries `request` to the receiver's node (to one of its proxies)."""
        return cls(
            request.method,
            request.module,
            request.interface,
            request.headers,
            path=request.tail,
            query=request.query,
            body=request.body,
            custom=request.custom,
            proxy=proxy,
        )

    def request(self) -> ScpiRequest:
        """The routed request this message carries (not for proxy messages)."""
        return ScpiRequest(
            self.method,
            self.module,
            self.interface,
            self.headers,
            tail=self.path,
            query=self.query,
            body=self.body,
            custom=self.custom,
        )

    def encode(self) -> bytes:
        data: dict[str, Any] = {
            "id": self.id,
            "timestamp": self.timestamp,
            "method": self.method,
            "module": self.module,
            "interface": self.interface.value,
            "custom": self.custom,
            "path": self.path,
            "query": self.query,
            "proxy": self.proxy,
            "request_id": self.headers.request_id,
            "correlation_id": self.headers.correlation_id,
            "sender": _party_json(self.headers.sender),
            "receiver": _party_json(self.headers.receiver),
            "signature": self.headers.signature,
            "body": None,
            "body_base64": None,
        }
        if self.body:
            try:
                data["body"] = self.body.decode("utf-8")  # exact: a JSON string round-trips it
            except UnicodeDecodeError:
                data["body_base64"] = base64.b64encode(self.body).decode("ascii")
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
            return cls(
                method=_text(data, "method"),
                module=_text(data, "module"),
                interface=InterfaceRole(data["interface"]),
                headers=RoutingHeaders(
                    _text(data, "request_id"),
                    _text(data, "correlation_id"),
                    _party(data["sender"]),
                    _party(data["receiver"]),
                    _optional_text(data, "signature"),
                ),
                path=str(data.get("path") or ""),
                query=str(data.get("query") or ""),
                body=body,
                custom=bool(data.get("custom", False)),
                proxy=data.get("proxy"),
                id=_text(data, "id"),
                timestamp=_text(data, "timestamp"),
            )
        except (KeyError, TypeError, ValueError, AttributeError, binascii.Error, InvalidPartyId):
            raise InvalidParameters("Not a node message") from None


class SeenMessages(Protocol):
    """The ids of delivered node messages, kept where a restart or a second node process on
    the same database finds them (the node's database)."""

    async def first_delivery(self, message_id: str, until: float) -> bool:
        """Record `message_id` as delivered, kept until `until` (Unix time); False if it was
        recorded before."""
        ...


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


def _party(data: Any) -> PartyId:
    return PartyId.parse(data["country_code"], data["party_id"])


def _party_json(party: PartyId) -> dict[str, str]:
    return {"country_code": party.country_code, "party_id": party.party_id}


async def check_node_signature(
    wallet: Wallet,
    registry: Registry,
    raw: bytes,
    signature: str | None,
    party: PartyId,
    *,
    recheck: bool = False,
) -> None:
    """`raw` must be signed by the operator of the node the registry lists `party` with.

    `recheck` asks the chain again when the cached listing disagrees (it may predate a move);
    the message path leaves it off, so forged messages cannot make the node call the chain.
    """
    if not signature:
        raise InvalidNodeSignature(f"Missing {SIGNATURE_HEADER} header")
    try:
        signer = wallet.recover(raw, signature)
    except ValueError as error:
        raise InvalidNodeSignature(f"Invalid {SIGNATURE_HEADER}: {error}") from None
    listed = await registry.party(party)
    if recheck and (listed is None or listed.operator.lower() != signer.lower()):
        listed = await registry.party(party, fresh=True)
    if listed is None or not listed.node_url:
        raise InvalidNodeSignature(f"{party} is not listed in the SCN Registry with a node")
    if listed.operator.lower() != signer.lower():
        raise InvalidNodeSignature(
            f"Signed by {signer}, but {party} is listed with the node of {listed.operator}"
        )


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
        *(headers.get(h, "") for h in SIGNED_ANSWER_HEADERS),
    ]
    return "\n".join(lines).encode() + b"\n" + body


def check_answer_signature(
    wallet: Wallet,
    message: bytes,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    node_url: str,
    operator: str,
) -> None:
    """The answer of the node at `node_url` must be signed by `operator`, the registry's
    operator of the receiver's node: nothing between the nodes may change it."""
    signature = headers.get(SIGNATURE_HEADER.lower())
    try:
        if not signature:
            raise ValueError("no signature")
        signer = wallet.recover(answer_to_sign(message, status, headers, body), signature)
    except ValueError as error:
        raise HubError(f"The answer of the node {node_url} is not signed: {error}") from None
    if signer.lower() != operator.lower():
        raise HubError(
            f"The answer of the node {node_url} is signed by {signer}, not by its operator "
            f"{operator} in the SCN Registry"
        )
