"""create_app: wire settings, the database, the registry and the HTTP client into one node."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import httpx
from aiohttp import web
from eth_account import Account

from scn_node.clients.party_client import HttpPartyTransport, new_client
from scn_node.hub.forwarder import Forwarder
from scn_node.hub.registration import Handshake, NodeIdentity
from scn_node.registry.cache import CachedRegistry
from scn_node.registry.contract import RegistryContract
from scn_node.registry.wallet import NodeWallet
from scn_node.settings import Settings
from scn_node.store import Database, SqlDirectory
from scn_node.web.middlewares import scpi_errors
from scn_node.web.routes import routes
from scn_node.web.state import STATE, NodeState


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


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
    # py_ecc (imported by eth-account) raises the recursion limit to 100000; at that depth a
    # deeply nested JSON body overflows the C stack inside json.loads before RecursionError.
    sys.setrecursionlimit(min(sys.getrecursionlimit(), 1000))
    app = web.Application(middlewares=[scpi_errors], client_max_size=settings.max_body_bytes)
    app.add_routes(routes())

    async def resources(app: web.Application) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            database = Database(settings.database_url)
            stack.push_async_callback(database.close)
            await database.create_tables()
            registry = contract
            if registry is None:
                registry = await RegistryContract.connect(
                    settings.rpc_url,
                    settings.registry_address,
                    rpc_timeout=settings.registry_timeout,
                )
                stack.push_async_callback(registry.close)
            client = http_client
            if client is None:
                client = new_client(
                    timeout=settings.party_timeout, connect_timeout=settings.connect_timeout
                )
                stack.push_async_callback(client.aclose)
            wallet = NodeWallet(str(settings.private_key))
            node = NodeIdentity(settings.node_url, wallet.address)
            directory = SqlDirectory(database, proxy_days=settings.proxy_days)
            await directory.purge_proxies(datetime.now(UTC) - timedelta(days=settings.proxy_days))
            cached = CachedRegistry(registry, ttl=settings.registry_cache_seconds)
            transport = HttpPartyTransport(
                client, deadline=settings.party_timeout, allow_private=settings.calls_private_urls
            )
            app[STATE] = NodeState(
                settings=settings,
                node=node,
                directory=directory,
                registry=cached,
                forwarder=Forwarder(directory, cached, transport, node_url=node.url, wallet=wallet),
                handshake=Handshake(directory, cached, transport, node),
            )
            handshake = app[STATE].handshake

            async def release_moved() -> None:
                await handshake.release_moved_parties()

            cached.on_change.append(release_moved)
            watcher = asyncio.create_task(cached.watch(settings.registry_poll_seconds))
            stack.push_async_callback(_cancel, watcher)
            yield

    app.cleanup_ctx.append(resources)
    return app
