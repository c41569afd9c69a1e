"""Notices without a PostgreSQL server: SQLite needs none, and an instance that cannot listen
keeps nothing in its caches (tests/store/test_notify.py has two instances on a real server)."""

from __future__ import annotations

import logging

import pytest

from scn_node.devnet.chain import free_port
from scn_node.store import Database, SqlDirectory
from scn_node.store.cache import ReadCache
from scn_node.store.notify import Notices, _asyncpg_dsn


def test_a_paused_cache_keeps_nothing_and_a_read_begun_while_paused_is_not_kept() -> None:
    cache = ReadCache(5.0)
    cache.remember("a", 1, cache.generation)
    cache.pause()
    assert cache.get("a") is None
    during = cache.generation
    cache.remember("b", 2, during)
    assert cache.get("b") is None
    cache.resume()
    cache.remember("b", 2, during)  # read while paused, answered after: may be stale
    assert cache.get("b") is None
    cache.remember("b", 2, cache.generation)
    assert cache.get("b") == 2


def test_the_listening_connection_uses_the_databases_url_in_asyncpgs_own_form() -> None:
    url = "postgresql+asyncpg://scn:s%40cret@db.internal:5433/scn?ssl=require"
    assert _asyncpg_dsn(url) == "postgresql://scn:s%40cret@db.internal:5433/scn?ssl=require"


async def test_on_sqlite_there_is_nothing_to_listen_to_and_the_cache_stays_on() -> None:
    database = Database("sqlite+aiosqlite://")
    await database.create_tables()
    directory = SqlDirectory(database)
    try:
        await directory.start()
        assert not directory.notices.enabled
        directory.cache.remember("a", 1, directory.cache.generation)
        assert directory.cache.get("a") == 1
        await directory.issue_token_a("token-a", None)  # a write: no pg_notify on SQLite
    finally:
        await directory.close()
        await database.close()


async def test_an_instance_that_cannot_listen_at_start_keeps_nothing_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = Database(f"postgresql+asyncpg://scn@127.0.0.1:{free_port()}/scn")  # nobody there
    notices = Notices(database, retry_seconds=0.01)
    cache = ReadCache(5.0)
    notices.add("directory", cache)
    try:
        with caplog.at_level(logging.INFO, logger="scn_node.store.notify"):
            await notices.start()
            assert not notices.listening
            cache.remember("a", 1, cache.generation)
            assert cache.get("a") is None
            late = ReadCache(5.0)  # a cache added while it is not listening keeps nothing either
            notices.add("owners", late)
            late.remember("a", 1, late.generation)
            assert late.get("a") is None
        assert [r.levelname for r in caplog.records] == ["WARNING"]
        assert "read cache off" in caplog.records[0].getMessage()
    finally:
        await notices.close()
        await database.close()
