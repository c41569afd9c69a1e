"""The Alembic migration: it makes exactly the node's tables, upgrades a database the node made
before Alembic in place (its data kept), and a node on PostgreSQL never changes the schema."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from scn_node.store import Database, SqlDirectory
from scn_node.store.database import SchemaNotCurrent, head


def _differences(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), SQLModel.metadata))


async def differences(database: Database) -> list[Any]:
    """What Alembic's autogenerate would change to reach the tables in scn_node/store/tables.py."""
    async with database.engine.connect() as connection:
        return await connection.run_sync(_differences)


async def table_names(database: Database) -> list[str]:
    async with database.engine.connect() as connection:
        return sorted(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_the_migrated_schema_is_the_nodes_tables(empty_database_url: str) -> None:
    database = Database(empty_database_url)
    try:
        assert await database.revision() is None
        assert await database.migrate() == (None, head())
        assert await database.revision() == head()
        assert await differences(database) == []
        assert await table_names(database) == sorted([*SQLModel.metadata.tables, "alembic_version"])
    finally:
        await database.close()


async def test_a_database_made_by_create_tables_is_stamped_and_keeps_its_data(
    made_by_create_tables: str,
) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    database = Database(made_by_create_tables)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO proxies (uid, caller_country_code, caller_party_id, "
                    "target_country_code, target_party_id, url, module, interface, created_at) "
                    "VALUES ('u1', 'DE', 'MSP', 'DE', 'CPO', 'https://cpo.example/l', "
                    "'locations', 'SENDER', :now)"
                ),
                {"now": now},
            )
        assert await database.revision() is None
        assert await database.migrate() == (None, head())
        assert await differences(database) == []
        proxy = await SqlDirectory(database).proxy("u1")
        assert proxy is not None and proxy.url == "https://cpo.example/l"
    finally:
        await database.close()


async def test_an_older_database_gets_its_columns_and_missing_tables(
    made_by_create_tables: str,
) -> None:
    """A database from before roles.active, platforms.rules, platforms.version and the
    hub_objects table: the migration leaves it exactly at the node's schema."""
    database = Database(made_by_create_tables)
    try:
        async with database.engine.begin() as connection:
            for statement in (
                "DROP INDEX uq_roles_active_party_role",
                "ALTER TABLE roles DROP COLUMN active",
                "ALTER TABLE platforms DROP COLUMN rules",
                "ALTER TABLE platforms DROP COLUMN version",
                "DROP TABLE hub_objects",
            ):
                await connection.execute(text(statement))
        assert await differences(database) != []
        assert await database.migrate() == (None, head())
        assert await differences(database) == []
    finally:
        await database.close()


async def test_a_starting_node_migrates_sqlite_but_never_changes_postgresql(
    empty_database_url: str,
) -> None:
    database = Database(empty_database_url)
    try:
        if database.engine.dialect.name == "sqlite":
            await database.prepare()  # one process owns the file: it migrates
            assert await database.revision() == head()
            return
        with pytest.raises(SchemaNotCurrent) as refused:
            await database.prepare()
        assert str(refused.value) == (
            f"the database is at revision none, this node needs {head()}: run `scn-node migrate`"
        )
        assert await table_names(database) == []  # nothing made
        await database.migrate()
        await database.prepare()  # at head: the node may start
    finally:
        await database.close()
