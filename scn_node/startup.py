"""The checks `scn-node serve` runs before it accepts requests, each with a plain message."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from scn_node.hub.registration import same_url
from scn_node.registry.contract import RegistryContract
from scn_node.registry.errors import RegistryError, RegistryUnavailable
from scn_node.scpi.errors import HubError
from scn_node.settings import Settings
from scn_node.store import Database, SqlRegistrySnapshot
from scn_node.store.database import MigrationFailed, SchemaNotCurrent


async def registry_problems(
    contract: RegistryContract, address: str, node_url: str, *, saved_answers: int = 0
) -> list[str]:
    """What is wrong with this node's listing in the registry (nothing: an empty list).

    A chain that does not answer is no problem for a node with `saved_answers`: it starts,
    routes from them and says so in its log, and checks the chain again in the background."""
    try:
        await contract.verify()
        listing = await contract.get_node(address)
    except RegistryUnavailable as error:
        if saved_answers:
            return []
        return [
            f"the SCN Registry cannot be used: {error}; this node has no saved registry "
            "answers to route from until it answers"
        ]
    except RegistryError as error:
        return [f"the SCN Registry cannot be used: {error}"]
    if listing is None:
        return [
            f"this node ({address}) is not listed in the SCN Registry at {contract.address}; "
            f"list it with: scn-registry -s <node private key> set-node {node_url}"
        ]
    if not same_url(listing.url, node_url):
        return [
            f"this node ({address}) is listed in the SCN Registry with the URL {listing.url}, "
            f"but SCN_NODE_URL is {node_url}; update one of them "
            f"(scn-registry -s <node private key> set-node {node_url})"
        ]
    return []


async def database_problems(settings: Settings) -> tuple[list[str], int]:
    """Whether the database answers and its schema is current (SQLite: migrated here); and
    how many registry answers it has saved (a node with some may start while the chain is
    away)."""
    database = Database(settings.database_url)
    try:
        await database.prepare()
        return [], await SqlRegistrySnapshot(database).count()
    except SchemaNotCurrent as error:
        return [str(error)], 0
    except (SQLAlchemyError, OSError, HubError, MigrationFailed) as error:
        where = settings.masked()["SCN_DATABASE_URL"]
        return [f"the database at {where} cannot be used: {type(error).__name__}: {error}"], 0
    finally:
        await database.close()


def new_sqlite_files(database_url: str) -> list[Path]:
    """The SQLite files that do not exist yet and a start would create. A failed start removes
    them again, so it leaves no empty database behind; an existing one is never touched."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return []
    name = url.database
    if url.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return []
    if name.startswith("file:") or Path(name).exists():
        return []
    files = [Path(name + suffix) for suffix in ("", "-journal", "-wal", "-shm")]
    return [path for path in files if not path.exists()]
