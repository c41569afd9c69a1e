"""SqlDirectory details that the HTTP tests cannot reach: proxy expiry and token digests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, update

from scn_node.hub.ports import Proxy
from scn_node.scpi.party import PartyId
from scn_node.scpi.versions import InterfaceRole
from scn_node.store import Database, SqlDirectory
from scn_node.store.tables import PlatformRow, ProxyRow


def proxy(uid: str) -> Proxy:
    return Proxy(
        uid, PartyId("DE", "MSP"), PartyId("DE", "CPO"), "http://p", "cdrs", InterfaceRole.RECEIVER
    )


async def test_old_proxies_are_purged_and_new_ones_kept(store: SqlDirectory) -> None:
    await store.save_proxy(proxy("u1"))
    assert await store.purge_proxies(datetime.now(UTC) - timedelta(days=1)) == 0
    assert await store.proxy("u1") == proxy("u1")
    assert await store.purge_proxies(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert await store.proxy("u1") is None


async def test_proxies_expire_after_proxy_days(database: Database) -> None:
    store = SqlDirectory(database)  # 30 days
    for uid in ("old", "new"):
        await store.save_proxy(proxy(uid))
    async with database.sessions() as session, session.begin():
        await session.exec(
            update(ProxyRow)
            .where(col(ProxyRow.uid) == "old")
            .values(created_at=datetime.now(UTC) - timedelta(days=31))
        )
    assert await store.proxy("old") is None
    assert await store.proxy("new") == proxy("new")
    assert await SqlDirectory(database, proxy_days=32).proxy("old") == proxy("old")
    assert await SqlDirectory(database, proxy_days=0).proxy("new") is None
    # Expired is not purged: purge_proxies still decides when rows go.
    assert await store.purge_proxies(datetime.now(UTC) - timedelta(days=40)) == 0


async def test_tokens_a_and_c_are_stored_only_as_digests(store: SqlDirectory) -> None:
    platform = await store.issue_token_a("the-secret-token-a", None)
    async with store.database.sessions() as session:
        row = await session.get(PlatformRow, platform.id)
    assert row is not None and row.token_a_digest is not None
    assert "the-secret-token-a" not in repr(row.model_dump())
    found = await store.authenticate("the-secret-token-a")
    assert found is not None
    assert await store.authenticate("the-secret-token-b") is None
