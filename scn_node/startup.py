"""The checks `scn-node serve` runs before it accepts requests, each with a plain message."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from scn_node.hub.registration import same_url
from scn_node.registry.contract import RegistryContract
from scn_node.registry.errors import RegistryError
from scn_node.scpi.errors import HubError
from scn_node.settings import Settings
from scn_node.store import Database


async def registry_problems(contract: RegistryContract, address: str, node_url: str) -> list[str]:
    """What is wrong with this node's listing in the registry (nothing: an empty list)."""
    try:
        await contract.verify()
        listing = await contract.get_node(address)
    except RegistryError as error:
        return [f"the SCN Registry cannot be used: {error}"]
    if listing is None:
        return [
            f"this node ({address}) is not listed in the SCN Registry at {contract.address}; "
            f"list it with: scn-registry set-node {node_url} -s <node private key>"
        ]
    if not same_url(listing.url, node_url):
        return [
            f"this node ({address}) is listed in the SCN Registry with the URL {listing.url}, "
            f"but SCN_NODE_URL is {node_url}; update one of them "
            f"(scn-registry set-node {node_url} -s <node private key>)"
        ]
    return []


async def database_problems(settings: Settings) -> list[str]:
    """Whether the database answers and its tables can be created."""
    database = Database(settings.database_url)
    try:
        await database.create_tables()
    except (SQLAlchemyError, OSError, HubError) as error:
        where = settings.masked()["SCN_DATABASE_URL"]
        return [f"the database at {where} cannot be used: {type(error).__name__}: {error}"]
    finally:
        await database.close()
    return []
