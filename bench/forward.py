"""Benchmark: a request forwarded through the node against the same request sent straight to the party.

    .venv/bin/python bench/forward.py [--requests 1000] [--concurrency 20] [--database sqlite|postgresql]

Both run in this process, against the same FakeParty, in the same run; the ratio is the node's cost.
The registry is in-process (eth-tester); a forwarded request makes no chain call anyway.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scn_node.devnet.chain import dev_account
from scn_node.registry import RegistryContract
from scn_node.scpi.party import Role
from tests.chain import new_tester, tester_web3
from tests.node.conftest import Network
from tests.postgres import PostgresServer, server_binaries


async def measure(
    send: Callable[[], Awaitable[httpx.Response]], requests: int, concurrency: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = iter(range(requests))

    async def worker() -> None:
        for _ in queue:
            started = time.perf_counter()
            response = await send()
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200 and response.json()["status_code"] == 1000

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


async def main(requests: int, concurrency: int, database: str) -> None:
    server = None
    if database == "postgresql":
        bin_dir = server_binaries()
        assert bin_dir is not None, "PostgreSQL server binaries not found"
        server = PostgresServer.start(bin_dir)
        url = await server.new_database()
    else:
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    registry, _ = await RegistryContract.deploy(tester_web3(new_tester()), dev_account(0))
    network = Network(registry, [dev_account(i) for i in range(20)], url)
    await network.start_node(log_level="WARNING")
    try:
        cpo = await network.connect("DE", "CPO", Role.CPO)
        emsp = await network.connect("DE", "MSP", Role.EMSP)
        headers = network.headers(emsp, cpo)
        direct_headers = {**headers, "Authorization": f"Token {cpo.token_b}"}
        location = cpo.endpoint("locations", "SENDER") + "/LOC1"
        async with httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=100)) as client:

            async def direct() -> httpx.Response:
                return await client.get(location, headers=direct_headers)

            async def via_node() -> httpx.Response:
                return await client.get(
                    f"{network.url}/scpi/sender/2.2/locations/LOC1", headers=headers
                )

            await measure(via_node, 50, 5)  # warm up pools and caches
            await measure(direct, 50, 5)
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
    finally:
        await network.close()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    options = parser.parse_args()
    asyncio.run(main(options.requests, options.concurrency, options.database))
