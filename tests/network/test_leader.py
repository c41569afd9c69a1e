"""Two `scn-node serve` processes of one node on one PostgreSQL database: one of them runs the
still-alive round, so a party is called once per interval, not twice. `kill -9` of that one,
and the other takes over within about an interval."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from scn_node.devnet.network import quiet_port
from scn_node.devnet.postgres import PostgresServer
from scn_node.store import Database
from tests.network.conftest import TEST_ENV
from tests.network.harness import Chain, NodeProcess, Party, TwoNodes

INTERVAL = 1.0  # SCN_STILL_ALIVE_SECONDS
LEADS = "This instance now leads the background work (PostgreSQL advisory lock)"


@dataclasses.dataclass
class Instance(NodeProcess):
    """Another process of the same node: the listed URL (a load balancer's, in production),
    its own port."""

    listed_url: str = ""

    @property
    def url(self) -> str:
        return self.listed_url


@pytest.fixture
async def two_instances(
    network_chain: Chain, postgres: PostgresServer, tmp_path: Path
) -> AsyncIterator[tuple[TwoNodes, NodeProcess, Instance]]:
    database_url = await postgres.new_database()
    # The schema, made the way `serve` made it before starting; explicit here so the test does
    # not depend on which process makes it (or on a separate migration step).
    database = Database(database_url)
    await database.create_tables()
    await database.close()
    env = {**TEST_ENV, "SCN_STILL_ALIVE_SECONDS": str(INTERVAL), "SCN_PLANNED_PARTY_SECONDS": "0"}
    network = TwoNodes(network_chain, tmp_path, env=env, database_urls={1: database_url})
    first = network.nodes[1]
    second = Instance(
        number=3,  # its log: node3.log
        account=first.account,
        port=quiet_port(),
        rpc_url=first.rpc_url,
        registry_address=first.registry_address,
        workdir=first.workdir,
        database_url=database_url,
        env=first.env,
        listed_url=first.url,
    )
    try:
        await network.start()
        yield network, first, second
    finally:
        await second.stop()
        await network.close()
        assert [c for c in second.exit_codes if c != 0] == [], second.logs()


def leads(node: NodeProcess) -> bool:
    return any(e.get("message") == LEADS for e in node.log_entries())


class VersionCalls:
    """When each GET of the party's versions (a still-alive call) arrived."""

    def __init__(self, party: Party) -> None:
        self.party = party
        self.times: list[float] = []
        self._task = asyncio.create_task(self._watch())

    def _count(self) -> int:
        return len(
            [r for r in self.party.received if r.method == "GET" and r.path == "/scpi/versions"]
        )

    def _more_than(self, seen: int) -> Callable[[], bool]:
        return lambda: self._count() > seen

    async def _watch(self) -> None:
        seen = self._count()
        while True:
            await self.party.heard(self._more_than(seen), within=3600, what="a call")
            now, count = time.monotonic(), self._count()
            self.times += [now] * (count - seen)
            seen = count

    async def after(self, moment: float, *, at_least: int, within: float) -> list[float]:
        deadline = time.monotonic() + within
        while len(later := [t for t in self.times if t > moment]) < at_least:
            assert time.monotonic() < deadline, f"{len(later)} still-alive calls: {self.times}"
            await asyncio.sleep(0.05)  # the polling interval, not a readiness guess
        return later

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def test_one_instance_calls_the_parties_and_another_takes_over_when_it_is_killed(
    two_instances: tuple[TwoNodes, NodeProcess, Instance],
) -> None:
    network, first, second = two_instances
    await second.start()
    party = await network.connect(1, "CH", "CPA")
    calls = VersionCalls(party)
    try:
        start = time.monotonic()
        rounds = await calls.after(start, at_least=5, within=15)
        gaps = [b - a for a, b in itertools.pairwise(rounds)]
        # Two instances calling would put calls much closer than one interval apart.
        assert min(gaps) > 0.8 * INTERVAL, gaps
        assert [leads(first), leads(second)].count(True) == 1

        leader, other = (first, second) if leads(first) else (second, first)
        await leader.kill()
        killed = time.monotonic()
        after = await calls.after(killed, at_least=3, within=15)
        assert leads(other)
        # The other instance tries at each of its rounds: it calls within about an interval
        # (one round's sleep, plus the round itself on this busy machine).
        assert after[0] - killed < 2.5 * INTERVAL, after[0] - killed
        gaps = [b - a for a, b in itertools.pairwise(after)]
        assert min(gaps) > 0.8 * INTERVAL, gaps
    finally:
        await calls.close()
