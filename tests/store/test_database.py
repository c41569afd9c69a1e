"""Database: the migration of a database made before roles had `active`, and SQLite in memory."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from scn_node.scpi.hubclientinfo import ConnectionStatus
from scn_node.scpi.party import PartyId, Role
from scn_node.store import Database, SqlDirectory
from scn_node.store.database import head
from scn_node.store.tables import RoleRow
from tests.store.values import registration


async def test_roles_get_active_from_their_platforms_status(made_by_create_tables: str) -> None:
    old = Database(made_by_create_tables)
    now = datetime.now(UTC).replace(tzinfo=None)
    async with old.engine.begin() as connection:
        await connection.execute(text("DROP INDEX uq_roles_active_party_role"))
        await connection.execute(text("ALTER TABLE roles DROP COLUMN active"))
        for id_, status in ((1, "CONNECTED"), (2, "SUSPENDED")):
            await connection.execute(
                text(
                    "INSERT INTO platforms (id, status, token_form, last_updated, created_at) "
                    "VALUES (:id, :status, 'plain', :now, :now)"
                ),
                {"id": id_, "status": status, "now": now},
            )
            await connection.execute(
                text(
                    "INSERT INTO roles (platform_id, role, country_code, party_id, "
                    "business_details) VALUES (:id, 'CPO', 'DE', 'CPO', '{}')"
                ),
                {"id": id_},
            )
    await old.close()

    database = Database(made_by_create_tables)
    try:
        assert await database.migrate() == (None, head())
        assert await database.migrate() == (head(), head())  # and again: nothing left to do
        async with database.sessions() as session:
            rows = (await session.exec(select(RoleRow).order_by(col(RoleRow.id)))).all()
            assert [(r.platform_id, r.active) for r in rows] == [(1, True), (2, False)]
            session.add(
                RoleRow(
                    platform_id=2,
                    role="CPO",
                    country_code="DE",
                    party_id="CPO",
                    business_details="{}",
                    active=True,
                )
            )
            with pytest.raises(IntegrityError):  # the unique index on active roles is there
                await session.commit()
    finally:
        await database.close()


@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"])
async def test_an_in_memory_database_is_one_database_for_concurrent_writers(url: str) -> None:
    """Twenty registrations at once all land, and every session reads what the others wrote:
    the sessions take turns on the one connection that holds the database."""
    database = Database(url)
    try:
        await database.create_tables()
        store = SqlDirectory(database, cache_seconds=0)

        async def connect(n: int) -> None:
            planned = await store.issue_token_a(f"token-a-{n}", None)
            party = PartyId("DE", f"C{n:02d}")
            assert await store.register(planned.id, f"token-a-{n}", registration((party, Role.CPO)))

        await asyncio.gather(*(connect(n) for n in range(20)))
        connected = await store.connected_platforms()
        assert sorted(p.roles[0].party.party_id for p in connected) == [
            f"C{n:02d}" for n in range(20)
        ]
        assert {p.status for p in connected} == {ConnectionStatus.CONNECTED}
    finally:
        await database.close()


async def test_each_in_memory_database_is_its_own() -> None:
    first, second = Database("sqlite+aiosqlite://"), Database("sqlite+aiosqlite://")
    try:
        for database in (first, second):
            await database.create_tables()
        await SqlDirectory(first).issue_token_a("token-a", None)
        assert await SqlDirectory(first).authenticate("token-a") is not None
        assert await SqlDirectory(second).authenticate("token-a") is None
    finally:
        await first.close()
        await second.close()
