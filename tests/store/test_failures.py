"""A database that fails is the node's problem, told as HubError; its errors carry no values."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from scn_node.devnet.chain import free_port
from scn_node.devnet.postgres import PostgresServer
from scn_node.hub.ports import Proxy
from scn_node.hub.rules import NO_RULES
from scn_node.scpi.errors import HubError
from scn_node.scpi.hubclientinfo import ClientInfo, ConnectionStatus
from scn_node.scpi.pagination import Page
from scn_node.scpi.party import Role
from scn_node.scpi.versions import InterfaceRole
from scn_node.store import Database, SqlDirectory
from scn_node.store.tables import PlatformRow
from tests.store.values import CPO, MSP, registration

UNAVAILABLE = r"^The node's database is unavailable$"
INFO = ClientInfo(CPO, Role.CPO, ConnectionStatus.PLANNED, datetime.now(UTC))
PROXY = Proxy("u1", MSP, CPO, "https://cpo.example/cdrs?page=2", "cdrs", InterfaceRole.SENDER)

CALLS: dict[str, Callable[[SqlDirectory], Awaitable[object]]] = {
    "authenticate": lambda s: s.authenticate("secret-token-c"),
    "issue_token_a": lambda s: s.issue_token_a("secret-token-a", None),
    "register": lambda s: s.register(1, "secret-token-a", registration((CPO, Role.CPO))),
    "unregister": lambda s: s.unregister(1),
    "platform_of": lambda s: s.platform_of(CPO),
    "endpoint": lambda s: s.endpoint(1, "locations", InterfaceRole.SENDER),
    "save_proxy": lambda s: s.save_proxy(PROXY),
    "proxy": lambda s: s.proxy("u1"),
    "purge_proxies": lambda s: s.purge_proxies(datetime.now(UTC)),
    "client_infos": lambda s: s.client_infos(Page(None, None, 0, 10)),
    "live_platforms": lambda s: s.live_platforms(),
    "set_status": lambda s: s.set_status(
        1, ConnectionStatus.OFFLINE, was=ConnectionStatus.CONNECTED
    ),
    "renew": lambda s: s.renew({CPO: datetime.now(UTC)}),
    "save_network_client_info": lambda s: s.save_network_client_info(INFO),
    "add_planned": lambda s: s.add_planned(INFO),
    "set_rules": lambda s: s.set_rules(1, "secret-token-c", NO_RULES.block_all()),
}


@pytest.fixture(params=["postgresql-closed-port", "sqlite-missing-directory"])
def unreachable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql-closed-port":
        return f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/scn"
    return f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'node.db'}"


def _join_failed_sqlite_workers() -> None:
    """aiosqlite stops the worker thread of a connection that failed to open without waiting
    for it; let it finish while this test's event loop is still open to hear from it."""
    for thread in threading.enumerate():
        if "_connection_worker_thread" in thread.name:
            thread.join(timeout=5)


@pytest.mark.parametrize("call", list(CALLS))
async def test_every_call_on_an_unreachable_database_is_a_hub_error(
    unreachable_url: str, call: str, caplog: pytest.LogCaptureFixture
) -> None:
    database = Database(unreachable_url)
    store = SqlDirectory(database)
    caplog.set_level(logging.WARNING, logger="scn_node.store.session")
    try:
        with pytest.raises(HubError, match=UNAVAILABLE):
            await CALLS[call](store)
    finally:
        await database.close()
        _join_failed_sqlite_workers()
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "Database call failed" in caplog.text
    assert "secret-token" not in caplog.text


async def test_a_connection_dropped_in_the_pool_fails_one_call_and_the_next_reconnects(
    postgres: PostgresServer,
) -> None:
    url = await postgres.new_database()
    database = Database(url)
    await database.create_tables()
    store = SqlDirectory(database)
    try:
        assert await store.proxy("u1") is None  # the pool now holds a connection
        name = url.rsplit("/", 1)[1]
        admin = await asyncpg.connect(
            host="127.0.0.1", port=postgres.port, user="postgres", database="postgres"
        )
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            for _ in range(100):
                left = await admin.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name
                )
                if left == 0:
                    break
                await asyncio.sleep(0.05)
        finally:
            await admin.close()
        with pytest.raises(HubError, match=UNAVAILABLE):
            await store.proxy("u1")
        assert await store.proxy("u1") is None
    finally:
        await database.close()


async def test_sql_errors_hide_their_parameters(database: Database) -> None:
    now = datetime.now(UTC)

    def platform(token_b: str) -> PlatformRow:
        return PlatformRow(
            status="CONNECTED",
            token_a_digest="the-same-digest",
            token_b=token_b,
            token_form="plain",
            last_updated=now,
            created_at=now,
        )

    async with database.sessions() as session:
        session.add(platform("first-token-b"))
        await session.commit()
        session.add(platform("second-secret-token-b"))
        with pytest.raises(IntegrityError) as raised:
            await session.commit()
    message = str(raised.value)
    assert "SQL parameters hidden" in message
    assert "second-secret-token-b" not in message


async def test_a_failing_statement_is_logged_without_its_values(
    store: SqlDirectory, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    platform = await store.issue_token_a("secret-token-a", None)
    async with database.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE platforms DROP COLUMN versions_url"))
    handshake = registration((CPO, Role.CPO))
    caplog.set_level(logging.WARNING, logger="scn_node.store.session")
    with pytest.raises(HubError, match=UNAVAILABLE):
        await store.register(platform.id, "secret-token-a", handshake)
    assert "UPDATE platforms" in caplog.text
    assert "SQL parameters hidden" in caplog.text
    for secret in (handshake.token_b, handshake.token_c, "secret-token-a"):
        assert secret not in caplog.text
