"""Local party servers on 127.0.0.1 (port 0), and what the transport tests check on every error."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web
from aiohttp.test_utils import BaseTestServer, TestServer

from scn_node.hub.ports import OutboundRequest
from scn_node.scpi.errors import ScpiError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SECRET = "s3cr3t-token"


@asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[BaseTestServer]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    async with TestServer(app, host="127.0.0.1", port=0) as server:
        yield server


def respond(body: bytes, **headers: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, headers=headers)

    return handler


def get(url: str, **headers: str) -> OutboundRequest:
    return OutboundRequest("GET", url, headers)


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def assert_discreet(error: ScpiError) -> None:
    """No query string nor header value leaks into an error message."""
    assert SECRET not in error.message and SECRET not in str(error)
