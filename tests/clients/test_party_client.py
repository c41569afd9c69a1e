"""HttpPartyTransport against real aiohttp servers on 127.0.0.1: errors, deadline, size cap, SSRF."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import BaseTestServer, TestServer

from scn_node.clients import party_client
from scn_node.clients.party_client import HttpPartyTransport, new_client
from scn_node.hub.ports import OutboundRequest, PartyResponse
from scn_node.scpi.errors import (
    ConnectionProblem,
    HubError,
    InvalidParameters,
    ReceiverTimeout,
    ScpiError,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SECRET = "s3cr3t-token"


@asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[BaseTestServer]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    async with TestServer(app, host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(timeout=5.0, connect_timeout=5.0) as client:
        yield client


def get(url: str, **headers: str) -> OutboundRequest:
    return OutboundRequest("GET", url, headers)


def respond(body: bytes, **headers: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, headers=headers)

    return handler


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def assert_discreet(error: ScpiError) -> None:
    """No query string nor header value leaks into an error message."""
    assert SECRET not in error.message and SECRET not in str(error)


# --- success ---------------------------------------------------------------------------------


async def test_a_request_goes_out_unchanged_and_the_answer_comes_back(
    client: httpx.AsyncClient,
) -> None:
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        seen.update(
            method=request.method,
            path_qs=request.path_qs,
            headers=dict(request.headers),
            body=await request.read(),
        )
        return web.Response(
            status=201, body=b'{"ok":true}', headers={"X-Thing": "Yes", "Link": "<a>"}
        )

    headers = {
        "Authorization": f"Token {SECRET}",
        "X-Request-ID": "r-1",
        "X-Correlation-ID": "c-1",
        "SCPI-from-country-code": "DE",
        "Content-Type": "application/json",
    }
    async with serve(handler) as server:
        url = str(server.make_url("/cmd/1?limit=5&offset=10"))
        response = await HttpPartyTransport(client).send(
            OutboundRequest("PUT", url, headers, b'{"a":1}')
        )

    assert isinstance(response, PartyResponse)
    assert response.status == 201
    assert response.body == b'{"ok":true}'
    assert response.headers["x-thing"] == "Yes" and response.headers["link"] == "<a>"
    assert all(name == name.lower() for name in response.headers)
    assert seen["method"] == "PUT"
    assert seen["path_qs"] == "/cmd/1?limit=5&offset=10"
    assert seen["body"] == b'{"a":1}'
    for name, value in headers.items():
        assert seen["headers"][name] == value


async def test_a_get_without_body_sends_no_body(client: httpx.AsyncClient) -> None:
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        seen.update(body=await request.read(), length=request.headers.get("Content-Length"))
        return web.Response(status=204)

    async with serve(handler) as server:
        response = await HttpPartyTransport(client).send(get(str(server.make_url("/"))))
    assert (response.status, response.body) == (204, b"")
    assert seen["body"] == b"" and seen["length"] in (None, "0")


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as RFC 9110 means it
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw, as some servers send it
        ("gzip, gzip", lambda data: gzip.compress(gzip.compress(data))),
        ("identity", lambda data: data),
    ],
)
async def test_encoded_answers_are_decoded(
    client: httpx.AsyncClient, encoding: str, encode: Callable[[bytes], bytes]
) -> None:
    body = b'{"data":"' + b"x" * 300_000 + b'"}'
    async with serve(respond(encode(body), **{"Content-Encoding": encoding})) as server:
        response = await HttpPartyTransport(client).send(get(str(server.make_url("/"))))
    assert response.body == body
    assert response.headers["content-encoding"] == encoding


async def test_a_chunked_answer_is_read_whole(client: httpx.AsyncClient) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for i in range(50):
            await response.write(b"%03d," % i)
        await response.write_eof()
        return response

    async with serve(handler) as server:
        response = await HttpPartyTransport(client).send(get(str(server.make_url("/"))))
    assert response.body == b"".join(b"%03d," % i for i in range(50))


def test_the_transport_needs_only_the_client() -> None:
    client = httpx.AsyncClient()
    transport = HttpPartyTransport(client)
    assert transport.client is client
    assert transport.deadline is None
    assert transport.max_response_bytes == 16 * 1024 * 1024
    assert transport.allow_private is True


# --- errors ----------------------------------------------------------------------------------


async def test_connection_refused_is_a_connection_problem(client: httpx.AsyncClient) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v?token={SECRET}"
    with pytest.raises(ConnectionProblem, match=r"could not be reached \(ConnectError\)") as info:
        await HttpPartyTransport(client).send(get(url, Authorization=SECRET))
    assert_discreet(info.value)


async def test_a_receiver_that_does_not_answer_times_out() -> None:
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    async with (
        serve(handler) as server,
        new_client(timeout=0.2, connect_timeout=5.0) as client,
    ):
        try:
            with pytest.raises(ReceiverTimeout, match="did not answer in time"):
                await HttpPartyTransport(client).send(get(str(server.make_url("/"))))
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
        new_client(timeout=2.0, connect_timeout=2.0) as client,
    ):
        transport = HttpPartyTransport(client, deadline=0.3)
        started = time.monotonic()
        with pytest.raises(ReceiverTimeout, match="did not answer in time"):
            await transport.send(get(str(server.make_url("/"))))
        assert time.monotonic() - started < 2.0  # neither the read timeout nor the 4 s trickle


async def test_the_deadline_also_bounds_waiting_for_the_headers() -> None:
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    async with (
        serve(handler) as server,
        new_client(timeout=30.0, connect_timeout=5.0) as client,
    ):
        try:
            with pytest.raises(ReceiverTimeout):
                await HttpPartyTransport(client, deadline=0.2).send(get(str(server.make_url("/"))))
        finally:
            release.set()


async def test_an_answer_within_the_deadline_goes_through(client: httpx.AsyncClient) -> None:
    async with serve(respond(b"fine")) as server:
        response = await HttpPartyTransport(client, deadline=5.0).send(
            get(str(server.make_url("/")))
        )
    assert response.body == b"fine"


async def test_a_bad_gzip_body_is_a_connection_problem(client: httpx.AsyncClient) -> None:
    handler = respond(b"plain, not gzip", **{"Content-Encoding": "gzip"})
    async with serve(handler) as server:
        with pytest.raises(
            ConnectionProblem, match=r"answer could not be read \(DecodingError\)"
        ) as info:
            await HttpPartyTransport(client).send(
                get(str(server.make_url("/x").with_query(token=SECRET)))
            )
    assert_discreet(info.value)


async def test_a_bad_deflate_body_is_a_connection_problem(client: httpx.AsyncClient) -> None:
    handler = respond(b"\xff" * 100, **{"Content-Encoding": "deflate"})
    async with serve(handler) as server:
        with pytest.raises(ConnectionProblem, match=r"\(DecodingError\)"):
            await HttpPartyTransport(client).send(get(str(server.make_url("/"))))


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://[::1/x?token=" + SECRET, "InvalidURL"),
        ("http://127.0.0.1:99999/x?token=" + SECRET, "InvalidURL"),
        ("ftp://127.0.0.1/x?token=" + SECRET, "UnsupportedProtocol"),
        ("/relative?token=" + SECRET, "UnsupportedProtocol"),
        ("http://bad host/x?token=" + SECRET, "ConnectError"),
    ],
)
async def test_an_unusable_url_is_a_connection_problem(
    client: httpx.AsyncClient, url: str, kind: str
) -> None:
    with pytest.raises(ConnectionProblem, match=rf"could not be reached \({kind}\)") as info:
        await HttpPartyTransport(client).send(get(url))
    assert_discreet(info.value)


async def test_a_header_httpx_cannot_send_is_a_connection_problem(
    client: httpx.AsyncClient,
) -> None:
    async with serve(respond(b"")) as server:
        with pytest.raises(ConnectionProblem, match="not ASCII") as info:
            await HttpPartyTransport(client).send(
                get(str(server.make_url("/")), Authorization=f"Token {SECRET}\u00e9")
            )
    assert_discreet(info.value)


@pytest.mark.parametrize(
    ("error", "expected", "message"),
    [
        (httpx.ConnectTimeout("t"), ConnectionProblem, r"could not be reached \(connect timeout\)"),
        (httpx.ReadTimeout("t"), ReceiverTimeout, "did not answer in time"),
        (httpx.PoolTimeout("t"), ReceiverTimeout, "did not answer in time"),
        (httpx.RemoteProtocolError("t"), ConnectionProblem, r"reached \(RemoteProtocolError\)"),
        (httpx.ReadError("t"), ConnectionProblem, r"reached \(ReadError\)"),
        (httpx.TooManyRedirects("t"), ConnectionProblem, r"read \(TooManyRedirects\)"),
        (httpx.DecodingError("t"), ConnectionProblem, r"read \(DecodingError\)"),
    ],
)
async def test_every_httpx_error_becomes_an_scpi_error(
    error: Exception, expected: type[ScpiError], message: str
) -> None:
    """The errors a local server cannot provoke on demand, raised by a mock transport."""

    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    async with httpx.AsyncClient(transport=httpx.MockTransport(fail)) as client:
        with pytest.raises(expected, match=message) as info:
            await HttpPartyTransport(client).send(
                get(f"http://party.example/x?token={SECRET}", Authorization=SECRET)
            )
    assert_discreet(info.value)


# --- size cap --------------------------------------------------------------------------------


async def test_an_answer_up_to_the_cap_is_read(client: httpx.AsyncClient) -> None:
    async with serve(respond(b"x" * 1000)) as server:
        response = await HttpPartyTransport(client, max_response_bytes=1000).send(
            get(str(server.make_url("/")))
        )
    assert response.body == b"x" * 1000


async def test_a_declared_oversize_answer_is_refused(client: httpx.AsyncClient) -> None:
    async with serve(respond(b"x" * 1001)) as server:
        with pytest.raises(HubError, match="larger than 1000 bytes"):
            await HttpPartyTransport(client, max_response_bytes=1000).send(
                get(str(server.make_url("/")))
            )


async def test_an_endless_chunked_answer_is_cut_at_the_cap(client: httpx.AsyncClient) -> None:
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
            await HttpPartyTransport(client, max_response_bytes=100_000).send(
                get(str(server.make_url("/")))
            )


@pytest.mark.parametrize("encoding", ["gzip", "gzip, gzip"])
async def test_a_compression_bomb_is_cut_at_the_cap(
    client: httpx.AsyncClient, encoding: str
) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # about 50 KB on the wire
    if encoding == "gzip, gzip":
        bomb = gzip.compress(bomb)
    async with serve(respond(bomb, **{"Content-Encoding": encoding})) as server:
        with pytest.raises(HubError, match="larger than 1000000 bytes"):
            await HttpPartyTransport(client, max_response_bytes=1_000_000).send(
                get(str(server.make_url("/")))
            )


async def test_the_cap_applies_to_decoded_bytes(client: httpx.AsyncClient) -> None:
    body = b"y" * 5000
    async with serve(respond(gzip.compress(body), **{"Content-Encoding": "gzip"})) as server:
        url = str(server.make_url("/"))
        with pytest.raises(HubError):
            await HttpPartyTransport(client, max_response_bytes=4999).send(get(url))
        response = await HttpPartyTransport(client, max_response_bytes=5000).send(get(url))
    assert response.body == body


# --- private targets -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1.2.3",
        "[::1]",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "[fe80::1]",
        "[fc00::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:10.0.0.1]",
        "0.0.0.0",
        "[::]",
        "224.0.0.1",
        "[ff02::1]",
        "240.0.0.1",
        "100.64.0.1",
        "localhost",
    ],
)
async def test_private_targets_are_refused_before_connecting(host: str) -> None:
    calls: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as client:
        transport = HttpPartyTransport(client, allow_private=False)
        with pytest.raises(InvalidParameters) as info:
            await transport.send(get(f"http://{host}:8080/x?token={SECRET}", Authorization=SECRET))
    assert info.value.message == (
        f"The node does not call private addresses ({host.strip('[]')}); "
        "set SCN_ALLOW_PRIVATE_URLS=true on a local network"
    )
    assert calls == []


async def test_a_private_server_is_not_contacted(client: httpx.AsyncClient) -> None:
    hits: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text="here")

    async with serve(handler) as server:
        with pytest.raises(InvalidParameters):
            await HttpPartyTransport(client, allow_private=False).send(
                get(str(server.make_url("/")))
            )
    assert hits == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_private_targets_are_called_when_allowed(
    client: httpx.AsyncClient, host: str
) -> None:
    async with serve(respond(b"local")) as server:
        url = f"http://{host}:{server.port}/"
        response = await HttpPartyTransport(client, allow_private=True).send(get(url))
    assert response.body == b"local"


class FakeResolver:
    """Stands in for the event loop's getaddrinfo and counts the look-ups."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    async def __call__(
        self, host: str, port: object, *args: object, **kwargs: object
    ) -> list[tuple[Any, ...]]:
        self.calls.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (address, 443, 0, 0) if ":" in address else (address, 443),
            )
            for address in self.answers[host]
        ]


