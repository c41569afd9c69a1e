"""Start the local chain alone: ganache with the tutorial's settings, and the registry deploy.

    python ganache/start.py [--port 8544] [--no-deploy]

Ctrl-C stops ganache.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from scn_node.devnet.chain import (
    DEFAULT_PORT,
    MNEMONIC,
    Ganache,
    deploy_registry,
    dev_account,
    wait_for_stop_signal,
)


def main() -> int:
    parser = argparse.ArgumentParser(description="the local SCN chain")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--no-deploy", action="store_true", help="leave the chain empty")
    args = parser.parse_args()
    with Ganache(port=args.port, log=sys.stderr) as chain:
        print(f"ganache on {chain.rpc_url} (chain id {chain.chain_id}), mnemonic: {MNEMONIC}")
        if not args.no_deploy:
            address, receipt = asyncio.run(deploy_registry(chain.rpc_url))
            print(f"registry {address}, owner {dev_account(0).address}, gas {receipt.gas_used}")
        print("press Ctrl-C to stop", flush=True)
        wait_for_stop_signal()
    return 0


if __name__ == "__main__":
    sys.exit(main())
