"""scripts/two-nodes: ganache, the SCN Registry and two `scn-node serve` processes on free ports.

    scripts/two-nodes [--database sqlite|postgresql] [--env SCN_X=Y]… [--workdir DIR] [--json]

prints the nodes' URLs (or one JSON line); Ctrl-C or SIGTERM stops it all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from scn_node.devnet.network import ADMIN_KEY, NODE_ACCOUNTS, Chain, TwoNodes
from scn_node.devnet.postgres import PostgresServer, server_binaries


def _parse_env(pairs: Iterable[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.startswith("SCN_"):
            raise SystemExit(f"--env takes SCN_NAME=VALUE, not {pair!r}")
        env[name] = value
    return env


async def _run(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="scn-two-nodes-"))
    env = _parse_env(args.env)
    postgres = None
    chain = await asyncio.to_thread(Chain.start, workdir)
    try:
        databases: dict[int, str] = {}
        if args.database == "postgresql":
            bin_dir = server_binaries()
            if bin_dir is None:
                print("two-nodes: PostgreSQL server binaries not found", file=sys.stderr)
                return 2
            postgres = await asyncio.to_thread(PostgresServer.start, bin_dir)
            databases = {n: await postgres.new_database() for n in NODE_ACCOUNTS}
        async with TwoNodes(chain, workdir, env=env, database_urls=databases) as network:
            if args.json:
                print(json.dumps(network.describe()), flush=True)
            else:
                print(f"ganache   {chain.rpc_url}   registry {chain.registry_address}")
                for node in network.nodes.values():
                    print(f"node {node.number}    {node.url}   wallet {node.address}")
                    print(f"          database {node.database_url}   logs {node.log_path}")
                print(f"admin API key {ADMIN_KEY}")
                print("two nodes are up; press Ctrl-C to stop", flush=True)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            await stop.wait()
            print("two-nodes: stopping", file=sys.stderr)
    finally:
        await asyncio.to_thread(chain.stop)
        if postgres is not None:
            await asyncio.to_thread(postgres.stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/two-nodes",
        description="ganache, the SCN Registry and two `scn-node serve` processes on free ports",
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="SCN_NAME=VALUE",
        help="an extra setting for both nodes (repeatable)",
    )
    parser.add_argument("--workdir", help="where databases and logs go (default: a new temp dir)")
    parser.add_argument("--json", action="store_true", help="print the URLs as one JSON line")
    args = parser.parse_args(argv)
    return asyncio.run(_run(args))


if __name__ == "__main__":
    sys.exit(main())
