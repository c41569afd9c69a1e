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
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import AsyncHTTPProvider, AsyncWeb3

from scn_node.devnet.chain import Ganache, deploy_registry, dev_account, free_port
from scn_node.devnet.joining import handshake, registration_token
from scn_node.devnet.nodes import NodeProcess
from scn_node.devnet.postgres import PostgresServer, server_binaries
from scn_node.registry import RegistryContract
from scn_node.registry.listings import role_indices
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
async def party_server(*options: str) -> AsyncIterator[str]:
    """bench/party_server.py (one process for all parties) with `options`: its base URL."""
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "party_server.py"), *options],
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
async def postgres_database() -> AsyncIterator[str]:
    """A throwaway PostgreSQL server from the machine's binaries: a new database's URL."""
    binaries = server_binaries()
    if binaries is None:
        raise RuntimeError("PostgreSQL server binaries not found (set SCN_PG_BIN)")
    server = await asyncio.to_thread(PostgresServer.start, binaries)
    try:
        yield await server.new_database()
    finally:
        await asyncio.to_thread(server.stop)


@asynccontextmanager
async def node(
    registry: RegistryContract, index: int, rpc_url: str, workdir: Path, database_url: str = ""
) -> AsyncIterator[NodeProcess]:
    """`scn-node serve` for dev account `index`, listed in the registry, on a free port; its
    database is `database_url`, or a new SQLite file in `workdir`."""
    account = dev_account(index)
    node = NodeProcess(
        number=index,
        account=account,
        port=free_port(),
        rpc_url=rpc_url,
        registry_address=registry.address,
        workdir=workdir,
        admin_api_key=ADMIN_KEY,
        database_url=database_url,
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
    return await connect(session, at, party, role, party_base, "token-b")


async def list_signed(
    registry: RegistryContract, operator: str, party: PartyId, role: Role, spender: LocalAccount
) -> None:
    """List `party` with `operator`'s node for any number of parties: each is listed by a new
    account that signs its listing, submitted (and paid for) by `spender`."""
    fields = {
        "countryCode": party.country_code,
        "partyId": party.party_id,
        "roles": role_indices([role]),
        "operator": operator,
    }
    await registry.submit(spender, await registry.sign(Account.create(), "SetParty", fields))


def name_of(party: PartyId) -> str:
    """The party's base path on the party server: "demsp" for DE MSP."""
    return f"{party.country_code}{party.party_id}".lower()


async def connect(
    session: aiohttp.ClientSession,
    at: str,
    party: PartyId,
    role: Role,
    party_base: str,
    token_b: str,
) -> str:
    """The credentials handshake of a listed `party` with the node at URL `at`; its TOKEN_C."""
    name = name_of(party)
    credentials = {
        "token": token_b,
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
