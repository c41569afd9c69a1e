"""`scn-node platforms` against a stand-in admin API on 127.0.0.1: what it sends, what it prints,
and the one-line errors it exits with. The real admin API: tests/node/test_platforms.py."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from click.testing import CliRunner, Result

from scn_node.platforms_cli import platforms

KEY = "admin-s3cret"
PLATFORMS = [
    {
        "id": i,
        "status": "CONNECTED",
        "version": "2.2.1" if i == 5 else "2.2",
        "endpoint_count": 3,
        # The fifth registered and was never heard from since.
        "last_heard": None if i == 5 else "2026-12-04T12:00:00+00:00",
        "roles": [{"country_code": "DE", "party_id": f"P{i:02d}", "role": "CPO"}],
    }
    for i in range(1, 6)
]


class AdminApi:
    """Answers as the node's admin API does; records every request it gets."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str | None]] = []
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self.handle)
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.method, request.path_qs, request.headers.get("Authorization")))
        if request.path == "/admin/platforms":
            offset = int(request.query.get("offset", "0"))
            page = PLATFORMS[offset : offset + 2]
            return envelope(page, headers={"X-Total-Count": str(len(PLATFORMS))})
        if request.path == "/admin/platforms/2" and request.method == "DELETE":
            return envelope({**PLATFORMS[1], "status": "SUSPENDED"})
        if request.path == "/admin/platforms/2":
            endpoints = [{"identifier": "locations", "role": "SENDER", "url": "https://cpo/loc"}]
            return envelope(
                {**PLATFORMS[1], "versions_url": "https://cpo/v", "endpoints": endpoints}
            )
        if request.path == "/admin/platforms/9":
            return web.json_response(
                {"status_code": 2000, "status_message": "No platform 9 on this node"}, status=404
            )
        if request.path == "/admin/platforms/3/rotate":
            return web.Response(status=502, text="<html>bad gateway</html>")
        if request.path == "/admin/platforms/4":
            return web.Response(status=302, headers={"Location": "/admin/platforms/2"})
        return web.Response(status=404)


def envelope(data: Any, headers: dict[str, str] | None = None) -> web.Response:
    body = {"status_code": 1000, "data": data, "timestamp": "2026-12-04T12:00:00Z"}
    return web.json_response(body, headers=headers)


@pytest.fixture
async def admin() -> AsyncIterator[AdminApi]:
    api = AdminApi()
    async with TestServer(api.app, host="127.0.0.1", port=0) as server:
        api.url = str(server.make_url("")).rstrip("/")
        yield api


async def run(node_url: str, *args: str) -> Result:
    # The stand-in answers on this event loop: the CLI's blocking calls run beside it.
    options = ["--node-url", node_url, "--admin-key", KEY]
    return await asyncio.to_thread(CliRunner().invoke, platforms, [*args, *options])


async def test_list_reads_every_page_with_the_admin_key(admin: AdminApi) -> None:
    listed = await run(admin.url, "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output) == PLATFORMS
    assert admin.seen == [
        ("GET", f"/admin/platforms?offset={offset}", f"Token {KEY}") for offset in (0, 2, 4)
    ]
    table = await run(admin.url, "list")
    assert table.exit_code == 0
    assert table.output.splitlines()[1].split() == [
        "1", "CONNECTED", "2.2", "3", "2026-12-04T12:00:00+00:00", "DE", "P01", "CPO"
    ]  # fmt: skip
    assert table.output.splitlines()[5].split() == [
        "5", "CONNECTED", "2.2.1", "3", "-", "DE", "P05", "CPO"
    ]  # fmt: skip


async def test_show_prints_the_endpoints_and_disconnect_sends_delete(admin: AdminApi) -> None:
    shown = await run(admin.url, "show", "2")
    assert shown.exit_code == 0, shown.output
    assert "platform 2: CONNECTED, SCPI 2.2" in shown.output
    assert "https://cpo/loc" in shown.output
    left = await run(admin.url, "disconnect", "2", "--json")
    assert left.exit_code == 0 and json.loads(left.output)["status"] == "SUSPENDED"
    assert [(method, path) for method, path, _ in admin.seen] == [
        ("GET", "/admin/platforms/2"),
        ("DELETE", "/admin/platforms/2"),
    ]


async def test_an_error_envelope_is_one_line_with_the_status(admin: AdminApi) -> None:
    unknown = await run(admin.url, "show", "9")
    assert unknown.exit_code == 1
    assert unknown.output == "Error: No platform 9 on this node (HTTP 404, 2000)\n"


async def test_an_answer_that_is_not_json_names_the_url_and_status(admin: AdminApi) -> None:
    failed = await run(admin.url, "rotate", "3")
    assert failed.exit_code == 1
    assert failed.output == f"Error: {admin.url}/admin/platforms/3/rotate answered HTTP 502\n"
    assert admin.seen == [("POST", "/admin/platforms/3/rotate", f"Token {KEY}")]


async def test_a_redirect_is_not_followed_so_the_key_goes_nowhere_else(admin: AdminApi) -> None:
    moved = await run(admin.url, "show", "4")
    assert moved.exit_code == 1
    assert moved.output == f"Error: {admin.url}/admin/platforms/4 answered HTTP 302\n"
    assert [path for _, path, _ in admin.seen] == ["/admin/platforms/4"]


async def test_an_unreachable_node_is_one_line() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    failed = await run(url, "list")
    assert failed.exit_code == 1
    assert failed.output.startswith(f"Error: cannot reach the node at {url}: ")
    assert "Traceback" not in failed.output and KEY not in failed.output


@pytest.mark.parametrize("url", ["file:///etc", "localhost:8080"])
async def test_only_http_node_urls_are_called(url: str) -> None:
    failed = await run(url, "list")
    assert failed.exit_code == 1
    assert failed.output == f"Error: cannot reach the node at {url}: not an http(s) URL\n"
