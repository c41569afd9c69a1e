"""create_app: the node as an aiohttp application: its routes, its one error middleware, and
its resources (`wiring.node_state`), opened when the app starts and closed when it stops."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from eth_account import Account

from scn_node.hub.node import Clock
from scn_node.hub.ports import Directory, NetworkListing, Registry, Transport, Wallet
from scn_node.registry.contract import RegistryContract
from scn_node.settings import Settings
from scn_node.web.middlewares import scpi_errors
from scn_node.web.routes import routes
from scn_node.web.state import STATE
from scn_node.wiring import Dependencies, node_state


def node_address(settings: Settings) -> str:
    if settings.private_key is None:
        raise ValueError("SCN_PRIVATE_KEY is not set")
    address: str = Account.from_key(settings.private_key).address
    return address


def create_app(
    settings: Settings,
    *,
    contract: RegistryContract | None = None,
    registry: Registry | None = None,
    listing: NetworkListing | None = None,
    transport: Transport | None = None,
    directory: Directory | None = None,
    wallet: Wallet | None = None,
    clock: Clock | None = None,
) -> web.Application:
    """The node as an aiohttp application. Each dependency left None is built from `settings`
    (see `wiring.Dependencies`); a `contract` passed in belongs to the caller and stays open."""
    app = web.Application(middlewares=[scpi_errors], client_max_size=settings.max_body_bytes)
    app.add_routes(routes())
    given = Dependencies(contract, registry, listing, transport, directory, wallet, clock)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        async with node_state(settings, given) as state:
            app[STATE] = state
            yield

    app.cleanup_ctx.append(resources)
    return app
