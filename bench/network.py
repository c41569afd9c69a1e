"""Benchmark: requests per second and latency of one GET along four routes, in one run.

    .venv/bin/python bench/network.py [--requests 2000] [--levels 1,8,32,128]

(a) straight to a fast party server, (n) through nginx `proxy_pass` (Debian's package, one
worker, pooled keep-alive upstream: what an operator compares a hub with), (b) through one node
(local route), (c) through two nodes (remote route). A real ganache chain, two `scn-node serve`
processes and the party server (one process for all parties) run on this machine with the load
generator, as they would on a 2-core host; ratios are against (a), measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
from testbed import chain, node, party_server, percentile, register, routing

from scn_node.devnet.chain import dev_account
from scn_node.devnet.nginx import Nginx
from scn_node.scpi.party import PartyId, Role

LOCATION = "scpi/sender/2.2/locations/LOC1"


async def measure(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], requests: int, clients: int
) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    remaining = iter(range(requests))

    async def worker() -> None:
        nonlocal errors
        for _ in remaining:
            started = time.perf_counter()
            try:
                async with session.get(url, headers=headers) as response:
                    body = await response.read()
                    ok = response.status == 200 and json.loads(body)["status_code"] == 1000
            except aiohttp.ClientError:
                ok = False
            latencies.append(time.perf_counter() - started)
            errors += not ok

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return requests / (time.perf_counter() - started), latencies, errors


async def main(requests: int, levels: list[int]) -> None:
    async with AsyncExitStack() as stack:
        rpc_url, registry = await stack.enter_async_context(chain())
        party_base = await stack.enter_async_context(party_server())
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        nginx = await Nginx.start(tmp, [party_base.removeprefix("http://")])
        stack.callback(nginx.stop)
        one = await stack.enter_async_context(node(registry, 14, rpc_url, tmp))
        two = await stack.enter_async_context(node(registry, 2, rpc_url, tmp))
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        session = await stack.enter_async_context(aiohttp.ClientSession(connector=connector))
        msp, local_cpo, remote_cpo = (
            PartyId("DE", "MSP"),
            PartyId("DE", "CPO"),
            PartyId("NL", "CPO"),
        )
        token = await register(
            session,
            registry,
            one.url,
            one.account.address,
            msp,
            Role.EMSP,
            dev_account(19),
            party_base,
        )
        await register(
            session,
            registry,
            one.url,
            one.account.address,
            local_cpo,
            Role.CPO,
            dev_account(1),
            party_base,
        )
        await register(
            session,
            registry,
            two.url,
            two.account.address,
            remote_cpo,
            Role.CPO,
            dev_account(3),
            party_base,
        )
        routes = {
            "direct": (f"{party_base}/decpo/locations/LOC1", {"Authorization": "Token token-b"}),
            "nginx": (f"{nginx.url}/decpo/locations/LOC1", {"Authorization": "Token token-b"}),
            "local": (f"{one.url}/{LOCATION}", routing(token, msp, local_cpo)),
            "remote": (f"{one.url}/{LOCATION}", routing(token, msp, remote_cpo)),
        }
        for url, headers in routes.values():  # warm up connections, caches and the JIT-less VM
            await measure(session, url, headers, 200, 8)
        print(f"GET locations/LOC1, {requests} requests per cell, {os.cpu_count()} CPUs\n")
        print(f"{'clients':>7} {'route':<7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'vs direct':>9} {'p50 +ms':>8} {'p99 +ms':>8} {'errors':>6}")  # fmt: skip
        results: dict[tuple[int, str], tuple[float, float, float, int]] = {}
        for clients in levels:
            for name, (url, headers) in routes.items():
                rate, latencies, errors = await measure(session, url, headers, requests, clients)
                results[clients, name] = (
                    rate,
                    percentile(latencies, 0.5),
                    percentile(latencies, 0.99),
                    errors,
                )
            base_rate, base_p50, base_p99, _ = results[clients, "direct"]
            for name in routes:
                rate, p50, p99, errors = results[clients, name]
                print(f"{clients:>7} {name:<7} {rate:>8.0f} {p50:>8.2f} {p99:>8.2f} "
                      f"{rate / base_rate:>9.2f} {p50 - base_p50:>8.2f} {p99 - base_p99:>8.2f} "
                      f"{errors:>6}")  # fmt: skip
        print()
        report_targets(results, levels)


def report_targets(
    results: dict[tuple[int, str], tuple[float, float, float, int]], levels: list[int]
) -> None:
    def added(clients: int, name: str, column: int) -> float:
        return results[clients, name][column] - results[clients, "direct"][column]

    checks: list[tuple[str, bool]] = []
    if 1 in levels:
        for name, column, limit, label in (
            ("local", 1, 1.0, "p50"),
            ("local", 2, 3.0, "p99"),
            ("remote", 1, 3.0, "p50"),
        ):
            value = added(1, name, column)
            text = f"1 client, {name} route adds {value:.2f} ms at {label} (<= {limit:.0f} ms)"
            checks.append((text, value <= limit))
    if 32 in levels:
        share = results[32, "local"][0] / results[32, "direct"][0]
        checks.append(
            (f"32 clients, local route at {share:.0%} of direct (>= 45 %)", share >= 0.45)
        )
        of_nginx = results[32, "local"][0] / results[32, "nginx"][0]
        checks.append(
            (f"32 clients, local route at {of_nginx:.0%} of nginx (>= 50 %)", of_nginx >= 0.5)
        )
    if 128 in levels:
        errors = sum(results[128, name][3] for name in ("direct", "nginx", "local", "remote"))
        checks.append((f"128 clients, {errors} errors (none)", errors == 0))
    for text, met in checks:
        print(f"  {'met ' if met else 'MISSED'}  {text}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--levels", default="1,8,32,128")
    options = parser.parse_args()
    levels = [int(x) for x in options.levels.split(",")]
    asyncio.run(main(options.requests, levels))
