"""Two node instances on one PostgreSQL database, each with its own read cache (the default
5 s): a write through one is seen by the other within a second, since every write tells the
others through LISTEN/NOTIFY. While an instance cannot listen, it keeps nothing."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg  # type: ignore[import-untyped]
import pytest

from scn_node.devnet.postgres import PostgresServer
from scn_node.hub.modules import KeyKind
from scn_node.hub.ownership import OwnedKey
from scn_node.hub.rules import ListKind, PartyRules, RuleEntry
from scn_node.scpi.hubclientinfo import ConnectionStatus
from scn_node.scpi.party import Role
from scn_node.store import Database, SqlDirectory
from scn_node.store.notify import _asyncpg_dsn
from scn_node.store.records import digest
from tests.store.values import CPO, MSP, registration

RULES = PartyRules(signatures=True, active=ListKind.BLACKLIST, entries=(RuleEntry(MSP),))


@dataclass
class Instances:
    a: SqlDirectory
    b: SqlDirectory
    url: str


@pytest.fixture
async def instances(postgres: PostgresServer) -> AsyncIterator[Instances]:
    """Two directories on one database, each over its own engine, as two processes would be."""
    url = await postgres.new_database()
    databases = [Database(url), Database(url)]
    await databases[0].create_tables()
    a, b = (SqlDirectory(database) for database in databases)
    try:
        await a.start()
        await b.start()
        assert a.notices.listening and b.notices.listening
        yield Instances(a, b, url)
    finally:
        for directory in (a, b):
            await directory.close()
        for database in databases:
            await database.close()


async def within(seconds: float, check: Callable[[], Awaitable[bool]]) -> None:
    """Polls `check` until it holds; fails if it does not within `seconds`."""
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"not within {seconds} s"
        await asyncio.sleep(0.01)


async def keeps(
    store: SqlDirectory, key: tuple[object, ...], read: Callable[[], Awaitable[object]]
) -> None:
    """`store` has read and kept `key`: the notice of the write before may still be on its way,
    and would drop a read made meanwhile."""

    async def kept() -> bool:
        await read()
        return store.cache.get(key) is not None

    await within(1.0, kept)


async def keeps_token(store: SqlDirectory, token: str) -> None:
    await keeps(store, ("token", digest(token)), lambda: store.authenticate(token))


async def connect(store: SqlDirectory) -> tuple[int, str]:
    """A connected platform with CPO: its id and TOKEN_C."""
    token_a = f"token-a-{uuid.uuid4()}"
    platform = await store.issue_token_a(token_a, None)
    handshake = registration((CPO, Role.CPO))
    assert await store.register(platform.id, token_a, handshake) is not None
    return platform.id, handshake.token_c


async def rotate(store: SqlDirectory, platform_id: int) -> str:
    """The platform's TOKEN_C replaced, as a credentials PUT does: the new one."""
    new = f"token-c-{uuid.uuid4()}"
    assert await store.stage_token_c(platform_id, new)
    assert await store.rotate(platform_id, new, "token-b", "https://cpo.example/versions")
    return new


async def test_a_token_c_rotated_on_one_instance_is_refused_by_the_other_within_a_second(
    instances: Instances,
) -> None:
    a, b = instances.a, instances.b
    platform_id, old = await connect(a)
    await keeps_token(b, old)  # for 5 s, unless told
    new = await rotate(a, platform_id)

    async def refused() -> bool:
        return await b.authenticate(old) is None

    await within(1.0, refused)
    assert await b.authenticate(new) is not None


async def test_rules_and_status_changed_on_one_instance_hold_on_the_other_within_a_second(
    instances: Instances,
) -> None:
    a, b = instances.a, instances.b
    platform_id, token = await connect(a)
    await keeps(b, ("party", CPO), lambda: b.platform_of(CPO))
    await keeps(b, ("connected",), b.connected_platforms)
    assert await a.set_rules(platform_id, token, RULES) is not None

    async def rules_seen() -> bool:
        platform = await b.platform_of(CPO)
        return platform is not None and platform.rules == RULES

    await within(1.0, rules_seen)
    assert [p.id for p in await b.connected_platforms()] == [platform_id]
    offline = ConnectionStatus.OFFLINE
    assert await a.set_status(platform_id, offline, was=ConnectionStatus.CONNECTED) is not None

    async def status_seen() -> bool:
        platform = await b.platform_of(CPO)
        return (
            platform is not None
            and platform.status == offline
            and not (await b.connected_platforms())
        )

    await within(1.0, status_seen)


async def test_an_instance_that_loses_its_listening_connection_keeps_nothing_until_it_listens_again(
    instances: Instances, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = instances.a, instances.b
    platform_id, old = await connect(a)
    await keeps_token(b, old)
    admin = await asyncpg.connect(_asyncpg_dsn(instances.url))
    try:
        with caplog.at_level(logging.INFO, logger="scn_node.store.notify"):
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = $1",
                b.notices.application_name,
            )
            assert killed == 1

            async def deaf() -> bool:
                return not b.notices.listening

            await within(1.0, deaf)
            # A write b cannot hear (no notice at all) is seen by b's next read at once.
            new = f"token-c-{uuid.uuid4()}"
            await admin.execute(
                "UPDATE platforms SET token_c_digest = $1 WHERE id = $2",
                digest(new),
                platform_id,
            )
            assert await b.authenticate(old) is None
            assert await b.authenticate(new) is not None

            async def listening() -> bool:
                return b.notices.listening

            await within(5.0, listening)
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        infos = [r for r in caplog.records if r.levelno == logging.INFO]
        assert len(warnings) == 1 and "read cache off" in warnings[0].getMessage()
        assert len(infos) == 1 and "read cache on" in infos[0].getMessage()
    finally:
        await admin.close()
    # Listening again: b keeps reads, and hears a's writes.
    await keeps_token(b, new)
    newer = await rotate(a, platform_id)

    async def refused() -> bool:
        return await b.authenticate(new) is None

    await within(1.0, refused)
    assert await b.authenticate(newer) is not None


async def test_an_owner_added_on_one_instance_is_found_by_the_other_within_a_second(
    instances: Instances,
) -> None:
    a, b = instances.a, instances.b
    await a.remember_keys([OwnedKey(KeyKind.LOCATION_ID, "LOC1", CPO)])

    async def one_owner_kept() -> bool:
        found = await b.owners(KeyKind.LOCATION_ID, "LOC1")
        return found == [CPO] and b._owners_kept.get((KeyKind.LOCATION_ID, "LOC1", "")) is not None

    await within(1.0, one_owner_kept)
    await a.remember_keys([OwnedKey(KeyKind.LOCATION_ID, "LOC1", MSP)])

    async def both_found() -> bool:
        return len(await b.owners(KeyKind.LOCATION_ID, "LOC1")) == 2

    await within(1.0, both_found)
