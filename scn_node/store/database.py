"""The async engine: SQLite (aiosqlite) by default, PostgreSQL (asyncpg) in production, and
SQLite in memory (`sqlite+aiosqlite://`) for tests that want the real store without a file."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, make_url, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlmodel.ext.asyncio.session import AsyncSession

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"

log = logging.getLogger(__name__)
# Alembic says at INFO what it loads (on import) and which dialect it found, at every start; the
# node says itself when the schema changed (Database.migrate). So alembic is imported only after
# this, in the functions below.
logging.getLogger("alembic").setLevel(logging.WARNING)

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


class MigrationFailed(Exception):
    """Alembic could not bring the schema to the revision asked (e.g. an unknown revision)."""


class SchemaNotCurrent(Exception):
    """The database's schema is not the one this node needs, and the node must not change it."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, made here: no alembic.ini to ship or find."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # New revision files are importable module names (r0002_…), which mypy and ruff check.
    config.set_main_option("file_template", "r%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


@functools.cache
def head() -> str:
    """The newest revision: the schema this code reads and writes."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None  # versions/ ships with the package
    return revision


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
            before, after = await connection.run_sync(_upgrade, target)
        if before != after:
            log.info("database schema upgraded from revision %s to %s", before or "none", after)
        return before, after

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
        if current != head():
            raise SchemaNotCurrent(
                f"the database is at revision {current or 'none'}, this node needs {head()}: "
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
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection, target: str) -> tuple[str | None, str | None]:
    if connection.dialect.name == "postgresql":
        # Two `scn-node migrate` at once: the second waits, then finds nothing left to do.
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('scn-node migrate'))"))
    from alembic import command
    from alembic.util import CommandError

    before = _current(connection)
    try:
        command.upgrade(alembic_config(connection), target)
    except CommandError as error:
        raise MigrationFailed(str(error)) from None
    return before, _current(connection)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL lets readers run while a registration writes; the timeout queues concurrent writers.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
