"""The size cap: the transport reads at most max_response_bytes of a receiver's answer, counted
after decoding, and stops reading as soon as an answer passes it."""

from __future__ import annotations

import gzip

import aiohttp
import pytest
from aiohttp import web

from scn_node.clients import AiohttpTransport
from scn_node.hub.ports import OutboundRequest
from scn_node.scpi.errors import HubError
from tests.clients.servers import get, respond, serve


@pytest.mark.parametrize("chunked", [False, True])
async def test_an_answer_up_to_the_cap_is_read_and_one_over_it_refused(
    session: aiohttp.ClientSession, chunked: bool
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        if not chunked:
            return web.Response(body=b"x" * 5000)
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(5):
            await response.write(b"x" * 1000)
        await response.write_eof()
        return response

    async with serve(handler) as server:
        url = str(server.make_url("/"))
        with pytest.raises(HubError, match=r"^The receiver's answer is larger than 4999 bytes$"):
            await AiohttpTransport(session, max_response_bytes=4999).send(get(url))
        response = await AiohttpTransport(session, max_response_bytes=5000).send(get(url))
    assert response.body == b"x" * 5000


async def test_an_endless_chunked_answer_is_cut_at_the_cap(
    session: aiohttp.ClientSession,
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for _ in range(10_000):  # 640 MB if nobody stops reading
                await response.write(b"x" * 65536)
        except (ConnectionError, RuntimeError):
            pass  # the node hung up
        return response

    async with serve(handler) as server:
        with pytest.raises(HubError, match="larger than 100000 bytes"):
            await AiohttpTransport(session, max_response_bytes=100_000).send(
                get(str(server.make_url("/")))
            )


async def test_a_compression_bomb_is_cut_at_the_cap(session: aiohttp.ClientSession) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # about 50 KB on the wire
    async with serve(respond(bomb, **{"Content-Encoding": "gzip"})) as server:
        with pytest.raises(HubError, match="larger than 1000000 bytes"):
            await AiohttpTransport(session, max_response_bytes=1_000_000).send(
                get(str(server.make_url("/")))
            )


async def test_the_cap_applies_to_decoded_bytes(session: aiohttp.ClientSession) -> None:
    body = b"y" * 5000
    async with serve(respond(gzip.compress(body), **{"Content-Encoding": "gzip"})) as server:
        url = str(server.make_url("/"))
        with pytest.raises(HubError, match="larger than 4999 bytes"):
            await AiohttpTransport(session, max_response_bytes=4999).send(get(url))
        response = await AiohttpTransport(session, max_response_bytes=5000).send(get(url))
    assert response.body == body


async def test_a_head_answer_announcing_a_large_body_is_fine(
    session: aiohttp.ClientSession,
) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 5000)  # aiohttp sends only the headers to HEAD

    async with serve(handler) as server:
        response = await AiohttpTransport(session, max_response_bytes=1000).send(
            OutboundRequest("HEAD", str(server.make_url("/")), {})
        )
    assert (response.status, response.body) == (200, b"")
    assert response.headers["content-length"] == "5000"