@pytest.fixture
async def resolver(monkeypatch: pytest.MonkeyPatch) -> FakeResolver:
    fake = FakeResolver(
        {
            "party.example": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
            "other.example": ["8.8.8.8"],
            "third.example": ["1.1.1.1"],
            "internal.example": ["10.0.0.7"],
            "mixed.example": ["8.8.4.4", "192.168.0.10"],
            "mapped.example": ["::ffff:169.254.169.254"],
        }
    )
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fake)
    return fake


@pytest.fixture
async def mock_client() -> AsyncIterator[httpx.AsyncClient]:
    def ok(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"public")

    async with httpx.AsyncClient(transport=httpx.MockTransport(ok)) as client:
        yield client


@pytest.mark.parametrize("host", ["internal.example", "mixed.example", "mapped.example"])
async def test_names_resolving_to_a_private_address_are_refused(
    resolver: FakeResolver, mock_client: httpx.AsyncClient, host: str
) -> None:
    transport = HttpPartyTransport(mock_client, allow_private=False)
    with pytest.raises(InvalidParameters, match=rf"private addresses \({host}\)"):
        await transport.send(get(f"https://{host}/x"))


async def test_public_names_are_called(
    resolver: FakeResolver, mock_client: httpx.AsyncClient
) -> None:
    transport = HttpPartyTransport(mock_client, allow_private=False)
    response = await transport.send(get("https://party.example/ocpi/versions"))
    assert response.body == b"public"
    assert resolver.calls == ["party.example"]


