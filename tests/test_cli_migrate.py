"""`scn-node migrate`, and `scn-node serve` on a PostgreSQL database that was not migrated."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from eth_account.signers.local import LocalAccount

from scn_node import cli
from scn_node.devnet.chain import free_port
from scn_node.devnet.postgres import PostgresServer
from scn_node.settings import Settings
from scn_node.store import Database
from scn_node.store.database import head


def migrate(database_url: str) -> Result:
    return CliRunner().invoke(cli.cli, ["migrate"], env={"SCN_DATABASE_URL": database_url})


def test_migrate_makes_a_new_sqlite_database_and_then_has_nothing_to_do(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'node.db'}"
    first = migrate(url)
    assert (first.exit_code, first.output) == (0, f"database schema: revision none -> {head()}\n")
    again = migrate(url)
    assert (again.exit_code, again.output) == (
        0,
        f"database schema: revision {head()} -> {head()}\n",
    )


def test_migrate_says_in_one_line_that_the_database_cannot_be_opened(tmp_path: Path) -> None:
    # In a process of its own: aiosqlite's thread for the failed connection outlives the loop.
    path = tmp_path / "missing" / "node.db"
    result = subprocess.run(
        [sys.executable, "-m", "scn_node", "migrate"],
        env={**os.environ, "SCN_DATABASE_URL": f"sqlite:///{path}"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"scn-node: the database at sqlite+aiosqlite:///{path} "
        "cannot be migrated: OperationalError: unable to open database file "
        f"(no folder {path.parent})\n"
    )


def test_migrate_upgrades_a_postgresql_database(postgres: PostgresServer) -> None:
    url = asyncio.run(postgres.new_database(migrated=False))
    result = migrate(url)
    assert (result.exit_code, result.output) == (0, f"database schema: revision none -> {head()}\n")


def test_migrate_to_a_postgresql_server_that_is_down_fails_in_one_line() -> None:
    port = free_port()  # nothing listens there
    result = migrate(f"postgresql://postgres@127.0.0.1:{port}/scn")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        f"scn-node: the database at postgresql+asyncpg://postgres@127.0.0.1:{port}/scn "
        "cannot be migrated: ConnectionRefusedError:"
    )


async def test_serve_refuses_a_postgresql_database_not_migrated_and_changes_nothing(
    postgres: PostgresServer,
    accounts: list[LocalAccount],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = await postgres.new_database(migrated=False)
    settings = Settings(
        database_url=url,
        private_key="0x" + bytes(accounts[14].key).hex(),
        permissions_address="",
    )
    assert await cli._serve(settings) == 2
    assert capsys.readouterr().err == (
        f"scn-node: the database is at revision none, this node needs {head()}: "
        "run `scn-node migrate`\n"
    )
    database = Database(url)
    try:
        assert await database.revision() is None
        async with database.engine.connect() as connection:
            assert await connection.run_sync(lambda c: c.dialect.get_table_names(c)) == []
    finally:
        await database.close()


def test_migrate_refuses_in_one_line_a_database_from_a_newer_node(tmp_path: Path) -> None:
    path = tmp_path / "node.db"
    assert migrate(f"sqlite:///{path}").exit_code == 0
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00d'")
    result = migrate(f"sqlite:///{path}")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"scn-node: the database at sqlite+aiosqlite:///{path} cannot be migrated: "
        "MigrationFailed: Can't locate revision identified by 'f00d'\n"
    )
