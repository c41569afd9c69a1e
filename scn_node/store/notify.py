"""Notices: a write on one node instance drops the read caches of every instance sharing the
PostgreSQL database, through LISTEN/NOTIFY.

Every write transaction that drops a cache also runs `pg_notify('scn_directory', '<instance>
<cache>')`, delivered when it commits (and not at all when it rolls back). Each instance keeps
one connection of its own listening on the channel, and drops the named cache when another
instance's notice arrives. While that connection is down, a write elsewhere would go unheard,
so the caches keep nothing until it listens again. SQLite has one process: nothing to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import func, make_url
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from scn_node.store.cache import ReadCache
from scn_node.store.database import Database

log = logging.getLogger(__name__)

CHANNEL = "scn_directory"


class Notices:
    """Tells the other instances of a write (`tell`), and hears theirs (`start`/`close`).

    `check_seconds`: how often the listening connection is asked whether it is still there (a
    connection cut without a word, e.g. by the network, is noticed within it).
    `retry_seconds`: how often a lost connection is opened again."""

    def __init__(
        self,
        database: Database,
        *,
        check_seconds: float = 5.0,
        retry_seconds: float = 1.0,
    ) -> None:
        self.enabled = database.engine.dialect.name == "postgresql"
        self.instance = uuid.uuid4().hex
        self.check_seconds = check_seconds
        self.retry_seconds = retry_seconds
        self.caches: dict[str, ReadCache] = {}
        self.listening = False
        self._dsn = _asyncpg_dsn(database.url) if self.enabled else ""
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._warned = False

    def add(self, name: str, cache: ReadCache) -> None:
        """Drop `cache` when another instance tells of a write to `name`."""
        self.caches[name] = cache
        if self._task is not None and not self.listening:
            cache.pause()

    @property
    def application_name(self) -> str:
        return f"scn-node notices {self.instance[:12]}"

    async def tell(self, session: AsyncSession, name: str) -> None:
        """In a write transaction: the other instances drop `name` once it commits."""
        if self.enabled:
            payload = f"{self.instance} {name}"
            await session.exec(select(func.pg_notify(CHANNEL, payload)))

    async def start(self) -> None:
        """Listen; returns once the first attempt has succeeded or failed (then it is retried
        in the background, with the caches keeping nothing meanwhile)."""
        if not self.enabled or self._task is not None:
            return
        self._pause()
        tried = asyncio.Event()
        self._task = asyncio.create_task(self._run(tried))
        await tried.wait()

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._pause()  # no longer hearing anyone: keep nothing from here on

    async def _run(self, tried: asyncio.Event) -> None:
        while True:
            try:
                connection = await self._listen()
            except Exception as error:  # whatever it is, try again later
                self._down(error)
                tried.set()
                await asyncio.sleep(self.retry_seconds)
                continue
            tried.set()
            try:
                reason = await self._hold(connection)
            finally:
                connection.terminate()
            self._down(reason)
            await asyncio.sleep(self.retry_seconds)

    async def _listen(self) -> Any:
        connection = await asyncpg.connect(
            self._dsn,
            timeout=self.check_seconds,
            # How an operator (or a test) tells it apart in pg_stat_activity.
            server_settings={"application_name": self.application_name},
        )
        try:
            self._lost.clear()
            connection.add_termination_listener(lambda _connection: self._lost.set())
            await connection.add_listener(CHANNEL, self._heard)
        except BaseException:
            connection.terminate()
            raise
        # Listening from here on: a write that commits from now is heard. What was kept
        # before may be stale, so it is dropped as caching resumes.
        self.listening = True
        for cache in self.caches.values():
            cache.resume()
        if self._warned:
            log.info("Listening for other instances' writes again: read cache on")
            self._warned = False
        return connection

    async def _hold(self, connection: Any) -> BaseException | str:
        """Wait until the connection is lost; returns why."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lost.wait(), self.check_seconds)
                return "the connection was closed"
            try:
                await asyncio.wait_for(connection.fetchval("SELECT 1"), self.check_seconds)
            except Exception as error:  # any failure: not listening
                return error

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        instance, _, name = payload.partition(" ")
        if instance == self.instance:
            return  # our own write already dropped it
        cache = self.caches.get(name)
        if cache is not None:
            cache.forget()

    def _down(self, reason: BaseException | str) -> None:
        self._pause()
        if not self._warned:
            detail = (
                f"{type(reason).__name__}: {reason}"
                if isinstance(reason, BaseException)
                else reason
            )
            log.warning(
                "Not listening for other instances' writes (%s): read cache off until it is",
                detail,
            )
            self._warned = True

    def _pause(self) -> None:
        self.listening = False
        for cache in self.caches.values():
            cache.pause()


def _asyncpg_dsn(url: str) -> str:
    """The Database's SQLAlchemy URL (postgresql+asyncpg://…) as asyncpg's own DSN."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
