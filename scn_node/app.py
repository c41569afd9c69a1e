"""create_app: wire settings, the database, the registry and the HTTP client into one node."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
from aiohttp import web
from eth_account import Account

from scn_node.clients.party_client import HttpPartyTransport, new_client
from scn_node.hub.forwarder import Forwarder
from scn_node.hub.registration import Handshake, NodeIdentity
from scn_node.registry.cache import CachedRegistry
from scn_node.registry.contract import RegistryContract
from scn_node.settings import Settings
from scn_node.store import Database, SqlDirectory
from scn_node.web.middlewares import scpi_errors
from scn_node.web.routes import routes
from scn_node.web.state import STATE, NodeState


def node_address(settings: Settings) -> str:
    if settings.private_key is None:
        raise ValueError("SCN_PRIVATE_KEY is not set")
    address: str = Account.from_key(settings.private_key).address
    return address


def create_app(
    settings: Settings,
    *,
    contract: RegistryContract | None = None,
    http_client: httpx.AsyncClient | None = None,
) -> web.Application:
    """The node as an aiohttp application.

    Resources open when the app starts and close when it stops. A `contract` or `http_client`
    passed in belongs to the caller and is left open.
    """
    app = web.Application(middlewares=[scpi_errors], client_max_size=settings.max_body_bytes)
    app.add_routes(routes())

    async def resources(app: web.Application) -> AsyncIterator[None]:
        database = Database(settings.database_url)
        await database.create_tables()
        registry = contract or await RegistryContract.connect(
            settings.rpc_url, settings.registry_address, rpc_timeout=settings.registry_timeout
        )
        client = http_client or new_client(
            timeout=settings.party_timeout, connect_timeout=settings.connect_timeout
        )
        try:
            node = NodeIdentity(settings.node_url, node_address(settings))
            directory = SqlDirectory(database)
            await directory.purge_proxies(datetime.now(UTC) - timedelta(days=settings.proxy_days))
            cached = CachedRegistry(registry, ttl=settings.registry_cache_seconds)
            transport = HttpPartyTransport(client)
            app[STATE] = NodeState(
                settings=settings,
                node=node,
                directory=directory,
                registry=cached,
                forwarder=Forwarder(
                    directory, cached, transport, node_url=node.url, node_address=node.address
                ),
                handshake=Handshake(directory, cached, transport, node),
            )
            yield
        finally:
            if http_client is None:
                await client.aclose()
            if contract is None:
                await registry.close()
            await database.close()

    app.cleanup_ctx.append(resources)
    return app
