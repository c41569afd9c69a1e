"""A chain call is tried once: web3's retries would multiply a failing endpoint's wait."""

from __future__ import annotations

import socket

import pytest
from aiohttp import web

from scn_node.registry import RegistryContract, RegistryUnavailable

ADDRESS = "0x" + "11" * 20


async def test_a_failing_rpc_endpoint_is_called_once_per_read() -> None:
    calls = 0

    async def failing(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.Response(status=503, text="unavailable")

    app = web.Application()
    app.router.add_post("/", failing)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    contract = await RegistryContract.connect(url, ADDRESS, rpc_timeout=5, verify=False)
    try:
        assert calls == 0  # connecting without verifying makes no call
        with pytest.raises(RegistryUnavailable):
            await contract.block_number()
        assert calls == 1
    finally:
        await contract.close()
        await runner.cleanup()
