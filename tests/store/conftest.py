"""SqlDirectory on a fresh database. The store is where the database dialect matters, so every
test here that uses a database runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from scn_node.devnet.postgres import PostgresServer
from scn_node.store import Database, SqlDirectory


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh SQLite database file (a node makes its schema), or a fresh database on the
    session's PostgreSQL server, migrated as an operator leaves it for the nodes."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'node.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return await server.new_database()


@pytest.fixture
async def empty_database_url(request: pytest.FixtureRequest, database_url: str) -> str:
    """A database on `database_url`'s kind with no tables at all, not even Alembic's."""
    if database_url.startswith("sqlite"):
        return database_url
    server: PostgresServer = request.getfixturevalue("postgres")
    return await server.new_database(migrated=False)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    # The migration, as production runs it (on SQLite ~10 ms more than create_all would take).
    await db.create_tables()
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def store(database: Database) -> SqlDirectory:
    return SqlDirectory(database)


@pytest.fixture
async def made_by_create_tables(empty_database_url: str) -> str:
    """An empty database, holding the tables as the node made them before Alembic (its
    create_tables): revision 0001's schema without the alembic_version table."""
    db = Database(empty_database_url)
    try:
        await db.migrate("0001")
        async with db.engine.begin() as connection:
            await connection.execute(text("DROP TABLE alembic_version"))
    finally:
        await db.close()
    return empty_database_url
