"""The forward-path cache: a read that overlaps a write must not keep what it read."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from scn_node.hub.ports import Platform
from scn_node.scpi.hubclientinfo import ConnectionStatus
from scn_node.scpi.party import PartyId, Role
from scn_node.store import Database, SqlDirectory
from scn_node.store.cache import ReadCache
from tests.store.values import CPO, registration


async def connect(store: SqlDirectory, party: PartyId = CPO) -> tuple[Platform, str]:
    """A platform with `party` connected; returns it and its TOKEN_C."""
    token_a = f"token-a-{uuid.uuid4()}"
    platform = await store.issue_token_a(token_a, None)
    handshake = registration((party, Role.CPO))
    stored = await store.register(platform.id, token_a, handshake)
    assert stored is not None
    return stored, handshake.token_c


def test_a_value_read_in_an_older_generation_is_not_kept() -> None:
    cache = ReadCache(5.0)
    key = ("party", CPO)
    before = cache.generation
    cache.forget()  # a write began after the read did
    cache.remember(key, "stale", before)
    assert cache.get(key) is None
    cache.remember(key, "fresh", cache.generation)
    assert cache.get(key) == "fresh"
    cache.forget()
    assert cache.get(key) is None


def test_past_max_entries_everything_is_dropped_and_misses_are_not_kept() -> None:
    cache = ReadCache(5.0, max_entries=2)
    cache.remember("a", 1, cache.generation)
    cache.remember("b", 2, cache.generation)
    cache.remember("none", None, cache.generation)
    assert (cache.get("a"), cache.get("b")) == (1, 2)
    cache.remember("c", 3, cache.generation)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, None, 3)


async def test_through_keeps_a_none_answer_only_when_asked() -> None:
    cache = ReadCache(5.0)
    reads: list[str] = []

    async def nothing() -> None:
        reads.append("read")

    for _ in range(2):
        assert await cache.through("unknown token", nothing) is None
        assert await cache.through("party elsewhere", nothing, keep_none=True) is None
    assert reads == ["read", "read", "read"]  # the token twice, the party once


def test_entries_expire_after_the_given_seconds() -> None:
    cache = ReadCache(0.0)
    cache.remember("a", 1, cache.generation)
    assert cache.get("a") is None


async def test_a_read_that_spans_an_unregister_does_not_cache_the_old_platform(
    store: SqlDirectory, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform, _ = await connect(store)
    queried, answer = asyncio.Event(), asyncio.Event()
    real = store._platform_of

    async def slow(party: PartyId) -> Platform | None:
        found = await real(party)  # the database still says CONNECTED ...
        queried.set()
        await answer.wait()  # ... but the answer comes back after the write
        return found

    monkeypatch.setattr(store, "_platform_of", slow)
    reading = asyncio.create_task(store.platform_of(CPO))
    await queried.wait()
    await store.unregister(platform.id)
    answer.set()
    late = await reading
    assert late is not None and late.status is ConnectionStatus.CONNECTED
    assert store.cache.get(("party", CPO)) is None
    monkeypatch.undo()
    now = await store.platform_of(CPO)
    assert now is not None and now.status is ConnectionStatus.SUSPENDED


async def test_a_read_that_spans_a_register_does_not_cache_the_old_token(
    store: SqlDirectory, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform, token_c = await connect(store)
    queried, answer = asyncio.Event(), asyncio.Event()
    real = store._authenticate

    async def slow(wanted: str) -> object:
        found = await real(wanted)
        queried.set()
        await answer.wait()
        return found

    monkeypatch.setattr(store, "_authenticate", slow)
    reading = asyncio.create_task(store.authenticate(token_c))
    await queried.wait()
    assert await store.register(platform.id, token_c, registration((CPO, Role.CPO))) is not None
    answer.set()
    assert await reading is not None  # what the read saw: the old TOKEN_C was valid
    monkeypatch.undo()
    assert await store.authenticate(token_c) is None  # spent by the re-registration


WRITES: dict[str, Callable[[SqlDirectory, Platform, str], Awaitable[object]]] = {
    "issue_token_a": lambda store, _p, _t: store.issue_token_a(f"token-a-{uuid.uuid4()}", None),
    "register": lambda store, p, t: store.register(p.id, t, registration((CPO, Role.CPO))),
    "unregister": lambda store, p, _t: store.unregister(p.id),
    "set_status": lambda store, p, _t: store.set_status(
        p.id, ConnectionStatus.OFFLINE, was=ConnectionStatus.CONNECTED
    ),
}


@pytest.mark.parametrize("write", list(WRITES))
async def test_what_a_read_keeps_while_a_write_is_open_is_dropped_after_the_commit(
    store: SqlDirectory, database: Database, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    platform, token_c = await connect(store)
    key = ("party", CPO)
    committed: list[int] = []
    original: async_sessionmaker[AsyncSession] = database.sessions

    def read_during_the_transaction(_session: object) -> None:
        # A read that started after the write's first forget and finishes before its commit.
        store.cache.remember(key, "stale", store.cache.generation)
        committed.append(store.cache.generation)

    def sessions() -> AsyncSession:
        session = original()
        event.listen(session.sync_session, "before_commit", read_during_the_transaction)
        return session

    monkeypatch.setattr(database, "sessions", sessions)
    before = store.cache.generation
    await WRITES[write](store, platform, token_c)
    assert committed, "the write committed through database.sessions"
    assert store.cache.get(key) is None
    assert store.cache.generation == before + 2  # dropped before and after
