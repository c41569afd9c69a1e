"""A routed request as the hub sees it, and the reply it gives back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from scn_node.scpi.headers import RoutingHeaders
from scn_node.scpi.versions import InterfaceRole


@dataclass(frozen=True, slots=True)
class ScpiRequest:
    """A functional-module request. `tail`, `query` and `body` travel on byte for byte."""

    method: str
    module: str
    interface: InterfaceRole
    headers: RoutingHeaders
    tail: str = ""  # the path below the module endpoint: "" or "/…"
    query: str = ""  # the raw query string, without "?"
    body: bytes = b""
    custom: bool = False


@dataclass(frozen=True, slots=True)
class ScpiReply:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
