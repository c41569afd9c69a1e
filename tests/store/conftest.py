"""SqlDirectory on a fresh database: every test that uses `store` runs on SQLite and PostgreSQL
(`database_url` in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from scn_node.store import Database, SqlDirectory


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
