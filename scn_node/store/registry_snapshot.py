"""SqlRegistrySnapshot: the registry cache's SavedAnswers port over `registry_answers`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import select

from scn_node.store.database import Database
from scn_node.store.records import utc
from scn_node.store.session import Upsert, reported_as_hub_error, upsert
from scn_node.store.tables import RegistryAnswerRow

_BATCH = 500  # rows per INSERT: well inside both databases' limit on bound parameters


class SqlRegistrySnapshot:
    """One row per lookup, its latest answer winning; a database failure is HubError."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def save(self, answers: Mapping[str, str]) -> None:
        if not answers:
            return
        now = datetime.now(UTC)
        rows = [{"lookup": k, "answer": v, "saved_at": now} for k, v in answers.items()]
        with reported_as_hub_error():
            async with self.database.sessions() as session, session.begin():
                for start in range(0, len(rows), _BATCH):
                    await session.exec(self._upsert(rows[start : start + _BATCH]))

    def _upsert(self, rows: list[dict[str, object]]) -> Upsert:
        statement = upsert(self.database, RegistryAnswerRow).values(rows)
        return statement.on_conflict_do_update(
            index_elements=["lookup"],
            set_={"answer": statement.excluded.answer, "saved_at": statement.excluded.saved_at},
        )

    async def load(self) -> tuple[dict[str, str], datetime | None]:
        """Every saved answer, and when the newest was saved (None: there are none)."""
        with reported_as_hub_error():
            async with self.database.sessions() as session:
                rows = list((await session.exec(select(RegistryAnswerRow))).all())
        if not rows:
            return {}, None
        newest = max(row.saved_at for row in rows)
        return {row.lookup: row.answer for row in rows}, utc(newest)

    async def count(self) -> int:
        async with self.database.sessions() as session:
            total = (await session.exec(select(func.count()).select_from(RegistryAnswerRow))).one()
        return int(total)
