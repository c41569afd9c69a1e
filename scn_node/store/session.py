"""Sessions on the node's database, with a database failure reported as HubError."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from scn_node.scpi.errors import HubError
from scn_node.store.cache import ReadCache
from scn_node.store.database import UNAVAILABLE, Database
from scn_node.store.notify import Notices

log = logging.getLogger(__name__)

Upsert = postgresql.Insert | sqlite.Insert


@contextmanager
def reported_as_hub_error() -> Iterator[None]:
    """A database that fails (down, unreachable, out of connections) becomes HubError, and the
    original error is logged. IntegrityError is an answer, not an outage: it passes through."""
    try:
        yield
    except sa_exc.IntegrityError:
        raise
    except UNAVAILABLE as error:
        # With hide_parameters the message holds the statement but none of its values.
        log.warning("Database call failed: %s: %s", type(error).__name__, error)
        raise HubError("The node's database is unavailable") from None


def upsert(database: Database, table: type[SQLModel]) -> Upsert:
    """An INSERT that can say ON CONFLICT, which both databases speak alike."""
    if database.engine.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class SqlStore:
    """What every part of the directory shares: the database, and the read cache that every
    write through `_writing` drops (see ReadCache), here and, once `notices` are started, on
    every instance sharing a PostgreSQL database (see Notices)."""

    def __init__(self, database: Database, *, cache_seconds: float = 5.0) -> None:
        self.database = database
        self.cache = ReadCache(cache_seconds)
        self.notices = Notices(database)
        self.notices.add("directory", self.cache)

    @asynccontextmanager
    async def _session(self, *, transaction: bool = False) -> AsyncIterator[AsyncSession]:
        """A session (in a transaction, committed on leaving, if asked)."""
        with reported_as_hub_error():
            async with self.database.sessions() as session:
                if transaction:
                    async with session.begin():
                        yield session
                else:
                    yield session

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        """A write transaction, with the cache dropped before it and after it has ended (and
        on the other instances once it commits)."""
        self.cache.forget()
        try:
            async with self._session(transaction=True) as session:
                await self.notices.tell(session, "directory")
                yield session
        finally:
            self.cache.forget()
