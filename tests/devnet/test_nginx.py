"""nginx (Debian's package, our config, a free port) in front of two HTTP servers: what an
operator puts in front of node instances. Requests and answers pass byte for byte, headers
included, and a server that goes away is passed over."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from scn_node.devnet.nginx import Nginx, config
from scn_node.devnet.serving import serve_on_socket

BODY = b'{"z":1.0, "a":"M\\u00fcnchen \xe2\x9a\xa1"}\n'


def backend(name: str) -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        return web.Response(
            body=BODY + await request.read(),
            headers={
                "X-Backend": name,
                "X-Seen-From": request.headers.get("SCPI-from-party-id", ""),
                "X-Seen-Host": request.headers.get("Host", ""),
            },
        )

    app = web.Application()
    app.router.add_route("*", "/{path:.*}", echo)
    return app


@pytest.fixture
async def two_behind_nginx(
    tmp_path: Path,
) -> AsyncIterator[tuple[Nginx, list[web.AppRunner]]]:
    runners, upstreams = [], []
    for name in ("one", "two"):
        runner, url = await serve_on_socket(backend(name))
        runners.append(runner)
        upstreams.append(url.removeprefix("http://"))
    nginx = await Nginx.start(tmp_path, upstreams)
    try:
        yield nginx, runners
    finally:
        nginx.stop()
        for runner in runners:
            await runner.cleanup()


async def test_requests_and_answers_pass_byte_for_byte_to_every_backend(
    two_behind_nginx: tuple[Nginx, list[web.AppRunner]],
) -> None:
    nginx, _ = two_behind_nginx
    seen = set()
    async with aiohttp.ClientSession() as session:
        for _ in range(4):
            async with session.put(
                f"{nginx.url}/scpi/receiver/2.2/locations/DE/CPO/L1?x=%C3%A9",
                data=b'{"id":"L1"}',
                headers={"SCPI-from-party-id": "CPO"},
            ) as response:
                assert response.status == 200
                assert await response.read() == BODY + b'{"id":"L1"}'
                assert response.headers["X-Seen-From"] == "CPO"
                assert response.headers["X-Seen-Host"] == f"127.0.0.1:{nginx.port}"
                seen.add(response.headers["X-Backend"])
    assert seen == {"one", "two"}  # round robin over both


async def test_a_backend_that_went_away_is_passed_over(
    two_behind_nginx: tuple[Nginx, list[web.AppRunner]],
) -> None:
    nginx, runners = two_behind_nginx
    await runners[0].cleanup()
    async with aiohttp.ClientSession() as session:
        for _ in range(4):
            async with session.get(f"{nginx.url}/health") as response:
                assert response.status == 200
                assert response.headers["X-Backend"] == "two"


def test_the_config_pools_connections_and_retries_the_next_upstream(tmp_path: Path) -> None:
    text = config(tmp_path, 8088, ["127.0.0.1:1", "127.0.0.1:2"])
    assert "listen 127.0.0.1:8088;" in text
    assert "server 127.0.0.1:1 max_fails=1 fail_timeout=2s;" in text
    assert "keepalive 32;" in text and 'proxy_set_header Connection "";' in text
    assert "proxy_next_upstream error timeout http_502 http_503;" in text
