"""What the benchmarks share: a ganache chain with the registry, `scn-node serve` processes, the
fast party server, and parties registered with a node over SCPI. Everything on loopback; every
process started here is stopped when its context ends."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from eth_account.signers.local import LocalAccount
from web3 import AsyncHTTPProvider, AsyncWeb3

from scn_node.devnet.chain import Ganache, deploy_registry, dev_account, free_port
from scn_node.registry import RegistryContract
from scn_node.scpi.party import PartyId, Role

ROOT = Path(__file__).resolve().parents[1]
ADMIN_KEY = "bench-admin-key"
NODE_START_SECONDS = 60.0


@dataclass
class Node:
    url: str
    account: LocalAccount
    process: subprocess.Popen[str]
    log: Path  # the node's own log (stderr)


@asynccontextmanager
async def chain() -> AsyncIterator[tuple[str, RegistryContract]]:
    """A fresh ganache with the registry deployed: its RPC URL and the registry."""
    ganache = Ganache(port=0).start()
    try:
        address, _ = await deploy_registry(ganache.rpc_url)
        registry = RegistryContract(AsyncWeb3(AsyncHTTPProvider(ganache.rpc_url)), address)
        try:
            yield ganache.rpc_url, registry
        finally:
            await registry.close()
    finally:
        ganache.stop()


@asynccontextmanager
async def party_server() -> AsyncIterator[str]:
    """bench/party_server.py (one process for all parties): its base URL."""
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "party_server.py")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(server.stdout.readline), 30)
        assert line.startswith("http://"), f"the party server did not start: {line!r}"
        yield line.strip()
    finally:
        server.terminate()
        server.wait(timeout=10)


@asynccontextmanager
async def node(
    registry: RegistryContract,
    index: int,
    rpc_url: str,
    workdir: Path,
    client: str = "aiohttp",
) -> AsyncIterator[Node]:
    """`scn-node serve` for dev account `index`, listed in the registry, on a free port."""
    account = dev_account(index)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    await registry.set_node(account, url)
    env = {
        **os.environ,
        "SCN_NODE_URL": url,
        "SCN_PORT": str(port),
        "SCN_PRIVATE_KEY": "0x" + bytes(account.key).hex(),
        "SCN_ADMIN_API_KEY": ADMIN_KEY,
        "SCN_RPC_URL": rpc_url,
        "SCN_DATABASE_URL": f"sqlite:///{workdir / f'node{index}.db'}",
        "SCN_LOG_LEVEL": "WARNING",
        "SCN_HTTP_CLIENT": client,
    }
    log = workdir / f"node{index}.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "scn_node", "serve"],
            env=env, stdout=subprocess.PIPE, stderr=log_file, text=True,
        )  # fmt: skip
    try:
        assert process.stdout is not None
        # The readiness line; then stdout stays quiet (the log goes to stderr, into `log`).
        line = await asyncio.wait_for(
            asyncio.to_thread(process.stdout.readline), NODE_START_SECONDS
        )
        assert "is listening" in line, f"node {index} did not start: {line!r}, {log.read_text()}"
        yield Node(url, account, process, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def register(
    session: aiohttp.ClientSession,
    registry: RegistryContract,
    at: str,
    operator: str,
    party: PartyId,
    role: Role,
    account: LocalAccount,
    party_base: str,
) -> str:
    """List `party` with `operator` (the address of the node at URL `at`), register it with that
    node over SCPI; its TOKEN_C."""
    await registry.set_party(account, party, [role], operator)
    admin = {"Authorization": f"Token {ADMIN_KEY}"}
    async with session.post(f"{at}/admin/generate-registration-token", headers=admin) as r:
        token_a = (await r.json())["token"]
    name = f"{party.country_code}{party.party_id}".lower()
    credentials = {
        "token": "token-b",
        "url": f"{party_base}/{name}/versions",
        "roles": [
            {"role": role.value, "business_details": {"name": name},
             "party_id": party.party_id, "country_code": party.country_code}
        ],
    }  # fmt: skip
    async with session.post(
        f"{at}/scpi/2.2/credentials",
        json=credentials,
        headers={"Authorization": f"Token {token_a}"},
    ) as r:
        body = await r.json()
    assert body["status_code"] == 1000, body
    return str(body["data"]["token"])


def routing(token: str, sender: PartyId, receiver: PartyId) -> dict[str, str]:
    return {
        "Authorization": f"Token {token}",
        "X-Request-ID": "bench",
        "X-Correlation-ID": "bench",
        "SCPI-from-country-code": sender.country_code,
        "SCPI-from-party-id": sender.party_id,
        "SCPI-to-country-code": receiver.country_code,
        "SCPI-to-party-id": receiver.party_id,
    }


def percentile(values: list[float], share: float) -> float:
    """The `share` percentile of `values` (seconds), in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000
