"""Private targets: with allow_private=False the transport refuses hosts that are, or resolve to,
addresses that are not public, before it connects; and remembers the verdict for a while."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import BaseTestServer

from scn_node.clients import AiohttpTransport
from scn_node.clients.guard import AddressGuard
from scn_node.scpi.errors import ConnectionProblem, InvalidParameters
from tests.clients.servers import SECRET, get, respond, serve

NAMES = {
    "party.example": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    "other.example": ["8.8.8.8"],
    "third.example": ["1.1.1.1"],
    "internal.example": ["10.0.0.7"],
    "mixed.example": ["8.8.4.4", "192.168.0.10"],
    "mapped.example": ["::ffff:169.254.169.254"],
    "zoned.example": ["fe80::1%eth0"],
}


class FakeDns:
    """What the guard sees when it resolves a name (NAMES), counting the look-ups."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int | None) -> list[str]:
        self.calls.append(host)
        if host not in NAMES:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return NAMES[host]


class Loopback(AbstractResolver):
    """The session's resolver in these tests: every name leads to the local party server, so a
    request the guard lets through is seen there, and nothing leaves the machine."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host, host="127.0.0.1", port=port, family=socket.AF_INET, proto=0, flags=0
            )
        ]

    async def close(self) -> None:
        pass


@pytest.fixture
async def party() -> AsyncIterator[BaseTestServer]:
    async with serve(respond(b"public")) as server:
        yield server


@pytest.fixture
async def loopback() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=Loopback())) as s:
        yield s


@pytest.fixture
def dns() -> FakeDns:
    return FakeDns()


def guarded(session: aiohttp.ClientSession, guard: AddressGuard) -> AiohttpTransport:
    return AiohttpTransport(session, allow_private=False, guard=guard)


class Stopped:
    """A session that records each request it is about to start, and stops it there: the
    transport's guard has let it through, and nothing leaves the machine."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_start.append(self._stop)

    async def _stop(
        self, session: object, context: object, params: aiohttp.TraceRequestStartParams
    ) -> None:
        self.started.append(params.url.host or "")
        raise aiohttp.ClientConnectionError("stopped by the test")


@pytest.fixture
async def stopped() -> AsyncIterator[tuple[aiohttp.ClientSession, Stopped]]:
    recorder = Stopped()
    async with aiohttp.ClientSession(trace_configs=[recorder.trace]) as session:
        yield session, recorder


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
async def test_private_targets_are_refused_before_connecting(
    stopped: tuple[aiohttp.ClientSession, Stopped], host: str
) -> None:
    session, recorder = stopped
    transport = AiohttpTransport(session, allow_private=False)
    with pytest.raises(InvalidParameters) as info:
        await transport.send(get(f"http://{host}:8080/x?token={SECRET}", Authorization=SECRET))
    assert info.value.message == (
        f"The node does not call private addresses ({host.strip('[]')}); "
        "set SCN_ALLOW_PRIVATE_URLS=true on a local network"
    )
    assert recorder.started == []


async def test_a_private_server_is_not_contacted(session: aiohttp.ClientSession) -> None:
    hits: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text="here")

    async with serve(handler) as server:
        with pytest.raises(InvalidParameters):
            await AiohttpTransport(session, allow_private=False).send(
                get(str(server.make_url("/")))
            )
    assert hits == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_private_targets_are_called_when_allowed(
    session: aiohttp.ClientSession, party: BaseTestServer, host: str
) -> None:
    url = f"http://{host}:{party.port}/"
    response = await AiohttpTransport(session, allow_private=True).send(get(url))
    assert response.body == b"public"


@pytest.mark.parametrize("host", ["internal.example", "mixed.example", "mapped.example"])
async def test_names_resolving_to_a_private_address_are_refused(
    loopback: aiohttp.ClientSession, party: BaseTestServer, dns: FakeDns, host: str
) -> None:
    with pytest.raises(InvalidParameters, match=rf"private addresses \({host}\)"):
        await guarded(loopback, AddressGuard(lookup=dns)).send(get(f"http://{host}:{party.port}/x"))


