"""The one way the devnet, the tests and the benchmarks start an aiohttp app on a socket."""

from __future__ import annotations

import socket

from aiohttp import web


def listening_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A socket bound to `host`:`port` (0: a free port), for a caller that needs its URL before
    the app exists (a node's settings name the node's own URL)."""
    sock = socket.socket()
    # A party restarted on the port it had keeps it, though the old connections linger.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def base_url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"  # a wildcard address is not a URL a client can call
    return f"http://{host}:{port}"


async def serve_on_socket(
    app: web.Application,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    sock: socket.socket | None = None,
) -> tuple[web.AppRunner, str]:
    """Serve `app` on `host`:`port` (or on `sock`): the runner to clean up and the base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        sock = sock or listening_socket(host, port)
        await web.SockSite(runner, sock).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, base_url_of(sock)
