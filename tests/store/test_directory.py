"""SqlDirectory details that the HTTP tests cannot reach: proxy expiry and token digests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from scn_node.hub.ports import Proxy
from scn_node.scpi.party import PartyId
from scn_node.scpi.versions import InterfaceRole
from scn_node.store import Database, SqlDirectory
from scn_node.store.tables import PlatformRow


async def directory(tmp_path: Path) -> SqlDirectory:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")
    await database.create_tables()
    return SqlDirectory(database)


async def test_old_proxies_are_purged_and_new_ones_kept(tmp_path: Path) -> None:
    store = await directory(tmp_path)
    proxy = Proxy(
        "u1", PartyId("DE", "MSP"), PartyId("DE", "CPO"), "http://p", "cdrs", InterfaceRole.RECEIVER
    )
    await store.save_proxy(proxy)
    assert await store.purge_proxies(datetime.now(UTC) - timedelta(days=1)) == 0
    assert await store.proxy("u1") == proxy
    assert await store.purge_proxies(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert await store.proxy("u1") is None
    await store.database.close()


async def test_tokens_a_and_c_are_stored_only_as_digests(tmp_path: Path) -> None:
    store = await directory(tmp_path)
    await store.issue_token_a("the-secret-token-a", None)
    async with store.database.sessions() as session:
        row = await session.get(PlatformRow, 1)
    assert row is not None and row.token_a_digest is not None
    assert "the-secret-token-a" not in repr(row.model_dump())
    found = await store.authenticate("the-secret-token-a")
    assert found is not None
    assert await store.authenticate("the-secret-token-b") is None
    await store.database.close()
