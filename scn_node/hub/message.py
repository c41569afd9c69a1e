"""A routed request as the hub sees it, and the reply it gives back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from scn_node.scpi.headers import RoutingHeaders
from scn_node.scpi.versions import InterfaceRole


@dataclass(frozen=True, slots=True)
class ScpiRequest:
    """A functional or custom module request (which one is its `ModuleSpec`'s business).
    `tail`, `query` and `body` travel on byte for byte."""

    method: str
    module: str
    interface: InterfaceRole
    headers: RoutingHeaders
    tail: str = ""  # the path below the module endpoint: "" or "/…"
    query: str = ""  # the raw query string, without "?"
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class ScpiReply:
    """What the sender gets: a receiver's answer relayed, or the node's own error envelope
    (`status_code` set, for the request log). Either way final: nothing but the ids and the
    swapped routing headers a web adapter adds when missing."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    status_code: int | None = None  # the node's own envelope's SCPI status; None when relayed
