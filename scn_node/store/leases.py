"""LeaderLease: the Leadership port over the node's database.

On PostgreSQL the leader is the instance holding a session-level advisory lock, on one
connection of its own kept open for as long as it leads. PostgreSQL releases the lock when that
connection ends, however the process ended (even `kill -9`), and the next instance to try takes
it. On SQLite only one process runs the node, so it always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from scn_node.store.database import UNAVAILABLE, Database

__all__ = ["LEADER_KEY", "LeaderLease"]

log = logging.getLogger(__name__)


def _key(name: str) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory locks."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


# Advisory locks are per database: nodes with databases of their own on one server each elect
# their own leader.
LEADER_KEY = _key("scn-node leader of the background work")


class LeaderLease:
    """`timeout` bounds each check: a connection that hangs (a network that went away) counts
    as lost, rather than stalling the rounds that ask."""

    def __init__(self, database: Database, *, key: int = LEADER_KEY, timeout: float = 5.0) -> None:
        self.key = key
        self.timeout = timeout
        self._engine: AsyncEngine | None = None
        if database.engine.dialect.name == "postgresql":
            # Its own engine without a pool: the lock's connection is never handed to anyone
            # else, and closing it really ends the session (and so the lock).
            self._engine = create_async_engine(
                database.url, hide_parameters=True, poolclass=NullPool
            )
        self._held: AsyncConnection | None = None
        self._asking = asyncio.Lock()  # the loops ask at once; one connection, one check

    @property
    def sole(self) -> bool:
        """One process on SQLite: it leads, with no lock to hold."""
        return self._engine is None

    async def lead(self) -> bool:
        if self._engine is None:
            return True
        async with self._asking:
            if self._held is not None:
                if await self._still_held(self._held):
                    return True
                await self._let_go("its database connection was lost")
            return await self._try_take(self._engine)

    async def backend_pid(self) -> int | None:
        """The PostgreSQL backend holding the lock here, if this instance leads (tests)."""
        if self._held is None:
            return None
        pid = (await self._held.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        return int(pid)

    async def close(self) -> None:
        """Give up the lead (another instance takes it at its next try) and the connection."""
        async with self._asking:
            if self._held is not None:
                await self._let_go("the node is stopping")
            if self._engine is not None:
                await self._engine.dispose()

    async def _still_held(self, connection: AsyncConnection) -> bool:
        # A session-level lock lasts as long as its session: a live connection still holds it.
        try:
            await asyncio.wait_for(connection.execute(text("SELECT 1")), self.timeout)
        except Exception:  # down, broken, timed out: the session (and its lock) may be gone
            return False
        return True

    async def _try_take(self, engine: AsyncEngine) -> bool:
        connection: AsyncConnection | None = None
        try:
            async with asyncio.timeout(self.timeout):
                # Autocommit: the connection idles between checks, never inside a transaction.
                connection = await engine.connect()
                connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
                taken = (
                    await connection.execute(
                        text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
                    )
                ).scalar_one()
        except Exception as error:  # the port never raises: no answer is not leading
            if not isinstance(error, UNAVAILABLE):
                log.exception("Asking the database who leads the background work failed")
            else:
                log.warning("Cannot ask the database who leads the background work: %s", error)
            await _close(connection)
            return False
        if not taken:
            await _close(connection)  # followers hold no connection between tries
            return False
        self._held = connection
        log.info("This instance now leads the background work (PostgreSQL advisory lock)")
        return True

    async def _let_go(self, why: str) -> None:
        held, self._held = self._held, None
        await _close(held)  # ends the session, and with it the lock
        log.info("This instance no longer leads the background work: %s", why)


async def _close(connection: AsyncConnection | None) -> None:
    if connection is None:
        return
    try:
        await asyncio.wait_for(connection.close(), 1.0)
    except Exception:  # a connection already broken: drop it without asking the server
        with contextlib.suppress(Exception):
            await connection.invalidate()
