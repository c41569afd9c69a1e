"""SqlSeenMessages: the hub's SeenMessages port over the `seen_messages` table."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import delete, func
from sqlmodel import col, select

from scn_node.store.database import Database
from scn_node.store.session import reported_as_hub_error, upsert
from scn_node.store.tables import SeenMessageRow


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
        statement = (
            upsert(self.database, SeenMessageRow)
            .values(message_id=message_id, expires=until)
            .on_conflict_do_nothing(index_elements=["message_id"])
        )
        with reported_as_hub_error():
            async with self.database.sessions() as session, session.begin():
                if now >= self._next_purge:
                    self._next_purge = now + self.purge_seconds
                    await session.exec(
                        delete(SeenMessageRow).where(col(SeenMessageRow.expires) < now)
                    )
                result = await session.exec(statement)
        return bool(result.rowcount == 1)

    async def count(self) -> int:
        """How many ids are kept (expired ones not yet deleted included)."""
        async with self.database.sessions() as session:
            return int((await session.exec(select(func.count()).select_from(SeenMessageRow))).one())
