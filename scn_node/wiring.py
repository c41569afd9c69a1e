"""The node's resources, opened when the app starts and closed when it stops: the database, the
registry (the chain contract, cached), the HTTP client, and the hub services over them.

Every resource may be handed in instead (`Dependencies`): a test builds a node over an
in-memory registry and a fake transport, with no chain and no socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from scn_node.clients import AiohttpTransport, new_session
from scn_node.hub.node import Clock, Hub
from scn_node.hub.ports import (
    Directory,
    ListedParty,
    NetworkListing,
    Registry,
    Transport,
    Wallet,
)
from scn_node.hub.registration import NodeIdentity
from scn_node.registry.cache import CachedRegistry
from scn_node.registry.contract import RegistryContract
from scn_node.registry.errors import RegistryError
from scn_node.registry.permissions import PermissionsContract
from scn_node.registry.wallet import NodeWallet
from scn_node.scpi.errors import HubError
from scn_node.settings import Settings
from scn_node.store import Database, SqlDirectory, SqlRegistrySnapshot, SqlSeenMessages
from scn_node.store.leases import LeaderLease
from scn_node.web.state import NodeState

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Dependencies:
    """What a node can be given instead of building it from its settings (None: build it).

    `contract` belongs to the caller and is left open. A `registry` is used as is (no cache,
    no chain watch); `listing` then says what the chain would (none given: no other nodes, no
    planned parties)."""

    contract: RegistryContract | None = None
    registry: Registry | None = None
    listing: NetworkListing | None = None
    transport: Transport | None = None
    directory: Directory | None = None
    wallet: Wallet | None = None
    clock: Clock | None = None


class ChainListing:
    """The registry's rarer reads, from the contract itself (they want news, not a cache)."""

    def __init__(self, contract: RegistryContract, own_address: str) -> None:
        self.contract = contract
        self.own = own_address.lower()

    async def other_nodes(self) -> Sequence[str]:
        nodes = await _reading(self.contract.list_nodes)
        return [n.url for n in nodes if n.operator.lower() != self.own and n.url]

    async def planned_parties(self) -> Sequence[ListedParty]:
        return await _reading(lambda: self.contract.list_parties_of(self.own))


class NoNetwork:
    """A listing with no other nodes and no planned parties."""

    async def other_nodes(self) -> Sequence[str]:
        return []

    async def planned_parties(self) -> Sequence[ListedParty]:
        return []


async def _reading(read: Callable[[], Awaitable[T]]) -> T:
    """A registry read that fails as the hub expects, with HubError."""
    try:
        return await read()
    except RegistryError as error:
        raise HubError(f"The SCN Registry cannot be read right now: {error}") from None


@contextlib.asynccontextmanager
async def node_state(settings: Settings, given: Dependencies) -> AsyncIterator[NodeState]:
    """Open every resource of the node, yield what its handlers share, close them all."""
    async with AsyncExitStack() as stack:
        database = Database(settings.database_url)
        stack.push_async_callback(database.close)
        await database.prepare()  # SQLite: migrated; PostgreSQL: at head, or no start
        wallet = given.wallet or NodeWallet(str(settings.private_key))
        node = NodeIdentity(settings.node_url, wallet.address)
        # One instance of those sharing the database runs the background work; closed after
        # the hub (whose loops ask it), so the next leader takes over at its next try.
        lease = LeaderLease(database)
        stack.push_async_callback(lease.close)
        directory = given.directory
        if directory is None:
            sql = SqlDirectory(database, proxy_days=settings.proxy_days)
            await sql.start()  # hears other instances' writes (PostgreSQL)
            stack.push_async_callback(sql.close)
            if await lease.lead():
                await sql.purge_proxies(datetime.now(UTC) - timedelta(days=settings.proxy_days))
                await sql.purge_route_keys(datetime.now(UTC) - timedelta(days=settings.proxy_days))
            directory = sql
        transport = given.transport
        if transport is None:
            transport = await stack.enter_async_context(_transport(settings))
        registry, listing, services = given.registry, given.listing, True
        cached: CachedRegistry | None = None
        if registry is None:
            contract = given.contract
            if contract is None:
                contract = await RegistryContract.connect(
                    settings.rpc_url,
                    settings.registry_address,
                    rpc_timeout=settings.registry_timeout,
                    verify=False,  # `scn-node serve` checks it, and may start while it is away
                )
                stack.push_async_callback(contract.close)
            permissions = await _permissions(contract, settings.permissions_address)
            services = permissions is not None
            cached = CachedRegistry(
                contract,
                permissions=permissions,
                ttl=settings.registry_cache_seconds,
                saved=SqlRegistrySnapshot(database),
            )
            await cached.restore()
            stack.push_async_callback(cached.save)  # what was read since the watch last saved
            registry, listing = cached, listing or ChainListing(contract, node.address)
        hub = Hub.build(
            node,
            directory=directory,
            registry=registry,
            listing=listing or NoNetwork(),
            transport=transport,
            wallet=wallet,
            # Replays are refused across restarts and processes sharing the database.
            seen=SqlSeenMessages(database),
            signatures=settings.signatures,
            services=services,
            broadcast_wait=settings.broadcast_wait,
            clock=given.clock,
            leadership=lease,
        )
        stack.push_async_callback(hub.close)  # before the client and database close
        if cached is not None:
            handshake = hub.handshake

            async def release_moved() -> None:
                # Every instance polls (it expires its own cache); the leader releases.
                if await lease.lead():
                    await handshake.release_moved_parties()

            cached.on_change.append(release_moved)
            watcher = asyncio.create_task(cached.watch(settings.registry_poll_seconds))
            stack.push_async_callback(_cancel, watcher)
        hub.presence.start(
            still_alive_seconds=settings.still_alive_seconds,
            planned_party_seconds=settings.planned_party_seconds,
        )
        yield NodeState(
            settings=settings,
            node=node,
            directory=directory,
            registry=registry,
            forwarder=hub.forwarder,
            handshake=hub.handshake,
            client_info=hub.presence,
        )


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@contextlib.asynccontextmanager
async def _transport(settings: Settings) -> AsyncIterator[Transport]:
    """One pooled aiohttp session for every party and peer node."""
    deadline, connect = settings.party_timeout, settings.connect_timeout
    async with new_session(timeout=deadline, connect_timeout=connect) as session:
        yield AiohttpTransport(
            session, deadline=deadline, allow_private=settings.calls_private_urls
        )


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
