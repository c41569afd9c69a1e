"""The node as `scn-node serve` serves it: header limits, deadlines, and parse errors."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import urlsplit

import httpx
import pytest

from scn_node.scpi.party import Role
from tests.node.conftest import Network
from tests.node.parties import FakeParty

LOCATIONS = "/scpi/sender/2.2/locations"


async def pair(network: Network) -> tuple[FakeParty, FakeParty]:
    cpo = await network.connect("DE", "CPO", Role.CPO)
    emsp = await network.connect("DE", "MSP", Role.EMSP)
    return cpo, emsp


async def exchange(network: Network, raw: bytes) -> bytes:
    """Send `raw` on a new connection; everything the node answers until it closes."""
    url = urlsplit(network.url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(raw)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    await writer.wait_closed()
    return answer


def split(answer: bytes) -> tuple[bytes, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status_line.encode(), headers, body


async def wait_closed_by_node(reader: asyncio.StreamReader, within: float) -> bool:
    """Whether the node closes the connection (EOF or reset) within `within` seconds."""
    try:
        while await asyncio.wait_for(reader.read(65536), within):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


# ---------------------------------------------------------------- the header limit (defect 4)


async def test_a_20_kb_signature_header_reaches_the_signature_check(network: Network) -> None:
    cpo, emsp = await pair(network)
    signature = "x" * 20_000
    response = await network.send(
        emsp, "GET", LOCATIONS, to=cpo, headers={"SCN-Signature": signature}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["status_code"] == 2001  # invalid signature, on a standard route
    assert cpo.module_requests() == []


async def test_a_node_under_traffic_logs_no_warnings(
    network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    cpo, emsp = await pair(network)
    caplog.clear()
    caplog.set_level(logging.INFO)
    for n in range(25):  # one kept-alive connection
        response = await network.send(emsp, "GET", LOCATIONS, to=cpo)
        assert response.json()["status_code"] == 1000, n
    for n in range(25):  # a new connection each
        async with httpx.AsyncClient(base_url=network.url) as client:
            response = await client.get(LOCATIONS, headers=network.headers(emsp, cpo))
        assert response.json()["status_code"] == 1000, n
    requests = [r for r in caplog.records if r.name == "scn_node.requests"]
    assert len(requests) == 50
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


# ---------------------------------------------------------------- parse errors (defect 7)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (
            b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
            "the request line or a header is longer than the limit of 65536 bytes",
        ),
        (
            b"GET /health HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-H%d: v\r\n" % i for i in range(200))
            + b"\r\n",
            "too many headers received",
        ),
        (b"GE\x01T /health HTTP/1.1\r\nHost: x\r\n\r\n", "invalid method encountered"),
        (b"GET /health\x7f HTTP/1.1\r\nHost: x\r\n\r\n", "invalid char in url path"),
        (b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", "invalid header value char"),
    ],
)
async def test_a_request_the_parser_refuses_gets_an_envelope_and_one_warning(
    network: Network, caplog: pytest.LogCaptureFixture, raw: bytes, problem: str
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    status_line, headers, body = split(await exchange(network, raw))
    assert status_line.split(b" ")[1] == b"400", status_line
    assert headers["content-type"] == "application/json"
    answer = json.loads(body)
    assert answer["status_code"] == 2000
    assert answer["status_message"] == f"Malformed HTTP request: {problem}"
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelname for r in warnings] == ["WARNING"]
    assert warnings[0].getMessage().endswith(f": {problem}")
    assert warnings[0].exc_info is None
    assert (await network.client.get("/health")).text == "OK"


# ---------------------------------------------------------------- slow clients (defect 3)


async def test_slow_clients_are_closed_and_health_still_answers(
    network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    await network.stop_node()
    await network.start_node(request_head_timeout=1.0)
    caplog.set_level(logging.INFO)
    caplog.clear()
    url = urlsplit(network.url)
    opened = time.monotonic()
    connections = [await asyncio.open_connection(url.hostname, url.port) for _ in range(300)]
    partial = (b"GET /hea", b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    for index, (_, writer) in enumerate(connections):
        if index % 3:  # a third send nothing, the others half a request line or head
            writer.write(partial[index % 3 - 1])

    async def trickle() -> None:  # one more byte on each slow head, every 0.2 s
        while True:
            await asyncio.sleep(0.2)
            for index, (_, writer) in enumerate(connections):
                if index % 3 and not writer.is_closing():
                    writer.write(b"a")

    trickling = asyncio.create_task(trickle())
    try:
        async with httpx.AsyncClient(base_url=network.url, timeout=5) as fresh:
            assert (await fresh.get("/health")).text == "OK"
        closed = await asyncio.gather(
            *(wait_closed_by_node(reader, within=10) for reader, _ in connections)
        )
        took = time.monotonic() - opened
    finally:
        trickling.cancel()
        for _, writer in connections:
            writer.close()
    assert all(closed), f"{closed.count(False)} of 300 slow connections still open"
    assert 1.0 <= took < 10, took
    async with httpx.AsyncClient(base_url=network.url) as fresh:
        assert (await fresh.get("/health")).text == "OK"
    closes = [r for r in caplog.records if "no request head within 1 s" in r.getMessage()]
    assert len(closes) == 300
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_a_whole_request_arriving_slowly_within_the_deadline_is_answered(
    network: Network,
) -> None:
    await network.stop_node()
    await network.start_node(request_head_timeout=2.0)
    url = urlsplit(network.url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    for chunk in (b"GET /hea", b"lth HTTP/1.1\r\n", b"Host: x\r\nConnection: close\r\n\r\n"):
        writer.write(chunk)
        await writer.drain()
        await asyncio.sleep(0.3)  # a slow client, well within the deadline
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"OK")


async def test_an_idle_kept_alive_connection_is_closed_after_the_keepalive_timeout(
    network: Network,
) -> None:
    await network.stop_node()
    await network.start_node(keepalive_timeout=1.0, request_head_timeout=30.0)
    url = urlsplit(network.url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert await asyncio.wait_for(reader.readexactly(2), 5) == b"OK"
    answered = time.monotonic()
    assert await wait_closed_by_node(reader, within=10)
    assert 0.9 <= time.monotonic() - answered < 10
    writer.close()