async def test_an_unresolvable_name_goes_ahead(
    resolver: FakeResolver, mock_client: httpx.AsyncClient
) -> None:
    transport = HttpPartyTransport(mock_client, allow_private=False)
    response = await transport.send(get("https://nowhere.example/"))
    assert response.status == 200  # the real client would fail to connect
    assert transport._verdicts == {}  # a failure is not remembered


async def test_address_literals_are_not_resolved(
    resolver: FakeResolver, mock_client: httpx.AsyncClient
) -> None:
    transport = HttpPartyTransport(mock_client, allow_private=False)
    await transport.send(get("https://93.184.215.14/"))
    await transport.send(get("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/"))
    assert resolver.calls == []


async def test_verdicts_are_cached_for_a_minute(
    resolver: FakeResolver, mock_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = 1000.0
    monkeypatch.setattr(party_client, "monotonic", lambda: now)
    transport = HttpPartyTransport(mock_client, allow_private=False)
    for _ in range(5):
        await transport.send(get("https://party.example/a"))
        with pytest.raises(InvalidParameters):
            await transport.send(get("https://internal.example/a"))
    assert resolver.calls == ["party.example", "internal.example"]

    now += 59.0
    await transport.send(get("https://party.example/b"))
    assert resolver.calls == ["party.example", "internal.example"]

    now += 2.0
    await transport.send(get("https://party.example/c"))
    assert resolver.calls == ["party.example", "internal.example", "party.example"]


async def test_the_verdict_cache_is_bounded(
    resolver: FakeResolver, mock_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(party_client, "VERDICT_ENTRIES", 2)
    transport = HttpPartyTransport(mock_client, allow_private=False)
    for host in ("party.example", "other.example", "third.example"):
        await transport.send(get(f"https://{host}/"))
    assert list(transport._verdicts) == ["other.example", "third.example"]
    await transport.send(get("https://party.example/"))  # evicted, so resolved again
    assert resolver.calls == [
        "party.example",
        "other.example",
        "third.example",
        "party.example",
    ]


async def test_allowed_private_targets_are_never_resolved(
    resolver: FakeResolver, mock_client: httpx.AsyncClient
) -> None:
    await HttpPartyTransport(mock_client).send(get("https://internal.example/"))
    assert resolver.calls == []


async def test_a_preloaded_answer_is_capped_too() -> None:
    def big(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"z" * 2000)

    async with httpx.AsyncClient(transport=httpx.MockTransport(big)) as client:
        url = "http://party.example/"
        with pytest.raises(HubError, match="larger than 1999 bytes"):
            await HttpPartyTransport(client, max_response_bytes=1999).send(get(url))
        response = await HttpPartyTransport(client, max_response_bytes=2000).send(get(url))
    assert response.body == b"z" * 2000


async def test_a_head_answer_announcing_a_large_body_is_fine(client: httpx.AsyncClient) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 5000)  # aiohttp sends only the headers to HEAD

    async with serve(handler) as server:
        response = await HttpPartyTransport(client, max_response_bytes=1000).send(
            OutboundRequest("HEAD", str(server.make_url("/")), {})
        )
    assert (response.status, response.body) == (200, b"")
    assert response.headers["content-length"] == "5000"
