"""SqlProxies: node URLs standing for party URLs (pages, CDRs, command results)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import col

from scn_node.hub.ports import Proxy
from scn_node.scpi.party import PartyId
from scn_node.scpi.versions import InterfaceRole
from scn_node.store.records import now, utc
from scn_node.store.session import SqlStore
from scn_node.store.tables import ProxyRow


class SqlProxies(SqlStore):
    """Proxies are served for `proxy_days` after they were made; `purge_proxies` deletes them."""

    proxy_days: int = 30

    async def save_proxy(self, proxy: Proxy) -> None:
        async with self._session(transaction=True) as session:
            session.add(
                ProxyRow(
                    uid=proxy.uid,
                    caller_country_code=proxy.caller.country_code,
                    caller_party_id=proxy.caller.party_id,
                    target_country_code=proxy.target.country_code,
                    target_party_id=proxy.target.party_id,
                    url=proxy.url,
                    module=proxy.module,
                    interface=proxy.interface.value,
                    created_at=now(),
                )
            )

    async def purge_proxies(self, older_than: datetime) -> int:
        async with self._session(transaction=True) as session:
            result = await session.exec(
                delete(ProxyRow).where(col(ProxyRow.created_at) < older_than)
            )
        return int(result.rowcount)

    async def proxy(self, uid: str) -> Proxy | None:
        """The proxy `uid`, unless it is unknown or more than `proxy_days` old."""
        async with self._session() as session:
            row = await session.get(ProxyRow, uid)
        if row is None or utc(row.created_at) < now() - timedelta(days=self.proxy_days):
            return None
        return Proxy(
            uid=row.uid,
            caller=PartyId(row.caller_country_code, row.caller_party_id),
            target=PartyId(row.target_country_code, row.target_party_id),
            url=row.url,
            module=row.module,
            interface=InterfaceRole(row.interface),
        )
