"""SqlSeenMessages: a node message id is delivered once per window, whichever process asks."""

from __future__ import annotations

import asyncio

from scn_node.store import Database, SqlSeenMessages


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_an_id_is_delivered_once(database: Database) -> None:
    seen = SqlSeenMessages(database)
    assert await seen.first_delivery("m-1", 2_000_000_000.0) is True
    assert await seen.first_delivery("m-1", 2_000_000_000.0) is False
    assert await seen.first_delivery("m-2", 2_000_000_000.0) is True


async def test_a_second_process_on_the_same_database_refuses_it_too(
    database: Database, database_url: str
) -> None:
    other = Database(database_url)  # its own engine and connections, as another process has
    try:
        assert await SqlSeenMessages(database).first_delivery("m-1", 2_000_000_000.0) is True
        assert await SqlSeenMessages(other).first_delivery("m-1", 2_000_000_000.0) is False
    finally:
        await other.close()


async def test_deliveries_arriving_together_admit_exactly_one(database: Database) -> None:
    seen = [SqlSeenMessages(database) for _ in range(8)]
    firsts = await asyncio.gather(*(s.first_delivery("m-1", 2_000_000_000.0) for s in seen))
    assert sorted(firsts) == [False] * 7 + [True]


async def test_expired_ids_are_deleted_now_and_then_not_on_every_message(
    database: Database,
) -> None:
    clock = Clock()
    seen = SqlSeenMessages(database, purge_seconds=60, clock=clock)
    assert await seen.first_delivery("old", clock.now + 120)
    clock.now += 121  # "old" has expired, and the last purge is more than 60 s ago
    assert await seen.first_delivery("new", clock.now + 120)
    assert await seen.count() == 1  # the purge ran with this insert: "old" is gone
    clock.now += 121
    assert await seen.first_delivery("newer", clock.now + 120)
    clock.now += 1  # within 60 s of the last purge: nothing is deleted with this one
    assert await seen.first_delivery("newest", clock.now + 120)
    assert await seen.count() == 2  # "new" went with "newer"'s purge, none since
