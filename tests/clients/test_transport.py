"""AiohttpTransport against real servers on 127.0.0.1: what goes out, what comes back, errors,
the deadline. The size cap: test_limits.py; private targets: test_guard.py."""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from scn_node.clients import AiohttpTransport, new_session
from scn_node.hub.ports import OutboundRequest, PartyResponse
from scn_node.scpi.errors import ConnectionProblem, ReceiverTimeout, ScpiError
from tests.clients.servers import SECRET, assert_discreet, closed_port, get, respond, serve

# --- what goes out, what comes back ----------------------------------------------------------


async def test_method_raw_path_query_headers_and_body_go_out_unchanged(
    session: aiohttp.ClientSession,
) -> None:
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        seen.update(
            method=request.method,
            target=request.raw_path,
            headers=dict(request.headers),
            body=await request.read(),
        )
        return web.Response(
            status=201,
            body=b'{"status_code":1000}',
            headers={"X-Total-Count": "7", "Link": "<a>"},
        )

    headers = {
        "Authorization": f"Token {SECRET}",
        "X-Request-ID": "r-1",
        "X-Correlation-ID": "c-1",
        "SCPI-from-country-code": "DE",
        "Content-Type": "application/json",
    }
    body = b'{ "a" : 1.0 ,"\\u00e9":"\xe2\x9a\xa1"}'
    async with serve(handler) as server:
        url = str(server.make_url("/")) + "x/LOC%201?q=M%C3%BCnchen+Nord&empty=&flag&a=%2F,b~"
        response = await AiohttpTransport(session).send(
            OutboundRequest("PATCH", url, headers, body)
        )

    assert seen["method"] == "PATCH"
    assert seen["target"] == "/x/LOC%201?q=M%C3%BCnchen+Nord&empty=&flag&a=%2F,b~"
    assert seen["body"] == body
    assert seen["headers"]["Accept-Encoding"] == "identity"
    for name, value in headers.items():
        assert seen["headers"][name] == value
    assert isinstance(response, PartyResponse)
    assert (response.status, response.body) == (201, b'{"status_code":1000}')
    assert response.headers["x-total-count"] == "7" and response.headers["link"] == "<a>"
    assert all(name == name.lower() for name in response.headers)


async def test_a_get_without_body_sends_no_body(session: aiohttp.ClientSession) -> None:
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        seen.update(body=await request.read(), length=request.headers.get("Content-Length"))
        return web.Response(status=204)

    async with serve(handler) as server:
        response = await AiohttpTransport(session).send(get(str(server.make_url("/"))))
    assert (response.status, response.body) == (204, b"")
    assert seen["body"] == b"" and seen["length"] in (None, "0")


async def test_a_redirect_is_not_followed(session: aiohttp.ClientSession) -> None:
    hits: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(status=302, headers={"Location": "/elsewhere"})

    async with serve(handler) as server:
        response = await AiohttpTransport(session).send(get(str(server.make_url("/here"))))
    assert (response.status, response.headers["location"]) == (302, "/elsewhere")
    assert hits == ["/here"]


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as RFC 9110 means it
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw, as some servers send it
        ("identity", lambda data: data),
    ],
)
async def test_encoded_answers_are_decoded(
    session: aiohttp.ClientSession, encoding: str, encode: Callable[[bytes], bytes]
) -> None:
    body = b'{"data":"' + b"x" * 300_000 + b'"}'
    async with serve(respond(encode(body), **{"Content-Encoding": encoding})) as server:
        response = await AiohttpTransport(session).send(get(str(server.make_url("/"))))
    assert response.body == body
    assert response.headers["content-encoding"] == encoding


async def test_an_answer_in_stacked_encodings_comes_back_as_it_was_sent(
    session: aiohttp.ClientSession,
) -> None:
    """Only single encodings are decoded: anything else is not unpacked, so not a bomb either."""
    packed = gzip.compress(gzip.compress(b"x" * 300_000))
    async with serve(respond(packed, **{"Content-Encoding": "gzip, gzip"})) as server:
        response = await AiohttpTransport(session).send(get(str(server.make_url("/"))))
    assert response.body == packed
    assert response.headers["content-encoding"] == "gzip, gzip"


async def test_a_chunked_answer_is_read_whole(session: aiohttp.ClientSession) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for i in range(50):
            await response.write(b"%03d," % i)
        await response.write_eof()
        return response

    async with serve(handler) as server:
        response = await AiohttpTransport(session).send(get(str(server.make_url("/"))))
    assert response.body == b"".join(b"%03d," % i for i in range(50))


def test_the_transport_needs_only_the_session(session: aiohttp.ClientSession) -> None:
    transport = AiohttpTransport(session)
    assert transport.session is session
    assert transport.deadline is None
    assert transport.max_response_bytes == 16 * 1024 * 1024
    assert transport.allow_private is True


# --- errors ----------------------------------------------------------------------------------


async def test_connection_refused_is_a_connection_problem(session: aiohttp.ClientSession) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v?token={SECRET}"
    with pytest.raises(
        ConnectionProblem, match=r"^could not be reached \(ClientConnectorError\)$"
    ) as info:
        await AiohttpTransport(session).send(get(url, Authorization=SECRET))
    assert_discreet(info.value)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("ftp://127.0.0.1/x?token=" + SECRET, "InvalidURL"),
        ("/relative?token=" + SECRET, "InvalidURL"),
        ("relative/path?token=" + SECRET, "InvalidURL"),
        ("http:///x?token=" + SECRET, "InvalidURL"),
        ("http://[::1/x?token=" + SECRET, "ValueError"),
        ("http://[bad/x?token=" + SECRET, "ValueError"),
        ("http://127.0.0.1:99999/x?token=" + SECRET, "ValueError"),
    ],
)
async def test_an_unusable_url_is_a_connection_problem(
    session: aiohttp.ClientSession, url: str, kind: str
) -> None:
    with pytest.raises(ConnectionProblem, match=rf"^could not be reached \({kind}\)$") as info:
        await AiohttpTransport(session).send(get(url))
    assert_discreet(info.value)


