"""SqlSeenMessages: the hub's SeenMessages port over the `seen_messages` table."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy import delete, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select

from scn_node.scpi.errors import HubError
from scn_node.store.database import UNAVAILABLE, Database
from scn_node.store.tables import SeenMessageRow

log = logging.getLogger(__name__)


class SqlSeenMessages:
    """The insert is the check: the primary key refuses a second row for an id, in this
    process or in any other on the same database. Expired ids are deleted at most once every
    `purge_seconds`, along with an insert, not on every message."""

    def __init__(
        self,
        database: Database,
        *,
        purge_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.purge_seconds = purge_seconds
        self.clock = clock
        self._next_purge = 0.0

    async def first_delivery(self, message_id: str, until: float) -> bool:
        now = self.clock()
        if self.database.engine.dialect.name == "postgresql":
            insert: postgresql.Insert | sqlite.Insert = postgresql.insert(SeenMessageRow)
        else:
            insert = sqlite.insert(SeenMessageRow)
        statement = insert.values(message_id=message_id, expires=until).on_conflict_do_nothing(
            index_elements=["message_id"]
        )
        try:
            async with self.database.sessions() as session, session.begin():
                if now >= self._next_purge:
                    self._next_purge = now + self.purge_seconds
                    await session.exec(
                        delete(SeenMessageRow).where(col(SeenMessageRow.expires) < now)
                    )
                result = await session.exec(statement)
        except UNAVAILABLE as error:
            log.warning("Database call failed: %s: %s", type(error).__name__, error)
            raise HubError("The node's database is unavailable") from None
        return bool(result.rowcount == 1)

    async def count(self) -> int:
        """How many ids are kept (expired ones not yet deleted included)."""
        async with self.database.sessions() as session:
            return int((await session.exec(select(func.count()).select_from(SeenMessageRow))).one())
