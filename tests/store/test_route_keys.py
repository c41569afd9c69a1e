"""SqlRouteKeys: the ownership index open routing reads, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select, update

from scn_node.hub.modules import KeyKind
from scn_node.hub.ownership import OwnedKey
from scn_node.scpi.party import PartyId
from scn_node.store import Database, SqlDirectory
from scn_node.store.tables import RouteKeyRow

CPO1, CPO2, MSP = PartyId("DE", "CPO"), PartyId("NL", "CPO"), PartyId("DE", "MSP")


async def test_a_key_finds_its_owners_whatever_the_case(store: SqlDirectory) -> None:
    await store.remember_keys(
        [
            OwnedKey(KeyKind.LOCATION_ID, "LOC1", CPO2),
            OwnedKey(KeyKind.LOCATION_ID, "loc1", CPO1),
            OwnedKey(KeyKind.LOCATION_ID, "LOC2", CPO1),
            OwnedKey(KeyKind.SESSION_ID, "LOC1", MSP),  # another kind of key
        ]
    )
    assert await store.owners(KeyKind.LOCATION_ID, "Loc1") == [CPO1, CPO2]
    assert await store.owners(KeyKind.LOCATION_ID, "LOC2") == [CPO1]
    assert await store.owners(KeyKind.SESSION_ID, "LOC1") == [MSP]
    assert await store.owners(KeyKind.LOCATION_ID, "LOC3") == []


async def test_a_token_uid_is_owned_per_type(store: SqlDirectory) -> None:
    await store.remember_keys([OwnedKey(KeyKind.TOKEN_UID, "0123", MSP, "RFID")])
    assert await store.owners(KeyKind.TOKEN_UID, "0123", "rfid") == [MSP]
    assert await store.owners(KeyKind.TOKEN_UID, "0123", "APP_USER") == []


async def test_learning_a_key_again_keeps_one_row_and_marks_it_seen(
    store: SqlDirectory, database: Database
) -> None:
    key = OwnedKey(KeyKind.LOCATION_ID, "LOC1", CPO1)
    await store.remember_keys([key, key])
    async with database.sessions() as session, session.begin():
        await session.exec(update(RouteKeyRow).values(seen_at=datetime(2020, 1, 1, tzinfo=UTC)))
    assert await store.owners(KeyKind.LOCATION_ID, "LOC1") == []  # too old to be used
    await store.remember_keys([key])
    assert await store.owners(KeyKind.LOCATION_ID, "LOC1") == [CPO1]
    async with database.sessions() as session:
        assert (await session.exec(select(func.count()).select_from(RouteKeyRow))).one() == 1


async def test_old_keys_are_purged_and_new_ones_kept(
    store: SqlDirectory, database: Database
) -> None:
    await store.remember_keys(
        [OwnedKey(KeyKind.LOCATION_ID, "OLD", CPO1), OwnedKey(KeyKind.LOCATION_ID, "NEW", CPO1)]
    )
    async with database.sessions() as session, session.begin():
        await session.exec(
            update(RouteKeyRow)
            .where(col(RouteKeyRow.key) == "OLD")
            .values(seen_at=datetime.now(UTC) - timedelta(days=40))
        )
    assert await store.purge_route_keys(datetime.now(UTC) - timedelta(days=30)) == 1
    assert await store.owners(KeyKind.LOCATION_ID, "OLD") == []
    assert await store.owners(KeyKind.LOCATION_ID, "NEW") == [CPO1]


async def test_nothing_to_remember_writes_nothing(store: SqlDirectory) -> None:
    await store.remember_keys([])
    assert await store.purge_route_keys(datetime.now(UTC) + timedelta(seconds=1)) == 0


async def test_owners_found_are_kept_until_the_index_changes(database: Database) -> None:
    store = SqlDirectory(database, cache_seconds=60)
    await store.remember_keys([OwnedKey(KeyKind.LOCATION_ID, "LOC1", CPO1)])
    assert await store.owners(KeyKind.LOCATION_ID, "LOC1") == [CPO1]
    async with database.sessions() as session, session.begin():  # another process's write
        await session.exec(update(RouteKeyRow).values(party_id="XXX"))
    assert await store.owners(KeyKind.LOCATION_ID, "LOC1") == [CPO1]  # kept
    await store.remember_keys([OwnedKey(KeyKind.LOCATION_ID, "LOC1", CPO2)])
    assert await store.owners(KeyKind.LOCATION_ID, "LOC1") == [PartyId("DE", "XXX"), CPO2]
