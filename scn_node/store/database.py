"""The async engine: SQLite (aiosqlite) by default, PostgreSQL (asyncpg) in production, and
SQLite in memory (`sqlite+aiosqlite://`) for tests that want the real store without a file."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, make_url, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from scn_node.store import tables
from scn_node.store.tables import ACTIVE_PARTY_ROLE

# What a database that is down, unreachable or out of connections raises: SQLAlchemy's wrapped
# driver errors (OperationalError, InterfaceError, ...), its pool timeout, and what a driver
# raises unwrapped while connecting (refused, unreachable, timed out). IntegrityError is a
# DBAPIError too, but it is an answer, not an outage: every store lets it through.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    sa_exc.DBAPIError,
    sa_exc.TimeoutError,
    OSError,
    TimeoutError,
)


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        # hide_parameters: an error (and its log line) never carries a token or other value.
        # No pool_pre_ping: a connection that died in the pool fails one call, which the
        # directory reports as HubError, and SQLAlchemy then discards the pool's connections.
        options: dict[str, Any] = {}
        if _in_memory(url):
            # An in-memory database lives in its one connection. A pool of exactly that
            # connection keeps it, and hands it to one session at a time (StaticPool would hand
            # it to concurrent sessions at once, interleaving their transactions).
            options = {"poolclass": AsyncAdaptedQueuePool, "pool_size": 1, "max_overflow": 0}
        self.engine: AsyncEngine = create_async_engine(url, hide_parameters=True, **options)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    async def create_tables(self) -> None:
        async with self.engine.begin() as connection:
            await connection.run_sync(_add_roles_active)
            await connection.run_sync(_add_platforms_rules)
            await connection.run_sync(_add_platforms_version)
            await connection.run_sync(SQLModel.metadata.create_all)

    async def close(self) -> None:
        await self.engine.dispose()


def _in_memory(url: str) -> bool:
    """`sqlite+aiosqlite://` or `…:///:memory:`: a database for tests that need no file."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def _add_roles_active(connection: Connection) -> None:
    """Upgrade a database made before roles had `active`: a role is active while its platform
    is CONNECTED. create_all then leaves the existing table alone, so the index is made here."""
    inspector = inspect(connection)
    if not inspector.has_table(tables.RoleRow.__tablename__):
        return
    if any(c["name"] == "active" for c in inspector.get_columns(tables.RoleRow.__tablename__)):
        return
    connection.execute(text("ALTER TABLE roles ADD COLUMN active BOOLEAN NOT NULL DEFAULT FALSE"))
    connection.execute(
        text(
            "UPDATE roles SET active = TRUE WHERE platform_id IN "
            "(SELECT id FROM platforms WHERE status = 'CONNECTED')"
        )
    )
    ACTIVE_PARTY_ROLE.create(connection, checkfirst=True)


def _add_platforms_rules(connection: Connection) -> None:
    """Upgrade a database made before platforms had `rules`: no platform has any yet."""
    inspector = inspect(connection)
    if not inspector.has_table(tables.PlatformRow.__tablename__):
        return
    if any(c["name"] == "rules" for c in inspector.get_columns(tables.PlatformRow.__tablename__)):
        return
    connection.execute(text("ALTER TABLE platforms ADD COLUMN rules TEXT"))


def _add_platforms_version(connection: Connection) -> None:
    """Upgrade a database made before platforms had `version`: the node spoke only 2.2 then,
    so every platform that completed a handshake (it has a versions URL) registered with 2.2."""
    inspector = inspect(connection)
    if not inspector.has_table(tables.PlatformRow.__tablename__):
        return
    columns = inspector.get_columns(tables.PlatformRow.__tablename__)
    if any(c["name"] == "version" for c in columns):
        return
    connection.execute(text("ALTER TABLE platforms ADD COLUMN version VARCHAR"))
    connection.execute(text("UPDATE platforms SET version = '2.2' WHERE versions_url IS NOT NULL"))


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL lets readers run while a registration writes; the timeout queues concurrent writers.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
