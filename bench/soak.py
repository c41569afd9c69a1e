"""Soak: many clients on the local route for a while; errors, latency and the node's memory.

    .venv/bin/python bench/soak.py [--clients 100] [--seconds 60] [--warm-up 5]

A real ganache chain, one `scn-node serve` process and the fast party server run on this machine
with the load generator. Each client sends `GET locations/LOC1` from DE MSP to DE CPO through the
node, one request after another, on a kept-alive connection. The node's resident memory (VmRSS)
is read after the warm-up and at the end. Targets: no errors, and RSS growth under 10 %. Exits 1
when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack, suppress
from pathlib import Path

import aiohttp
from testbed import chain, node, party_server, percentile, register, routing

from scn_node.devnet.chain import dev_account
from scn_node.scpi.party import PartyId, Role

LOCATION = "scpi/sender/2.2/locations/LOC1"
MAX_RSS_GROWTH = 0.10
SAMPLE_SECONDS = 5.0


def rss_kib(pid: int) -> int:
    """The process's resident set size (VmRSS), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def log_message(line: str) -> str:
    """A node log line's message (the node logs JSON by default)."""
    try:
        record = json.loads(line)
    except ValueError:
        return line
    return f"{record.get('level', '')} {record.get('message', line)}".strip()


async def load(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], clients: int, seconds: float
) -> tuple[list[float], Counter[str]]:
    """`clients` clients sending one request after another for `seconds`."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    deadline = time.monotonic() + seconds

    async def client() -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                async with session.get(url, headers=headers) as response:
                    body = await response.read()
                    status_code = json.loads(body).get("status_code")
                    if response.status != 200 or status_code != 1000:
                        errors[f"HTTP {response.status}, SCPI {status_code}"] += 1
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                errors[type(error).__name__] += 1
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors


async def sample_rss(pid: int, samples: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append(rss_kib(pid))
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)


async def main(clients: int, seconds: float, warm_up: float) -> bool:
    async with AsyncExitStack() as stack:
        rpc_url, registry = await stack.enter_async_context(chain())
        party_base = await stack.enter_async_context(party_server())
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        hub = await stack.enter_async_context(node(registry, 14, rpc_url, tmp))
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=30)
        session = await stack.enter_async_context(
            aiohttp.ClientSession(connector=connector, timeout=timeout)
        )
        msp, cpo = PartyId("DE", "MSP"), PartyId("DE", "CPO")
        token = await register(
            session,
            registry,
            hub.url,
            hub.account.address,
            msp,
            Role.EMSP,
            dev_account(19),
            party_base,
        )
        await register(
            session,
            registry,
            hub.url,
            hub.account.address,
            cpo,
            Role.CPO,
            dev_account(1),
            party_base,
        )
        url, headers = f"{hub.url}/{LOCATION}", routing(token, msp, cpo)

        assert hub.process is not None
        pid = hub.process.pid
        _, warm_up_errors = await load(session, url, headers, clients, warm_up)
        start_rss = rss_kib(pid)
        load_before = os.getloadavg()
        samples: list[int] = []
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_rss(pid, samples, stop))
        started = time.perf_counter()
        latencies, errors = await load(session, url, headers, clients, seconds)
        elapsed = time.perf_counter() - started
        stop.set()
        await sampler
        end_rss = rss_kib(pid)
        load_after = os.getloadavg()
        log_lines = hub.logs().splitlines()

    growth = (end_rss - start_rss) / start_rss
    error_count = sum(errors.values())
    print(
        f"GET locations/LOC1 on the local route: {clients} clients for {seconds:.0f} s "
        f"after a {warm_up:.0f} s warm-up, {os.cpu_count()} CPUs, "
        f"load average {load_before[0]:.2f} before and {load_after[0]:.2f} after"
    )
    print(f"  requests   {len(latencies)} ({len(latencies) / elapsed:.0f} req/s)")
    print(f"  errors     {error_count}" + "".join(f"; {n} x {k}" for k, n in errors.items()))
    if warm_up_errors:
        print(f"  (warm-up errors: {sum(warm_up_errors.values())}, not counted)")
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    print(f"  latency    p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(
        f"  node RSS   {start_rss / 1024:.1f} MiB after the warm-up, {end_rss / 1024:.1f} MiB at "
        f"the end ({growth:+.1%}); highest sample {max(samples) / 1024:.1f} MiB"
    )
    print(f"  node log   {len(log_lines)} lines at WARNING or above")
    for message, count in Counter(map(log_message, log_lines)).most_common(3):
        print(f"             {count} x {message[:100]}")
    checks = [
        (f"{error_count} errors (none)", error_count == 0),
        (f"RSS growth {growth:+.1%} (under {MAX_RSS_GROWTH:.0%})", growth < MAX_RSS_GROWTH),
    ]
    for text, met in checks:
        print(f"  {'met ' if met else 'MISSED'}  {text}")
    return all(met for _, met in checks)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--warm-up", type=float, default=5.0, help="seconds of load before the first RSS reading"
    )
    options = parser.parse_args()
    sys.exit(0 if asyncio.run(main(options.clients, options.seconds, options.warm_up)) else 1)
