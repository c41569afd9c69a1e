"""AiohttpPartyTransport, the default forwarding client, against real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import BaseTestServer, TestServer

from scn_node.clients.aiohttp_client import AiohttpPartyTransport, new_session
from scn_node.hub.ports import OutboundRequest
from scn_node.scpi.errors import ConnectionProblem, HubError, InvalidParameters, ReceiverTimeout

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SECRET = "s3cr3t-token"


@asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[BaseTestServer]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    async with TestServer(app, host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with new_session(timeout=5.0, connect_timeout=5.0) as session:
        yield session


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_method_raw_path_query_headers_and_body_go_out_unchanged(
    session: aiohttp.ClientSession,
) -> None:
    seen: dict[str, object] = {}

    async def handler(request: web.Request) -> web.Response:
        seen.update(
            method=request.method,
            target=request.raw_path,
            auth=request.headers["Authorization"],
            body=await request.read(),
            encoding=request.headers.get("Accept-Encoding"),
        )
        return web.Response(
            status=201, body=b'{"status_code":1000}', headers={"X-Total-Count": "7"}
        )

    body = b'{ "a" : 1.0 ,"\\u00e9":"\xe2\x9a\xa1"}'
    async with serve(handler) as server:
        url = str(server.make_url("/")) + "x/LOC%201?q=M%C3%BCnchen+Nord&empty=&flag&a=%2F,b~"
        response = await AiohttpPartyTransport(session).send(
            OutboundRequest("PATCH", url, {"Authorization": f"Token {SECRET}"}, body)
        )
    assert seen == {
        "method": "PATCH",
        "target": "/x/LOC%201?q=M%C3%BCnchen+Nord&empty=&flag&a=%2F,b~",
        "auth": f"Token {SECRET}",
        "body": body,
        "encoding": "identity",
    }
    assert (response.status, response.body) == (201, b'{"status_code":1000}')
    assert response.headers["x-total-count"] == "7"


async def test_a_redirect_is_not_followed(session: aiohttp.ClientSession) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "http://elsewhere.example/"})

    async with serve(handler) as server:
        response = await AiohttpPartyTransport(session).send(
            OutboundRequest("GET", str(server.make_url("/")), {})
        )
    assert response.status == 302


async def test_connection_refused_is_a_connection_problem(session: aiohttp.ClientSession) -> None:
    with pytest.raises(ConnectionProblem, match=r"could not be reached \(\w+\)") as raised:
        await AiohttpPartyTransport(session).send(
            OutboundRequest("GET", f"http://127.0.0.1:{closed_port()}/?token={SECRET}", {})
        )
    assert SECRET not in raised.value.message


@pytest.mark.parametrize("url", ["ftp://x/", "relative/path", "http://[bad/", "http://h:99999/"])
async def test_an_unusable_url_is_a_connection_problem(
    session: aiohttp.ClientSession, url: str
) -> None:
    with pytest.raises(ConnectionProblem):
        await AiohttpPartyTransport(session).send(OutboundRequest("GET", url, {}))


async def test_the_deadline_bounds_the_whole_exchange(session: aiohttp.ClientSession) -> None:
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(body=b"late")

    async with serve(handler) as server:
        with pytest.raises(ReceiverTimeout, match="did not answer in time"):
            await AiohttpPartyTransport(session, deadline=0.2).send(
                OutboundRequest("GET", str(server.make_url("/")), {})
            )
        release.set()


async def test_a_broken_gzip_answer_is_a_connection_problem(
    session: aiohttp.ClientSession,
) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=b"not gzip", headers={"Content-Encoding": "gzip"})

    async with serve(handler) as server:
        with pytest.raises(ConnectionProblem, match="could not be read"):
            await AiohttpPartyTransport(session).send(
                OutboundRequest("GET", str(server.make_url("/")), {})
            )


async def test_a_gzip_answer_is_decoded(session: aiohttp.ClientSession) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=gzip.compress(b"x" * 500), headers={"Content-Encoding": "gzip"})

    async with serve(handler) as server:
        response = await AiohttpPartyTransport(session).send(
            OutboundRequest("GET", str(server.make_url("/")), {})
        )
    assert response.body == b"x" * 500


@pytest.mark.parametrize("chunked", [False, True])
async def test_answers_over_the_cap_are_refused(
    session: aiohttp.ClientSession, chunked: bool
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        if not chunked:
            return web.Response(body=b"x" * 5000)
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(100):
            await response.write(b"x" * 1000)
        await response.write_eof()
        return response

    async with serve(handler) as server:
        url = str(server.make_url("/"))
        with pytest.raises(HubError, match="larger than 4999 bytes"):
            await AiohttpPartyTransport(session, max_response_bytes=4999).send(
                OutboundRequest("GET", url, {})
            )
        if not chunked:
            response = await AiohttpPartyTransport(session, max_response_bytes=5000).send(
                OutboundRequest("GET", url, {})
            )
            assert len(response.body) == 5000


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "10.1.2.3", "169.254.169.254", "localhost"])
async def test_private_targets_are_refused_when_not_allowed(
    session: aiohttp.ClientSession, host: str
) -> None:
    with pytest.raises(InvalidParameters, match="does not call private addresses"):
        await AiohttpPartyTransport(session, allow_private=False).send(
            OutboundRequest("GET", f"http://{host}:{closed_port()}/", {})
        )


async def test_private_targets_are_called_when_allowed(session: aiohttp.ClientSession) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=b"ok")

    async with serve(handler) as server:
        response = await AiohttpPartyTransport(session, allow_private=True).send(
            OutboundRequest("GET", str(server.make_url("/")), {})
        )
    assert response.body == b"ok"
