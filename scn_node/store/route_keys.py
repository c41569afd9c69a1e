"""SqlRouteKeys: the ownership index open routing finds receivers by (`RouteKeys`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import col, select

from scn_node.hub.modules import KeyKind
from scn_node.hub.ownership import OwnedKey
from scn_node.scpi.party import PartyId
from scn_node.store.cache import ReadCache
from scn_node.store.records import now
from scn_node.store.session import SqlStore, upsert
from scn_node.store.tables import RouteKeyRow

MAX_OWNERS = 16  # enough to tell one owner from several, and to say how many


class SqlRouteKeys(SqlStore):
    """Keys are used and kept for `proxy_days` after they were last seen; `purge_route_keys`
    deletes the older ones. Owners found are kept in memory for `cache_seconds` (a charger's
    next command finds its location's CPO without a query), in a cache of their own that
    writes here drop: the directory's is not dropped by the index's frequent writes."""

    proxy_days: int = 30
    _owners_cache: ReadCache | None = None

    @property
    def _owners_kept(self) -> ReadCache:
        if self._owners_cache is None:
            self._owners_cache = ReadCache(self.cache.seconds)
            self.notices.add("owners", self._owners_cache)
        return self._owners_cache

    async def owners(self, kind: KeyKind, key: str, type: str = "") -> list[PartyId]:
        async def read() -> tuple[PartyId, ...] | None:
            return tuple(await self._owners(kind, key, type)) or None  # misses are not kept

        return list(await self._owners_kept.through((kind, key, type), read) or ())

    async def _owners(self, kind: KeyKind, key: str, type: str) -> list[PartyId]:
        statement = (
            select(RouteKeyRow.country_code, RouteKeyRow.party_id)
            .where(
                col(RouteKeyRow.kind) == kind.value,
                col(RouteKeyRow.key) == OwnedKey.normal(key),
                col(RouteKeyRow.type) == type.upper(),
                col(RouteKeyRow.seen_at) >= now() - timedelta(days=self.proxy_days),
            )
            .order_by(col(RouteKeyRow.country_code), col(RouteKeyRow.party_id))
            .limit(MAX_OWNERS)
        )
        async with self._session() as session:
            rows = (await session.exec(statement)).all()
        return [PartyId(cc, pid) for cc, pid in rows]

    async def remember_keys(self, keys: Sequence[OwnedKey]) -> None:
        if not keys:
            return
        seen = now()
        rows = {(k.kind.value, OwnedKey.normal(k.key), k.type.upper(), k.owner): None for k in keys}
        values = [
            {
                "kind": kind,
                "key": key,
                "type": type,
                "country_code": owner.country_code,
                "party_id": owner.party_id,
                "seen_at": seen,
            }
            for kind, key, type, owner in rows
        ]
        statement = upsert(self.database, RouteKeyRow).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["kind", "key", "type", "country_code", "party_id"],
            set_={"seen_at": statement.excluded.seen_at},
        )
        self._owners_kept.forget()
        try:
            async with self._session(transaction=True) as session:
                await self.notices.tell(session, "owners")
                await session.exec(statement)
        finally:
            self._owners_kept.forget()

    async def purge_route_keys(self, older_than: datetime) -> int:
        async with self._session(transaction=True) as session:
            await self.notices.tell(session, "owners")
            result = await session.exec(
                delete(RouteKeyRow).where(col(RouteKeyRow.seen_at) < older_than)
            )
        self._owners_kept.forget()
        return int(result.rowcount)
