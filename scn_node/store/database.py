"""The async engine: SQLite (aiosqlite) by default, PostgreSQL (asyncpg) in production, and
SQLite in memory (`sqlite+aiosqlite://`) for tests that want the real store without a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, make_url, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlmodel.ext.asyncio.session import AsyncSession

MIGRATIONS = Path(__file__).parent / "migrations"

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


class SchemaNotCurrent(Exception):
    """The database's schema is not the one this node needs, and the node must not change it."""


def _config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, made here: no alembic.ini to ship or find."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


# The newest revision: the schema this code reads and writes.
HEAD = ScriptDirectory.from_config(_config()).get_current_head()


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

    async def migrate(self, target: str = "head") -> tuple[str | None, str | None]:
        """Bring the schema to the newest revision (or `target`), a database made before
        Alembic too: the revisions before and after."""
        async with self.engine.begin() as connection:
            return await connection.run_sync(_upgrade, target)

    async def revision(self) -> str | None:
        """The schema's revision; None for an empty database or one made before Alembic."""
        async with self.engine.connect() as connection:
            return await connection.run_sync(_current)

    async def prepare(self) -> None:
        """What a starting node does to the schema. SQLite migrates: one process owns it. On
        PostgreSQL several instances share the database, so none changes it at start; the
        operator runs `scn-node migrate`, and a node finding another revision refuses to run."""
        if self.engine.dialect.name == "sqlite":
            await self.migrate()
            return
        current = await self.revision()
        if current != HEAD:
            raise SchemaNotCurrent(
                f"the database is at revision {current or 'none'}, this node needs {HEAD}: "
                "run `scn-node migrate`"
            )

    async def create_tables(self) -> None:
        """The schema for a new (often in-memory) database: the same migration, so tests run
        on the schema production gets."""
        await self.migrate()

    async def close(self) -> None:
        await self.engine.dispose()


def _in_memory(url: str) -> bool:
    """`sqlite+aiosqlite://` or `…:///:memory:`: a database for tests that need no file."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection, target: str) -> tuple[str | None, str | None]:
    if connection.dialect.name == "postgresql":
        # Two `scn-node migrate` at once: the second waits, then finds nothing left to do.
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('scn-node migrate'))"))
    before = _current(connection)
    command.upgrade(_config(connection), target)
    return before, _current(connection)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL lets readers run while a registration writes; the timeout queues concurrent writers.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
