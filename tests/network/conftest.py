"""Two real `scn-node serve` processes on a real ganache chain (see harness.py).

* `network_chain` (session): ganache, the registry deployed and both nodes listed, with the CLI.
* `two_nodes`: both nodes started fresh for the test (new databases, same listed URLs), and
  everything it connected removed again afterwards: listings deleted, nodes stopped with SIGTERM
  and checked to exit 0.
* `start_network(chain=None, node_env=None, **env)`: the same with extra `SCN_*` settings
  (e.g. `SCN_STILL_ALIVE_SECONDS="1"`) or on another chain.
* `own_chain`: a chain of the test's own, for tests that stop the RPC provider.
* `shared_network` / `shared_ocn` (module): one network with OCN's three parties for a whole
  module of tests that only send requests; such a module runs its tests in one event loop
  (`pytest.mark.asyncio(loop_scope="module")`) and clears the parties' recordings per test
  (`fresh_ocn`).

`SCN_NETWORK_DATABASE=postgresql` runs the nodes on a throwaway PostgreSQL server instead of SQLite.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from pathlib import Path

import pytest
import pytest_asyncio

from tests.network.harness import NODE_ACCOUNTS, Chain, OcnParties, TwoNodes, ocn_parties

# Short enough that a hop that hangs fails a test quickly, long enough for a loaded CI machine.
TEST_ENV = {"SCN_PARTY_TIMEOUT": "10"}

StartNetwork = Callable[..., Awaitable[TwoNodes]]


@pytest.fixture(scope="session")
def network_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    chain = Chain.start(tmp_path_factory.mktemp("network-chain"))
    try:
        yield chain
    finally:
        chain.stop()


@pytest.fixture
def own_chain(tmp_path: Path) -> Iterator[Chain]:
    chain = Chain.start(tmp_path / "chain")
    try:
        yield chain
    finally:
        chain.stop()


async def open_network(
    request: pytest.FixtureRequest,
    chain: Chain,
    workdir: Path,
    node_env: Mapping[int, Mapping[str, str]] | None = None,
    **env: str,
) -> TwoNodes:
    """A TwoNodes not yet started, on SQLite or (SCN_NETWORK_DATABASE) PostgreSQL."""
    databases: dict[int, str] = {}
    if os.environ.get("SCN_NETWORK_DATABASE") == "postgresql":
        server = request.getfixturevalue("postgres")
        databases = {n: await server.new_database() for n in NODE_ACCOUNTS}
    return TwoNodes(
        chain, workdir, env={**TEST_ENV, **env}, node_env=node_env, database_urls=databases
    )


@pytest.fixture
async def start_network(
    network_chain: Chain, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[StartNetwork]:
    started: list[TwoNodes] = []

    async def start(
        chain: Chain | None = None,
        node_env: Mapping[int, Mapping[str, str]] | None = None,
        **env: str,
    ) -> TwoNodes:
        workdir = tmp_path / f"network{len(started)}"
        network = await open_network(request, chain or network_chain, workdir, node_env, **env)
        started.append(network)
        await network.start()
        return network

    try:
        yield start
    finally:
        failures = []
        for network in reversed(started):
            try:
                await network.close()
            except AssertionError as error:
                failures.append(str(error))
        assert not failures, "\n".join(failures)


@pytest.fixture
async def two_nodes(start_network: StartNetwork) -> TwoNodes:
    return await start_network()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_network(
    network_chain: Chain, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[TwoNodes]:
    network = await open_network(request, network_chain, tmp_path_factory.mktemp("shared"))
    try:
        await network.start()
        yield network
    finally:
        await network.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_ocn(shared_network: TwoNodes) -> OcnParties:
    return await ocn_parties(shared_network)


@pytest.fixture
def fresh_ocn(shared_network: TwoNodes, shared_ocn: OcnParties) -> OcnParties:
    """The shared parties with nothing recorded yet: what a test sees is its own traffic."""
    for party in shared_network.parties:
        party.received.clear()
    for results in shared_ocn.results.values():
        results.clear()
    return shared_ocn
