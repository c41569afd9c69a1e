"""SqlDirectory on a fresh database. The store is where the database dialect matters, so every
test here that uses a database runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from scn_node.devnet.postgres import PostgresServer
from scn_node.store import Database, SqlDirectory


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh SQLite database file, or a fresh database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'node.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return await server.new_database()


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    await db.create_tables()
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def store(database: Database) -> SqlDirectory:
    return SqlDirectory(database)
