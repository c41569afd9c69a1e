"""What the benchmarks share: a ganache chain with the registry, `scn-node serve` processes, the
fast party server, and parties registered with a node over SCPI. Everything on loopback; every
process started here is stopped when its context ends."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from eth_account.signers.local import LocalAccount
from web3 import AsyncHTTPProvider, AsyncWeb3

from scn_node.devnet.chain import Ganache, deploy_registry, dev_account, free_port
from scn_node.devnet.joining import handshake, registration_token
from scn_node.devnet.nodes import NodeProcess
from scn_node.registry import RegistryContract
from scn_node.scpi.party import PartyId, Role

ROOT = Path(__file__).resolve().parents[1]
ADMIN_KEY = "bench-admin-key"


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
    registry: RegistryContract, index: int, rpc_url: str, workdir: Path
) -> AsyncIterator[NodeProcess]:
    """`scn-node serve` for dev account `index`, listed in the registry, on a free port."""
    account = dev_account(index)
    node = NodeProcess(
        number=index,
        account=account,
        port=free_port(),
        rpc_url=rpc_url,
        registry_address=registry.address,
        workdir=workdir,
        admin_api_key=ADMIN_KEY,
        env={"SCN_LOG_LEVEL": "WARNING"},
    )
    await registry.set_node(account, node.url)
    await node.start()
    try:
        yield node
    finally:
        await node.stop()


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
    name = f"{party.country_code}{party.party_id}".lower()
    credentials = {
        "token": "token-b",
        "url": f"{party_base}/{name}/versions",
        "roles": [
            {"role": role.value, "business_details": {"name": name},
             "party_id": party.party_id, "country_code": party.country_code}
        ],
    }  # fmt: skip
    token_a, versions = await registration_token(session, at, ADMIN_KEY)
    return (await handshake(session, versions, token_a, credentials)).token_c


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