async def test_a_header_that_would_split_the_request_is_not_sent(
    session: aiohttp.ClientSession,
) -> None:
    hits: list[dict[str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(dict(request.headers))
        return web.Response()

    async with serve(handler) as server:
        with pytest.raises(ConnectionProblem, match="could not be reached") as info:
            await AiohttpTransport(session).send(
                get(str(server.make_url("/")), Authorization=f"Token {SECRET}\r\nX-Injected: 1")
            )
    assert hits == []
    assert_discreet(info.value)


async def test_a_receiver_that_hangs_up_without_answering_is_a_connection_problem(
    session: aiohttp.ClientSession,
) -> None:
    async def handler(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    async with serve(handler) as server:
        with pytest.raises(
            ConnectionProblem, match=r"^could not be reached \(ServerDisconnectedError\)$"
        ):
            await AiohttpTransport(session).send(get(str(server.make_url("/"))))


async def test_a_receiver_that_stops_mid_answer_is_a_connection_problem(
    session: aiohttp.ClientSession,
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100"})
        await response.prepare(request)
        await response.write(b"only a part")
        assert request.transport is not None
        request.transport.close()
        return response

    async with serve(handler) as server:
        with pytest.raises(
            ConnectionProblem, match=r"^answered, but the answer could not be read \(\w+\)$"
        ):
            await AiohttpTransport(session).send(get(str(server.make_url("/"))))


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_body_that_does_not_decode_is_a_connection_problem(
    session: aiohttp.ClientSession, encoding: str
) -> None:
    handler = respond(b"\xff plain, not packed" * 5, **{"Content-Encoding": encoding})
    async with serve(handler) as server:
        with pytest.raises(
            ConnectionProblem,
            match=r"^answered, but the answer could not be read \(ClientPayloadError\)$",
        ) as info:
            await AiohttpTransport(session).send(
                get(str(server.make_url("/x").with_query(token=SECRET)))
            )
    assert_discreet(info.value)


def failing_session(error: BaseException) -> aiohttp.ClientSession:
    """A session whose every request fails with `error` before it connects (a trace hook)."""

    async def fail(*args: object) -> None:
        raise error

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(fail)
    return aiohttp.ClientSession(trace_configs=[trace])


@pytest.mark.parametrize(
    ("error", "expected", "message"),
    [
        (aiohttp.ConnectionTimeoutError(), ReceiverTimeout, "^did not answer in time$"),
        (aiohttp.SocketTimeoutError(), ReceiverTimeout, "^did not answer in time$"),
        (aiohttp.ServerDisconnectedError(), ConnectionProblem, r"reached \(ServerDisconnected"),
        (aiohttp.ClientOSError(104, "reset"), ConnectionProblem, r"reached \(ClientOSError\)"),
        (aiohttp.ClientPayloadError("t"), ConnectionProblem, r"read \(ClientPayloadError\)"),
        (OSError(SECRET), ConnectionProblem, r"reached \(OSError\)"),
    ],
)
async def test_every_client_error_becomes_an_scpi_error(
    error: BaseException, expected: type[ScpiError], message: str
) -> None:
    """The errors a local server cannot provoke on demand."""
    async with failing_session(error) as session:
        with pytest.raises(expected, match=message) as info:
            await AiohttpTransport(session).send(
                get(f"http://party.example/x?token={SECRET}", Authorization=SECRET)
            )
    assert_discreet(info.value)


# --- the deadline ----------------------------------------------------------------------------


async def test_a_receiver_that_does_not_answer_times_out() -> None:
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    async with (
        serve(handler) as server,
        new_session(timeout=0.2, connect_timeout=5.0) as session,
    ):
        try:
            with pytest.raises(ReceiverTimeout, match=r"^did not answer in time$"):
                await AiohttpTransport(session).send(get(str(server.make_url("/"))))
        finally:
            release.set()


async def test_the_deadline_bounds_the_whole_exchange_not_each_read() -> None:
    """A receiver trickling a byte well within the read timeout still runs out of time."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for _ in range(200):
                await response.write(b".")
                await asyncio.sleep(0.02)  # the trickle itself, not a readiness wait
        except (ConnectionError, RuntimeError):
            pass  # the node hung up
        return response

    async with (
        serve(handler) as server,
        new_session(timeout=2.0, connect_timeout=2.0) as session,
    ):
        transport = AiohttpTransport(session, deadline=0.3)
        started = time.monotonic()
        with pytest.raises(ReceiverTimeout, match=r"^did not answer in time$"):
            await transport.send(get(str(server.make_url("/"))))
        assert time.monotonic() - started < 2.0  # neither the read timeout nor the 4 s trickle


async def test_the_deadline_also_bounds_waiting_for_the_headers() -> None:
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    async with (
        serve(handler) as server,
        new_session(timeout=30.0, connect_timeout=5.0) as session,
    ):
        try:
            with pytest.raises(ReceiverTimeout, match=r"^did not answer in time$"):
                await AiohttpTransport(session, deadline=0.2).send(get(str(server.make_url("/"))))
        finally:
            release.set()


async def test_an_answer_within_the_deadline_goes_through(session: aiohttp.ClientSession) -> None:
    async with serve(respond(b"fine")) as server:
        response = await AiohttpTransport(session, deadline=5.0).send(
            get(str(server.make_url("/")))
        )
    assert response.body == b"fine"
