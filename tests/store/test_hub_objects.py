"""What the directory keeps of objects broadcast TO the hub, and their owners (SqlHubObjects)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scn_node.hub.objects import HubObject, ObjectKey, ObjectOwner
from scn_node.hub.rules import NO_RULES, ListKind, PartyRules, RuleEntry
from scn_node.scpi.errors import HubError
from scn_node.scpi.pagination import Page
from scn_node.scpi.party import PartyId, Role
from scn_node.store import Database, SqlDirectory
from tests.store.test_failures import _join_failed_sqlite_workers
from tests.store.values import CPO, MSP

OTHER = PartyId("NL", "OTH")
T0 = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
EVERYTHING = Page(None, None, 0, 100)


def location(object_id: str, moment: datetime, owner: PartyId = CPO, name: str = "") -> HubObject:
    # Bytes a parse-and-dump would change: they must come back as they went in.
    body = f'{{ "id" : "{object_id}", "name":"M\\u00fcnchen ⚡{name}", "n":1.0e3 }}'.encode()
    return HubObject(ObjectKey("locations", owner, object_id), moment, body)


async def bodies(store: SqlDirectory, module: str = "locations") -> list[bytes]:
    found = await store.hub_objects(module, EVERYTHING, frozenset())
    assert found is not None
    return found[0]


async def test_an_object_is_kept_byte_for_byte_and_read_back(store: SqlDirectory) -> None:
    kept = location("L1", T0)
    assert await store.keep_hub_object(kept)
    assert await store.hub_object(kept.key) == kept
    assert await store.hub_object(ObjectKey("locations", CPO, "L2")) is None
    assert await bodies(store) == [kept.body]


async def test_a_module_with_nothing_kept_is_none_and_one_with_nothing_shown_is_empty(
    store: SqlDirectory,
) -> None:
    assert await store.hub_objects("locations", EVERYTHING, frozenset()) is None
    await store.keep_hub_object(location("L1", T0))
    assert await store.hub_objects("tariffs", EVERYTHING, frozenset()) is None
    assert await store.hub_objects("locations", EVERYTHING, frozenset({CPO})) == ([], 0)


async def test_the_later_last_updated_wins_and_a_replaced_object_keeps_its_place(
    store: SqlDirectory,
) -> None:
    await store.keep_hub_object(location("L1", T0))
    await store.keep_hub_object(location("L2", T0))
    newer = location("L1", T0 + timedelta(hours=1), name=" neu")
    assert await store.keep_hub_object(newer)
    assert not await store.keep_hub_object(location("L1", T0 + timedelta(minutes=30), name=" alt"))
    assert await bodies(store) == [newer.body, location("L2", T0).body]
    same_time = location("L1", newer.last_updated, name=" again")
    assert await store.keep_hub_object(same_time)  # a repeated push of the same change
    assert (await bodies(store))[0] == same_time.body


async def test_tokens_are_kept_per_type_and_a_tariff_is_deleted(store: SqlDirectory) -> None:
    rfid = HubObject(ObjectKey("tokens", MSP, "U1", "RFID"), T0, b'{"uid":"U1","type":"RFID"}')
    app = HubObject(ObjectKey("tokens", MSP, "U1", "APP_USER"), T0, b'{"uid":"U1"}')
    tariff = HubObject(ObjectKey("tariffs", CPO, "T1"), T0, b'{"id":"T1"}')
    for kept in (rfid, app, tariff):
        assert await store.keep_hub_object(kept)
    assert await bodies(store, "tokens") == [rfid.body, app.body]
    await store.delete_hub_object(tariff.key)
    assert await store.hub_objects("tariffs", EVERYTHING, frozenset()) is None
    assert await store.hub_object(rfid.key) == rfid


async def test_a_page_is_filtered_by_dates_and_owners_in_order_with_the_total(
    store: SqlDirectory,
) -> None:
    for hour in range(5):
        await store.keep_hub_object(location(f"L{hour}", T0 + timedelta(hours=hour)))
    await store.keep_hub_object(location("X", T0 + timedelta(hours=2), owner=OTHER))
    page = Page(T0 + timedelta(hours=1), T0 + timedelta(hours=4), 1, 2)
    found = await store.hub_objects("locations", page, frozenset({OTHER}))
    assert found is not None
    shown, total = found
    assert total == 3  # L1, L2, L3: date_from inclusive, date_to exclusive, X hidden
    assert shown == [location(f"L{h}", T0 + timedelta(hours=h)).body for h in (2, 3)]
    # A later change does not move an object in the list: its place is its first keeping.
    await store.keep_hub_object(location("L0", T0 + timedelta(hours=9)))
    assert (await bodies(store))[0] == location("L0", T0 + timedelta(hours=9)).body


async def test_an_owner_is_kept_with_its_roles_and_its_latest_rules(store: SqlDirectory) -> None:
    assert await store.object_owners() == []
    await store.save_object_owner(ObjectOwner(CPO, frozenset({Role.CPO}), NO_RULES))
    blocked = PartyRules(active=ListKind.BLACKLIST, entries=(RuleEntry(MSP),))
    await store.save_object_owner(ObjectOwner(CPO, frozenset({Role.CPO}), blocked))
    both = frozenset({Role.EMSP, Role.CPO})
    await store.save_object_owner(ObjectOwner(OTHER, both, NO_RULES))
    owners = sorted(await store.object_owners(), key=lambda o: str(o.party))
    assert owners == [
        ObjectOwner(CPO, frozenset({Role.CPO}), blocked),
        ObjectOwner(OTHER, both, NO_RULES),
    ]


KEY = ObjectKey("locations", CPO, "L1")
CALLS: dict[str, Callable[[SqlDirectory], Awaitable[object]]] = {
    "hub_object": lambda s: s.hub_object(KEY),
    "keep_hub_object": lambda s: s.keep_hub_object(location("L1", T0)),
    "delete_hub_object": lambda s: s.delete_hub_object(KEY),
    "save_object_owner": lambda s: s.save_object_owner(
        ObjectOwner(CPO, frozenset({Role.CPO}), NO_RULES)
    ),
    "object_owners": lambda s: s.object_owners(),
    "hub_objects": lambda s: s.hub_objects("locations", EVERYTHING, frozenset()),
}


@pytest.mark.parametrize("call", list(CALLS))
async def test_every_call_on_an_unreachable_database_is_a_hub_error(
    call: str, tmp_path: Path
) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'node.db'}")
    try:
        with pytest.raises(HubError, match=r"^The node's database is unavailable$"):
            await CALLS[call](SqlDirectory(database))
    finally:
        await database.close()
        _join_failed_sqlite_workers()
