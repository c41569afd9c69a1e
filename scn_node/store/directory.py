"""SqlDirectory: the hub's Directory port over the node's tables, one part per job.

Registrations (tokens, handshake writes), platforms (lookups, status, rules), endpoints,
proxies and network ClientInfo each live in their own module; they share one database and one
read cache (store/session.py, store/cache.py).
"""

from __future__ import annotations

from scn_node.store.database import Database
from scn_node.store.endpoints import SqlEndpoints
from scn_node.store.hub_objects import SqlHubObjects
from scn_node.store.network_info import SqlNetworkInfo
from scn_node.store.platforms import SqlPlatforms
from scn_node.store.proxies import SqlProxies
from scn_node.store.records import digest
from scn_node.store.registrations import SqlRegistrations
from scn_node.store.route_keys import SqlRouteKeys

__all__ = ["SqlDirectory", "digest"]


class SqlDirectory(
    SqlRegistrations,
    SqlPlatforms,
    SqlEndpoints,
    SqlProxies,
    SqlNetworkInfo,
    SqlHubObjects,
    SqlRouteKeys,
):
    """Reads on the forward path (a token, a party's platform, an endpoint) are kept in memory
    for `cache_seconds`, and every write here drops them, so a routed request usually costs no
    database round trip. On PostgreSQL, once `start`ed, a write by another instance sharing the
    database drops them too, as soon as it commits (store/notify.py); without it, the bound
    for such writes is `cache_seconds`.

    Proxies are served for `proxy_days` after they were made.

    A database that fails (down, unreachable, out of connections) is reported as HubError;
    the original error is logged, without SQL parameters."""

    def __init__(
        self, database: Database, *, cache_seconds: float = 5.0, proxy_days: int = 30
    ) -> None:
        super().__init__(database, cache_seconds=cache_seconds)
        self.proxy_days = proxy_days

    async def start(self) -> None:
        """Hear the writes of other instances sharing the database (nothing to do on SQLite)."""
        await self.notices.start()

    async def close(self) -> None:
        await self.notices.close()
