"""Transports without sockets: a function is the other end (as httpx's MockTransport), and a
FakeNetwork routes each request by its scheme and host to whoever serves that base URL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from scn_node.hub.model import OutboundRequest, PartyResponse
from scn_node.scpi.errors import ConnectionProblem

Handler = Callable[[OutboundRequest], Awaitable[PartyResponse]]


@dataclass
class FunctionTransport:
    """hub.ports.Transport over one function; every request is kept in `sent`."""

    handler: Handler
    sent: list[OutboundRequest] = field(default_factory=list)

    async def send(self, request: OutboundRequest) -> PartyResponse:
        self.sent.append(request)
        return await self.handler(request)


@dataclass
class FakeNetwork:
    """One transport for every node and backoffice in a test: `serve(base_url, handler)`.
    A host nobody serves is unreachable, as the real transport says it."""

    hosts: dict[str, Handler] = field(default_factory=dict)
    sent: list[OutboundRequest] = field(default_factory=list)

    def serve(self, base_url: str, handler: Handler) -> None:
        self.hosts[_origin(base_url)] = handler

    def drop(self, base_url: str) -> None:
        self.hosts.pop(_origin(base_url), None)

    async def send(self, request: OutboundRequest) -> PartyResponse:
        self.sent.append(request)
        handler = self.hosts.get(_origin(request.url))
        if handler is None:
            raise ConnectionProblem("could not be reached (ClientConnectorError)")
        return await handler(request)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def response(
    status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None
) -> PartyResponse:
    """A PartyResponse as the transport gives it (lower-case header names)."""
    return PartyResponse(status, {k.lower(): v for k, v in (headers or {}).items()}, body)
