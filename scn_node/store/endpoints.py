"""SqlEndpoints: the module endpoints each platform offered in its handshake."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import col, select

from scn_node.scpi.versions import Endpoint, InterfaceRole
from scn_node.store.session import SqlStore
from scn_node.store.tables import EndpointRow


class SqlEndpoints(SqlStore):
    """`endpoint` is on the forward path: its answers are cached."""

    async def endpoints(self, platform_id: int) -> list[Endpoint]:
        statement = (
            select(EndpointRow)
            .where(col(EndpointRow.platform_id) == platform_id)
            .order_by(col(EndpointRow.id))
        )
        async with self._session() as session:
            rows = (await session.exec(statement)).all()
        return [
            Endpoint(identifier=r.identifier, role=InterfaceRole(r.role), url=r.url) for r in rows
        ]

    async def endpoint_counts(self, platform_ids: Sequence[int]) -> dict[int, int]:
        statement = (
            select(EndpointRow.platform_id, func.count())
            .where(col(EndpointRow.platform_id).in_(list(platform_ids)))
            .group_by(col(EndpointRow.platform_id))
        )
        async with self._session() as session:
            rows = (await session.exec(statement)).all()
        return {platform_id: int(count) for platform_id, count in rows}

    async def endpoint(self, platform_id: int, module: str, interface: InterfaceRole) -> str | None:
        return await self.cache.through(
            ("endpoint", platform_id, module, interface),
            lambda: self._endpoint(platform_id, module, interface),
        )

    async def _endpoint(
        self, platform_id: int, module: str, interface: InterfaceRole
    ) -> str | None:
        statement = (
            select(EndpointRow.url)
            .where(
                EndpointRow.platform_id == platform_id,
                EndpointRow.identifier == module,
                EndpointRow.role == interface.value,
            )
            .order_by(col(EndpointRow.id))
            .limit(1)
        )
        async with self._session() as session:
            return (await session.exec(statement)).first()
