"""SqlPlatforms: the platforms connected here, found by id or by party, and their status."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import case, exists, func, update
from sqlmodel import col, select

from scn_node.hub.ports import Platform
from scn_node.hub.rules import PartyRules
from scn_node.scpi.hubclientinfo import ConnectionStatus
from scn_node.scpi.party import PartyId
from scn_node.store import records
from scn_node.store.records import LIVE, digest, now, roles_of, rules_record
from scn_node.store.session import SqlStore
from scn_node.store.tables import PlatformRow, RoleRow


class SqlPlatforms(SqlStore):
    """`platform_of` is on the forward path: its answers (also "not here") are cached."""

    async def platform(self, platform_id: int) -> Platform | None:
        async with self._session() as session:
            row = await session.get(PlatformRow, platform_id)
            if row is None:
                return None
            roles = await roles_of(session, platform_id)
        return records.platform(row, roles)

    async def platforms(self, offset: int, limit: int) -> tuple[list[Platform], int]:
        with_roles = exists().where(col(RoleRow.platform_id) == PlatformRow.id)
        count = select(func.count()).select_from(PlatformRow).where(with_roles)
        page = (
            select(PlatformRow)
            .where(with_roles)
            .order_by(col(PlatformRow.id))
            .offset(offset)
            .limit(limit)
        )
        async with self._session() as session:
            total = (await session.exec(count)).one()
            rows = list((await session.exec(page)).all())
            ids = [r.id for r in rows]
            roles = (
                await session.exec(
                    select(RoleRow)
                    .where(col(RoleRow.platform_id).in_(ids))
                    .order_by(col(RoleRow.id))
                )
            ).all()
        by_platform: dict[int, list[RoleRow]] = {}
        for role in roles:
            by_platform.setdefault(role.platform_id, []).append(role)
        return [records.platform(r, by_platform.get(r.id or 0, [])) for r in rows], int(total)

    async def set_rules(self, platform_id: int, token: str, rules: PartyRules) -> Platform | None:
        """Only the platform's current TOKEN_C may change its rules: one that was replaced (PUT
        credentials) or dropped (DELETE credentials) meanwhile changes nothing."""
        async with self._writing() as session:
            changed = await session.exec(
                update(PlatformRow)
                .where(
                    col(PlatformRow.id) == platform_id,
                    col(PlatformRow.token_c_digest) == digest(token),
                )
                .values(rules=rules_record(rules))
            )
            if changed.rowcount != 1:
                return None
            row = await session.get(PlatformRow, platform_id)
            assert row is not None
            roles = await roles_of(session, platform_id)
        return records.platform(row, roles)

    async def set_status(
        self, platform_id: int, status: ConnectionStatus, *, was: ConnectionStatus
    ) -> Platform | None:
        """The roles stay active: an OFFLINE platform still holds its parties and comes back
        with the tokens it has, so no other connection may take them meanwhile."""
        async with self._writing() as session:
            changed = await session.exec(
                update(PlatformRow)
                .where(col(PlatformRow.id) == platform_id, col(PlatformRow.status) == was.value)
                .values(status=status.value, last_updated=now())
            )
            if changed.rowcount != 1:
                return None  # it left, or another check moved it, meanwhile
            row = await session.get(PlatformRow, platform_id)
            assert row is not None
            roles = await roles_of(session, platform_id)
        return records.platform(row, roles)

    async def renew(self, heard: Mapping[PartyId, datetime]) -> None:
        """The cache is kept: when a party was last heard from changes nothing it holds that
        matters (a Platform's last_updated is shown, never decided on, from the cache)."""
        if not heard:
            return
        async with self._session(transaction=True) as session:
            for party, moment in heard.items():
                holders = select(RoleRow.platform_id).where(
                    col(RoleRow.country_code) == party.country_code,
                    col(RoleRow.party_id) == party.party_id,
                    col(RoleRow.active),
                )
                await session.exec(
                    update(PlatformRow)
                    .where(
                        col(PlatformRow.id).in_(holders),
                        col(PlatformRow.status).in_(LIVE),
                        col(PlatformRow.last_updated) < moment,
                    )
                    .values(last_updated=moment)
                )

    async def platform_of(self, party: PartyId) -> Platform | None:
        # A party on another node is asked for on every request to it: "not here" is kept too.
        return await self.cache.through(
            ("party", party), lambda: self._platform_of(party), keep_none=True
        )

    async def _platform_of(self, party: PartyId) -> Platform | None:
        connected_first = case(
            (col(PlatformRow.status) == ConnectionStatus.CONNECTED.value, 0), else_=1
        )
        best = (
            select(PlatformRow.id)
            .join(RoleRow, col(RoleRow.platform_id) == PlatformRow.id)
            .where(RoleRow.country_code == party.country_code, RoleRow.party_id == party.party_id)
            .order_by(connected_first, col(PlatformRow.id).desc())
            .limit(1)
            .scalar_subquery()
        )
        statement = (
            select(PlatformRow, RoleRow)
            .join(RoleRow, col(RoleRow.platform_id) == PlatformRow.id)
            .where(col(PlatformRow.id) == best)
            .order_by(col(RoleRow.id))
        )
        async with self._session() as session:
            rows = list((await session.exec(statement)).all())
        if not rows:
            return None
        return records.platform(rows[0][0], [r for _, r in rows])

    async def connected_platforms(self) -> list[Platform]:
        # Every broadcast asks: kept like the forward path's reads, dropped by every write.
        found = await self.cache.through(
            ("connected",), lambda: self._platforms(ConnectionStatus.CONNECTED.value)
        )
        return list(found or ())

    async def live_platforms(self) -> list[Platform]:
        return await self._platforms(*LIVE)

    async def _platforms(self, *statuses: str) -> list[Platform]:
        statement = (
            select(PlatformRow, RoleRow)
            .join(RoleRow, col(RoleRow.platform_id) == PlatformRow.id)
            .where(col(PlatformRow.status).in_(statuses))
            .order_by(col(PlatformRow.id), col(RoleRow.id))
        )
        async with self._session() as session:
            rows = list((await session.exec(statement)).all())
        grouped: dict[int, tuple[PlatformRow, list[RoleRow]]] = {}
        for platform, role in rows:
            assert platform.id is not None
            grouped.setdefault(platform.id, (platform, []))[1].append(role)
        return [records.platform(platform, roles) for platform, roles in grouped.values()]