async def test_a_name_resolving_to_a_zoned_link_local_address_is_refused(
    loopback: aiohttp.ClientSession, party: BaseTestServer, dns: FakeDns
) -> None:
    with pytest.raises(InvalidParameters, match=r"private addresses \(zoned.example\)"):
        await guarded(loopback, AddressGuard(lookup=dns)).send(
            get(f"http://zoned.example:{party.port}/x")
        )


async def test_public_names_are_called(
    loopback: aiohttp.ClientSession, party: BaseTestServer, dns: FakeDns
) -> None:
    response = await guarded(loopback, AddressGuard(lookup=dns)).send(
        get(f"http://party.example:{party.port}/ocpi/versions")
    )
    assert response.body == b"public"
    assert dns.calls == ["party.example"]


async def test_an_unresolvable_name_goes_ahead(
    loopback: aiohttp.ClientSession, party: BaseTestServer, dns: FakeDns
) -> None:
    transport = guarded(loopback, AddressGuard(lookup=dns))
    response = await transport.send(get(f"http://nowhere.example:{party.port}/"))
    assert response.status == 200  # a real resolver would fail to connect
    assert transport.guard.verdicts == {}  # a failure is not remembered


async def test_address_literals_are_judged_without_resolving(
    stopped: tuple[aiohttp.ClientSession, Stopped], dns: FakeDns
) -> None:
    session, recorder = stopped
    transport = AiohttpTransport(session, allow_private=False, guard=AddressGuard(lookup=dns))
    for host in ("93.184.215.14", "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]"):
        with pytest.raises(ConnectionProblem, match="ClientConnectionError"):
            await transport.send(get(f"http://{host}/"))  # let through, stopped by the test
    with pytest.raises(InvalidParameters):
        await transport.send(get("http://10.0.0.1/"))
    assert recorder.started == ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    assert dns.calls == []


async def test_verdicts_are_cached_for_a_minute(
    loopback: aiohttp.ClientSession, party: BaseTestServer, dns: FakeDns
) -> None:
    now = 1000.0
    transport = guarded(loopback, AddressGuard(lookup=dns, clock=lambda: now))
    for _ in range(5):
        await transport.send(get(f"http://party.example:{party.port}/a"))
        with pytest.raises(InvalidParameters):
            await transport.send(get(f"http://internal.example:{party.port}/a"))
    assert dns.calls == ["party.example", "internal.example"]

    now += 59.0
    await transport.send(get(f"http://party.example:{party.port}/b"))
    assert dns.calls == ["party.example", "internal.example"]

    now += 2.0
    await transport.send(get(f"http://party.example:{party.port}/c"))
    assert dns.calls == ["party.example", "internal.example", "party.example"]


async def test_the_verdict_cache_is_bounded(
    loopback: aiohttp.ClientSession, party: BaseTestServer, dns: FakeDns
) -> None:
    transport = guarded(loopback, AddressGuard(lookup=dns, entries=2))
    for host in ("party.example", "other.example", "third.example"):
        await transport.send(get(f"http://{host}:{party.port}/"))
    assert list(transport.guard.verdicts) == ["other.example", "third.example"]
    await transport.send(get(f"http://party.example:{party.port}/"))  # evicted: resolved again
    assert dns.calls == ["party.example", "other.example", "third.example", "party.example"]


async def test_allowed_private_targets_are_never_resolved(
    loopback: aiohttp.ClientSession, party: BaseTestServer, dns: FakeDns
) -> None:
    transport = AiohttpTransport(loopback, guard=AddressGuard(lookup=dns))
    response = await transport.send(get(f"http://internal.example:{party.port}/"))
    assert response.body == b"public"
    assert dns.calls == []
