"""Fixtures shared across the suite: the tutorial accounts, an in-process registry, databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester
from web3 import AsyncWeb3

from scn_node.devnet.chain import dev_account
from scn_node.registry import RegistryContract
from tests.chain import new_tester, tester_web3
from tests.postgres import PostgresServer, server_binaries

TESTS = Path(__file__).parent
# `scripts/check --fast` runs the tests that need no chain, no PostgreSQL and no processes. They are
# told apart here, by the fixtures and folders a test uses, so no test has to remember a marker.
_CHAIN_FIXTURES = frozenset({"tester", "w3", "registry", "chain", "deployed", "postgres"})
_PROCESS_FOLDERS = frozenset({"contracts", "devnet", "docker", "e2e", "network", "registry_cli"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if (
            _CHAIN_FIXTURES & set(getattr(item, "fixturenames", ()))
            or params.get("database_url") == "postgresql"
            or item.path.relative_to(TESTS).parts[0] in _PROCESS_FOLDERS
            or item.get_closest_marker("ganache") is not None
        ):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def accounts() -> list[LocalAccount]:
    """The 20 accounts of the tutorial mnemonic; 0 owns the registry, 14 is node 1, 19 is DE MSP."""
    return [dev_account(i) for i in range(20)]


@pytest.fixture
def tester() -> EthereumTester:
    return new_tester()


@pytest.fixture
def w3(tester: EthereumTester) -> AsyncWeb3[Any]:
    return tester_web3(tester)


@pytest.fixture
async def registry(
    w3: AsyncWeb3[Any], accounts: list[LocalAccount]
) -> AsyncIterator[RegistryContract]:
    """A fresh registry deployed by account 0 at the local network's address."""
    contract, _ = await RegistryContract.deploy(w3, accounts[0], at_nonce=2)
    yield contract


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the session, from the machine's server binaries."""
    bin_dir = server_binaries()
    if bin_dir is None:
        pytest.fail(
            "PostgreSQL server binaries not found (install postgresql-15 or set SCN_PG_BIN); "
            "the node and store suites run on PostgreSQL too"
        )
    server = PostgresServer.start(bin_dir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every test that uses a database runs twice: on SQLite and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'node.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return await server.new_database()
