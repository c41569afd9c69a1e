"""LeaderLease: which of the instances sharing a database runs the background work.

On PostgreSQL two leases on one database stand for two node instances: exactly one leads, and
when its session ends (closed, or killed as `kill -9` would leave it) the other leads at its
next try. On SQLite the one process always leads."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from scn_node.devnet.postgres import PostgresServer
from scn_node.store import Database
from scn_node.store.leases import LeaderLease

Instances = tuple[LeaderLease, LeaderLease]


@pytest.fixture
async def pg_database(postgres: PostgresServer) -> AsyncIterator[Database]:
    database = Database(await postgres.new_database())
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def two(pg_database: Database) -> AsyncIterator[Instances]:
    first, second = LeaderLease(pg_database), LeaderLease(pg_database)
    try:
        yield first, second
    finally:
        await second.close()
        await first.close()


async def test_exactly_one_of_two_leads_and_keeps_leading(two: Instances) -> None:
    first, second = two
    assert [await first.lead(), await second.lead()] == [True, False]
    assert [await second.lead(), await first.lead(), await second.lead()] == [False, True, False]


async def test_the_other_leads_once_the_leader_stops(two: Instances) -> None:
    first, second = two
    assert await first.lead()
    assert not await second.lead()
    await first.close()
    assert await second.lead()


async def test_the_other_leads_once_the_leaders_session_is_killed(
    two: Instances, pg_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """What PostgreSQL sees when a leader's process is killed: its session ends."""
    caplog.set_level(logging.INFO, logger="scn_node.store.leases")
    first, second = two
    assert await first.lead()
    pid = await first.backend_pid()
    async with pg_database.engine.connect() as admin:
        ended = await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert ended.scalar_one() is True
    assert await second.lead()
    assert not await first.lead()  # it finds its session gone, and the lock taken
    assert [r.getMessage() for r in caplog.records if r.name == "scn_node.store.leases"] == [
        "This instance now leads the background work (PostgreSQL advisory lock)",
        "This instance now leads the background work (PostgreSQL advisory lock)",
        "This instance no longer leads the background work: its database connection was lost",
    ]


async def test_a_leader_whose_session_was_killed_takes_the_lead_again_when_free(
    two: Instances, pg_database: Database
) -> None:
    first, second = two
    assert await first.lead()
    async with pg_database.engine.connect() as admin:
        await admin.execute(
            text("SELECT pg_terminate_backend(:pid)"), {"pid": await first.backend_pid()}
        )
    assert await first.lead()  # on a new connection
    assert not await second.lead()


async def test_a_database_that_is_away_means_not_leading(
    postgres: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{postgres.port}/no_such_database"
    database = Database(url)
    lease = LeaderLease(database)
    try:
        assert not await lease.lead()
    finally:
        await lease.close()
        await database.close()
    assert [r.levelname for r in caplog.records if r.name == "scn_node.store.leases"] == ["WARNING"]


async def test_on_sqlite_the_one_process_always_leads() -> None:
    database = Database("sqlite+aiosqlite://")
    first, second = LeaderLease(database), LeaderLease(database)
    try:
        assert [await first.lead(), await second.lead(), await first.lead()] == [True, True, True]
    finally:
        await first.close()
        await second.close()
        await database.close()
