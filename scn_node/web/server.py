"""The one place the node's app is served on a socket, with the limits and deadlines it needs.

aiohttp reads a request's head without a deadline, and answers a request it cannot parse with
plain text and an ERROR traceback. The handler here closes a connection whose request head
does not arrive in time, and answers parse errors with an SCPI envelope and one WARNING line.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong

from scn_node.settings import Settings
from scn_node.web.middlewares import malformed_request_response, server_error_response

# A Notary signature of a large body outgrows aiohttp's default 8 KB header field.
SIGNATURE_HEADER_BYTES = 65536
log = logging.getLogger("scn_node.server")


class NodeRequestHandler(web.RequestHandler):
    """aiohttp's connection handler, with a deadline for each request head.

    The deadline runs from the connection's start, and from the first byte of each later
    request; a connection idle between requests is aiohttp's keep-alive timeout's business.
    """

    __slots__ = ("_head_timeout", "_head_timer")

    def __init__(self, manager: web.Server, *, head_timeout: float, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._head_timeout = head_timeout
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        waiting = self._waiter is not None and not self._waiter.done()
        if waiting and self._head_timer is None:  # the first byte of a request after a pause
            self._arm_head_timer()
        super().data_received(data)
        if self._messages:  # a whole head arrived (or a parse error, answered right away)
            self._disarm_head_timer()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        self._head_timer = self._loop.call_later(self._head_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._messages or self._waiter is None or self._waiter.done():
            return  # a request is being handled: not a slow head
        log.info(
            "closed a connection from %s: no request head within %g s",
            _peer(self.transport), self._head_timeout,
        )  # fmt: skip
        self.force_close()

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """An SCPI envelope instead of aiohttp's plain text; a parse error is the client's
        fault, so it gets one WARNING line, not a traceback."""
        if request.writer.output_size > 0:
            raise ConnectionError("The answer has begun; no error answer can follow it")
        if isinstance(exc, HttpProcessingError) and status == 400:
            problem = _parse_problem(exc)
            log.warning("malformed HTTP request from %s: %s", request.remote, problem)
            response = malformed_request_response(problem)
        else:
            self.log_exception("Error handling request from %s", request.remote, exc_info=exc)
            response = server_error_response(status)
        response.force_close()  # the parser's state is unknown after an error
        return response


def _parse_problem(error: HttpProcessingError) -> str:
    """What is wrong, in a sentence that quotes nothing the client sent (it may be a token)."""
    if isinstance(error, LineTooLong):
        return f"the request line or a header is longer than the limit of {error.args[1]} bytes"
    # aiohttp's parser messages read "<what is wrong>:\n\n  b'<the line>'\n  ^"
    problem = error.message.split(":", 1)[0].strip()[:100] or "Bad Request"
    return problem[0].lower() + problem[1:]


def _peer(transport: asyncio.BaseTransport | None) -> object:
    return transport.get_extra_info("peername") if transport is not None else None


class NodeServer(web.Server):
    """aiohttp's server, making NodeRequestHandlers (web.Server hard-codes its handler)."""

    def __init__(self, server: web.Server, *, head_timeout: float) -> None:
        super().__init__(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=server._loop,
            **server._kwargs,
        )
        self._head_timeout = head_timeout

    def __call__(self) -> web.RequestHandler:
        # No fallback: aiohttp's drops every option (with a warning) on one unknown option.
        return NodeRequestHandler(
            self, loop=self._loop, head_timeout=self._head_timeout, **self._kwargs
        )


class NodeRunner(web.AppRunner):
    def __init__(self, app: web.Application, *, head_timeout: float, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._head_timeout = head_timeout

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return NodeServer(server, head_timeout=self._head_timeout)


def runner(app: web.Application, settings: Settings) -> NodeRunner:
    """The app's runner, with every option aiohttp's RequestHandler takes passed by keyword."""
    return NodeRunner(
        app,
        head_timeout=settings.request_head_timeout,
        access_log=None,  # scn_node.web.middlewares logs each request, with its SCPI ids
        keepalive_timeout=settings.keepalive_timeout,
        max_field_size=SIGNATURE_HEADER_BYTES,
    )


async def start(
    app: web.Application, settings: Settings, sock: socket.socket | None = None
) -> web.AppRunner:
    """Run `app` on `sock` (bound by the caller), or on settings.host and settings.port.

    Raises OSError when the address cannot be listened on; the runner is cleaned up then.
    """
    served = runner(app, settings)
    await served.setup()
    site = (
        web.SockSite(served, sock)
        if sock is not None
        else web.TCPSite(served, settings.host, settings.port)
    )
    try:
        await site.start()
    except OSError:
        await served.cleanup()
        raise
    return served
