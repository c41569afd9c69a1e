"""Database.create_tables on a database made before roles had `active`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from scn_node.store import Database
from scn_node.store.tables import RoleRow


async def test_roles_get_active_from_their_platforms_status(database_url: str) -> None:
    old = Database(database_url)
    await old.create_tables()
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

    database = Database(database_url)
    try:
        await database.create_tables()
        await database.create_tables()  # and again: nothing left to do
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
