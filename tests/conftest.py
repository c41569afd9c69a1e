"""Fixtures shared across the suite: the tutorial accounts, an in-process registry, databases.

One in-process py-evm chain serves the whole session: the registry is deployed on it once and a
snapshot taken, and every test that uses the chain starts by reverting to that snapshot (as
tests/contracts/conftest.py does), so each sees a freshly deployed registry for the cost of a revert.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester
from web3 import AsyncWeb3

from scn_node.devnet.chain import dev_account
from scn_node.devnet.postgres import PostgresServer, server_binaries
from scn_node.registry import RegistryContract
from tests.chain import new_tester, tester_web3

TESTS = Path(__file__).parent
# `scripts/check --fast` runs the tests that need no chain, no PostgreSQL and no processes. They are
# told apart here, by the fixtures and folders a test uses, so no test has to remember a marker.
_CHAIN_FIXTURES = frozenset(
    {"session_chain", "tester", "w3", "registry", "chain", "deployed", "postgres"}
)
_PROCESS_FOLDERS = frozenset({"contracts", "devnet", "docker", "e2e", "network", "registry_cli"})


# The longest files, started first so the others fill the cores around them (scripts/check runs
# the files in parallel, in this order).
_LONGEST_FIRST = ("docker", "api", "e2e", "network", "devnet")


def _started(item: pytest.Item) -> int:
    folder = item.path.relative_to(TESTS).parts[0]
    return _LONGEST_FIRST.index(folder) if folder in _LONGEST_FIRST else len(_LONGEST_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_started)  # stable: the order within a folder is kept
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


@dataclass(frozen=True)
class SessionChain:
    tester: EthereumTester
    registry_address: str
    snapshot: Any  # eth-tester's snapshot id


@pytest.fixture(scope="session")
def session_chain(accounts: list[LocalAccount]) -> SessionChain:
    """The registry deployed by account 0 at the local network's address, once per session."""
    tester = new_tester()

    async def deploy() -> str:
        contract, _ = await RegistryContract.deploy(tester_web3(tester), accounts[0], at_nonce=2)
        return contract.address

    # A session fixture outlives every test's event loop, so it deploys on a loop of its own.
    address = asyncio.run(deploy())
    return SessionChain(tester, address, tester.take_snapshot())


@pytest.fixture
def tester(session_chain: SessionChain) -> EthereumTester:
    """The session's chain, rewound to just after the registry was deployed."""
    session_chain.tester.revert_to_snapshot(session_chain.snapshot)
    return session_chain.tester


@pytest.fixture
def w3(tester: EthereumTester) -> AsyncWeb3[Any]:
    return tester_web3(tester)


@pytest.fixture
def registry(w3: AsyncWeb3[Any], session_chain: SessionChain) -> RegistryContract:
    """A fresh wrapper (no nonces remembered from another test) over the freshly rewound registry."""
    return RegistryContract(w3, session_chain.registry_address)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the session, from the machine's server binaries."""
    bin_dir = server_binaries()
    if bin_dir is None:
        pytest.fail(
            "PostgreSQL server binaries not found (install postgresql-15 or set SCN_PG_BIN); "
            "the store suite runs on PostgreSQL too"
        )
    server = PostgresServer.start(bin_dir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A fresh SQLite database file. The database is the subject only in tests/store, which runs
    its tests on PostgreSQL too (tests/store/conftest.py overrides this)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'node.db'}"
