"""create_app: wire settings, the database, the registry and the HTTP client into one node."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from aiohttp import web
from eth_account import Account

from scn_node.clients.aiohttp_client import AiohttpPartyTransport, new_session
from scn_node.clients.party_client import HttpPartyTransport, new_client
from scn_node.hub.clientinfo import HubClientInfo
from scn_node.hub.forwarder import Forwarder
from scn_node.hub.network import ReplayGuard
from scn_node.hub.ports import ListedParty, PartyTransport
from scn_node.hub.registration import Handshake, NodeIdentity
from scn_node.registry.cache import CachedRegistry
from scn_node.registry.contract import RegistryContract
from scn_node.registry.errors import RegistryError
from scn_node.registry.permissions import PermissionsContract
from scn_node.registry.wallet import NodeWallet
from scn_node.scpi.errors import HubError
from scn_node.settings import Settings
from scn_node.store import Database, SqlDirectory, SqlRegistrySnapshot, SqlSeenMessages
from scn_node.web.handlers import CLIENT_INFO
from scn_node.web.middlewares import scpi_errors
from scn_node.web.routes import routes
from scn_node.web.state import STATE, NodeState

log = logging.getLogger(__name__)
T = TypeVar("T")


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def node_address(settings: Settings) -> str:
    if settings.private_key is None:
        raise ValueError("SCN_PRIVATE_KEY is not set")
    address: str = Account.from_key(settings.private_key).address
    return address


def _read_registry(read: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T]]:
    """A registry read that fails as the hub expects, with HubError."""

    async def reading() -> T:
        try:
            return await read()
        except RegistryError as error:
            raise HubError(f"The SCN Registry cannot be read right now: {error}") from None

    return reading


@contextlib.asynccontextmanager
async def _transport(settings: Settings) -> AsyncIterator[PartyTransport]:
    """One pooled client for every party and peer: aiohttp by default (bench/network.py
    measured it at a sixth of httpx's CPU per forwarded request), httpx if chosen."""
    deadline, connect = settings.party_timeout, settings.connect_timeout
    private = settings.calls_private_urls
    if settings.http_client == "httpx":
        async with new_client(timeout=deadline, connect_timeout=connect) as client:
            yield HttpPartyTransport(client, deadline=deadline, allow_private=private)
    else:
        async with new_session(timeout=deadline, connect_timeout=connect) as session:
            yield AiohttpPartyTransport(session, deadline=deadline, allow_private=private)


def create_app(
    settings: Settings,
    *,
    contract: RegistryContract | None = None,
) -> web.Application:
    """The node as an aiohttp application.

    Resources open when the app starts and close when it stops. A `contract` passed in
    belongs to the caller and is left open.
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
                    verify=False,  # `scn-node serve` checks it, and may start while it is away
                )
                stack.push_async_callback(registry.close)
            transport = await stack.enter_async_context(_transport(settings))
            wallet = NodeWallet(str(settings.private_key))
            node = NodeIdentity(settings.node_url, wallet.address)
            directory = SqlDirectory(database, proxy_days=settings.proxy_days)
            await directory.purge_proxies(datetime.now(UTC) - timedelta(days=settings.proxy_days))
            permissions = await _permissions(registry, settings.permissions_address)
            cached = CachedRegistry(
                registry,
                permissions=permissions,
                ttl=settings.registry_cache_seconds,
                saved=SqlRegistrySnapshot(database),
            )
            await cached.restore()
            stack.push_async_callback(cached.save)  # what was read since the watch last saved
            chain = registry  # the uncached contract: these reads are rare and want news

            async def other_nodes() -> list[str]:
                own = node.address.lower()
                return [
                    n.url for n in await chain.list_nodes() if n.operator.lower() != own and n.url
                ]

            async def planned_parties() -> list[ListedParty]:
                return [
                    ListedParty(p.party, p.roles, p.operator, p.node_url, p.address)
                    for p in await chain.list_parties_of(node.address)
                ]

            client_info = HubClientInfo(
                directory,
                cached,
                transport,
                wallet,
                nodes=_read_registry(other_nodes),
                planned=_read_registry(planned_parties),
            )
            stack.push_async_callback(client_info.close)  # before the client and database close
            app[CLIENT_INFO] = client_info
            app[STATE] = NodeState(
                settings=settings,
                node=node,
                directory=directory,
                registry=cached,
                forwarder=Forwarder(
                    directory,
                    cached,
                    transport,
                    node_url=node.url,
                    wallet=wallet,
                    signatures=settings.signatures,
                    services=permissions is not None,
                    # Replays are refused across restarts and processes sharing the database.
                    replays=ReplayGuard(SqlSeenMessages(database)),
                ),
                handshake=Handshake(directory, cached, transport, node, events=client_info),
            )
            handshake = app[STATE].handshake
            stack.push_async_callback(app[STATE].forwarder.close)

            async def release_moved() -> None:
                await handshake.release_moved_parties()

            cached.on_change.append(release_moved)
            watcher = asyncio.create_task(cached.watch(settings.registry_poll_seconds))
            stack.push_async_callback(_cancel, watcher)
            client_info.start(
                still_alive_seconds=settings.still_alive_seconds,
                planned_party_seconds=settings.planned_party_seconds,
            )
            yield

    app.cleanup_ctx.append(resources)
    return app


async def _permissions(registry: RegistryContract, address: str) -> PermissionsContract | None:
    """The Permissions contract on the registry's connection, or None (services off) when it
    is not configured or not there: services are optional, routing is not."""
    if not address:
        return None
    permissions = PermissionsContract(registry.w3, address)
    try:
        await permissions.verify()
        served = await permissions.registry_address()
    except RegistryError as error:
        log.warning("no service copies: %s", error)
        return None
    if served.lower() != registry.address.lower():
        log.warning(
            "no service copies: the Permissions contract at %s reads another registry (%s)",
            address, served,
        )  # fmt: skip
        return None
    return permissions
