"""Each platform's SCPI version: kept with its registration, and filled in as 2.2 when a database
made before the node spoke 2.2.1 is opened (it spoke only 2.2 then)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from sqlalchemy import text

from scn_node.scpi.party import Role
from scn_node.store import Database, SqlDirectory
from scn_node.store.database import head
from tests.store.values import CPO, MSP, registration


async def test_the_version_is_kept_with_the_registration(store: SqlDirectory) -> None:
    token_a = "token-a-1"
    planned = await store.issue_token_a(token_a, None)
    assert planned.version is None  # no handshake yet: no version
    done = dataclasses.replace(registration((CPO, Role.CPO)), version="2.2.1")
    registered = await store.register(planned.id, token_a, done)
    assert registered is not None and registered.version == "2.2.1"
    assert (await store.platform(planned.id)).version == "2.2.1"  # type: ignore[union-attr]
    assert (await store.platform_of(CPO)).version == "2.2.1"  # type: ignore[union-attr]
    (listed,), _ = await store.platforms(0, 10)
    assert listed.version == "2.2.1"

    again = dataclasses.replace(done, version="2.2", token_c="token-c-2")
    updated = await store.register(planned.id, done.token_c, again)
    assert updated is not None and updated.version == "2.2"
    left = await store.unregister(planned.id)
    assert left is not None and left.version == "2.2"  # what it last registered with


async def test_a_database_from_before_versions_gets_2_2_for_registered_platforms(
    made_by_create_tables: str,
) -> None:
    old = Database(made_by_create_tables)
    now = datetime.now(UTC).replace(tzinfo=None)
    async with old.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE platforms DROP COLUMN version"))
        for id_, status, versions_url in (
            (1, "CONNECTED", "https://cpo.example/versions"),
            (2, "SUSPENDED", "https://msp.example/versions"),
            (3, "PLANNED", None),  # an unused TOKEN_A
        ):
            await connection.execute(
                text(
                    "INSERT INTO platforms (id, status, token_form, versions_url, last_updated, "
                    "created_at) VALUES (:id, :status, 'plain', :url, :now, :now)"
                ),
                {"id": id_, "status": status, "url": versions_url, "now": now},
            )
        for id_, party in ((1, CPO), (2, MSP)):
            await connection.execute(
                text(
                    "INSERT INTO roles (platform_id, role, country_code, party_id, "
                    "business_details, active) VALUES (:id, 'CPO', :cc, :pid, '{}', :active)"
                ),
                {"id": id_, "cc": party.country_code, "pid": party.party_id, "active": id_ == 1},
            )
    await old.close()

    database = Database(made_by_create_tables)
    try:
        assert await database.migrate() == (None, head())
        assert await database.migrate() == (head(), head())  # and again: nothing left to do
        store = SqlDirectory(database, cache_seconds=0)
        versions = [(await store.platform(i)) for i in (1, 2, 3)]
        assert [p.version if p else "missing" for p in versions] == ["2.2", "2.2", None]
    finally:
        await database.close()
