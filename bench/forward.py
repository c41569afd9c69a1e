"""Benchmark: a request forwarded through the node against the same request sent straight to the party.

    .venv/bin/python bench/forward.py [--requests 1000] [--concurrency 20] [--database-url URL]

The node runs in this process (so a profiler sees it), on the bench's ganache chain, in front of
the bench's party server; both routes are measured in the same run and the ratio is the node's
cost. The database is a new SQLite file, or the (empty) database at --database-url, e.g.
postgresql+asyncpg://user@127.0.0.1/scn.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
from testbed import ADMIN_KEY, chain, party_server, register, routing

from scn_node.app import create_app
from scn_node.devnet.chain import dev_account
from scn_node.devnet.serving import base_url_of, listening_socket
from scn_node.scpi.party import PartyId, Role
from scn_node.settings import Settings
from scn_node.web import server

NODE_ACCOUNT = 14


async def measure(
    send: Callable[[], Awaitable[tuple[int, bytes]]], requests: int, concurrency: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = iter(range(requests))

    async def worker() -> None:
        for _ in queue:
            started = time.perf_counter()
            status, body = await send()
            latencies.append(time.perf_counter() - started)
            assert status == 200 and json.loads(body)["status_code"] == 1000

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return requests / (time.perf_counter() - started), latencies


def report(name: str, rate: float, latencies: list[float]) -> None:
    ordered = sorted(latencies)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(
        f"  {name:<9} {rate:8.0f} req/s   p50 {statistics.median(ordered) * 1000:6.2f} ms"
        f"   p95 {p95 * 1000:6.2f} ms"
    )


async def main(requests: int, concurrency: int, database_url: str | None) -> None:
    async with AsyncExitStack() as stack:
        rpc_url, registry = await stack.enter_async_context(chain())
        party_base = await stack.enter_async_context(party_server())
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        account = dev_account(NODE_ACCOUNT)
        sock = listening_socket()  # bound first: the node's settings name its own URL
        url = base_url_of(sock)
        await registry.set_node(account, url)
        settings = Settings(
            node_url=url,
            private_key="0x" + bytes(account.key).hex(),
            admin_api_key=ADMIN_KEY,
            database_url=database_url or f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
            rpc_url=rpc_url,
            registry_address=registry.address,
            log_level="WARNING",
        )
        # Served as `scn-node serve` serves it: the same limits and deadlines.
        runner = await server.start(create_app(settings, contract=registry), settings, sock)
        stack.push_async_callback(runner.cleanup)

        msp, cpo = PartyId("DE", "MSP"), PartyId("DE", "CPO")
        async with aiohttp.ClientSession() as session:
            listed_here = (session, registry, url, account.address)
            await register(*listed_here, cpo, Role.CPO, dev_account(1), party_base)
            token = await register(*listed_here, msp, Role.EMSP, dev_account(19), party_base)
        headers = routing(token, msp, cpo)
        direct_headers = {**headers, "Authorization": "Token token-b"}
        connector = aiohttp.TCPConnector(limit=100)
        client = await stack.enter_async_context(aiohttp.ClientSession(connector=connector))

        async def get(target: str, with_headers: dict[str, str]) -> tuple[int, bytes]:
            async with client.get(target, headers=with_headers) as response:
                return response.status, await response.read()

        async def direct() -> tuple[int, bytes]:
            return await get(f"{party_base}/decpo/locations/LOC1", direct_headers)

        async def via_node() -> tuple[int, bytes]:
            return await get(f"{url}/scpi/sender/2.2/locations/LOC1", headers)

        await measure(via_node, 50, 5)  # warm up pools and caches
        await measure(direct, 50, 5)
        database = "sqlite" if database_url is None else database_url.split(":", 1)[0]
        for c in sorted({1, concurrency}):
            print(f"{requests} GET locations/LOC1, concurrency {c}, database {database}:")
            direct_rate, direct_lat = await measure(direct, requests, c)
            node_rate, node_lat = await measure(via_node, requests, c)
            report("direct", direct_rate, direct_lat)
            report("via node", node_rate, node_lat)
            added = statistics.median(node_lat) - statistics.median(direct_lat)
            print(
                f"  ratio     {node_rate / direct_rate:8.2f} of the direct rate; "
                f"the node adds {added * 1000:.2f} ms at the median"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--database-url", help="an empty database; default: a new SQLite file")
    options = parser.parse_args()
    asyncio.run(main(options.requests, options.concurrency, options.database_url))
