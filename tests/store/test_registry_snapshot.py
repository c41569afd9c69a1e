"""SqlRegistrySnapshot: the registry answers a node last had, kept across restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scn_node.store import Database, SqlRegistrySnapshot


async def test_the_latest_answer_per_lookup_is_kept(database: Database) -> None:
    snapshot = SqlRegistrySnapshot(database)
    assert await snapshot.load() == ({}, None)
    before = datetime.now(UTC)
    await snapshot.save({"party DE CPO": '{"v": 1}', "node 0xab": '"http://a"'})
    await snapshot.save({"party DE CPO": '{"v": 2}'})
    answers, saved_at = await SqlRegistrySnapshot(database).load()
    assert answers == {"party DE CPO": '{"v": 2}', "node 0xab": '"http://a"'}
    assert saved_at is not None and before <= saved_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert await snapshot.count() == 2


async def test_many_answers_are_saved_in_batches(database: Database) -> None:
    snapshot = SqlRegistrySnapshot(database)
    answers = {f"node 0x{i:040x}": f'"http://node{i}"' for i in range(1_234)}
    await snapshot.save(answers)
    assert (await snapshot.load())[0] == answers
