"""What the directory keeps for HubClientInfo: status changes, renewals, what other nodes say,
PLANNED parties, and the one list of them all."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from scn_node.hub.ports import Platform
from scn_node.scpi.hubclientinfo import ClientInfo, ConnectionStatus
from scn_node.scpi.pagination import Page
from scn_node.scpi.party import PartyId, Role
from scn_node.store import SqlDirectory
from tests.store.values import CPO, MSP, registration

REMOTE = PartyId("NL", "REM")
EVERYTHING = Page(None, None, 0, 100)
CONNECTED, OFFLINE = ConnectionStatus.CONNECTED, ConnectionStatus.OFFLINE


async def connect(store: SqlDirectory, party: PartyId, role: Role = Role.CPO) -> Platform:
    token_a = f"token-a-{uuid.uuid4()}"
    platform = await store.issue_token_a(token_a, None)
    stored = await store.register(platform.id, token_a, registration((party, role)))
    assert stored is not None
    return stored


def info(
    party: PartyId, status: ConnectionStatus, moment: datetime, role: Role = Role.CPO
) -> ClientInfo:
    return ClientInfo(party, role, status, moment)


async def listing(store: SqlDirectory, page: Page = EVERYTHING) -> dict[PartyId, ClientInfo]:
    infos, total = await store.client_infos(page)
    assert total >= len(infos)
    by_party = {i.party: i for i in infos}
    assert len(by_party) == len(infos), "a party is listed once"
    return by_party


async def test_unregister_returns_the_suspended_platform_with_its_roles(
    store: SqlDirectory,
) -> None:
    platform = await connect(store, CPO)
    left = await store.unregister(platform.id)
    assert left is not None and left.status is ConnectionStatus.SUSPENDED
    assert [r.party for r in left.roles] == [CPO]
    assert left.last_updated >= platform.last_updated
    assert await store.unregister(10_000) is None


async def test_a_status_moves_only_from_the_status_it_was_in(store: SqlDirectory) -> None:
    platform = await connect(store, CPO)
    offline = await store.set_status(platform.id, OFFLINE, was=CONNECTED)
    assert offline is not None and offline.status is OFFLINE and offline.roles == platform.roles
    assert await store.set_status(platform.id, OFFLINE, was=CONNECTED) is None
    assert await store.connected_platforms() == []
    assert [p.id for p in await store.live_platforms()] == [platform.id]
    found = await store.platform_of(CPO)
    assert found is not None and found.status is OFFLINE  # the cache was dropped
    back = await store.set_status(platform.id, CONNECTED, was=OFFLINE)
    assert back is not None and back.status is CONNECTED
    await store.unregister(platform.id)
    assert await store.set_status(platform.id, CONNECTED, was=OFFLINE) is None
    assert await store.live_platforms() == []


async def test_renew_moves_last_updated_of_live_holders_forward_only(store: SqlDirectory) -> None:
    cpo = await connect(store, CPO)
    msp = await connect(store, MSP, Role.EMSP)
    later = datetime.now(UTC) + timedelta(minutes=1)
    await store.renew({CPO: later, MSP: msp.last_updated - timedelta(days=1), REMOTE: later})
    listed = await listing(store)
    assert listed[CPO].last_updated == later
    assert listed[MSP].last_updated == msp.last_updated  # not moved back
    await store.unregister(cpo.id)
    left = (await listing(store))[CPO].last_updated
    await store.renew({CPO: later + timedelta(minutes=1)})
    assert (await listing(store))[CPO].last_updated == left  # a party that left is not renewed


async def test_the_later_client_info_from_the_network_wins(store: SqlDirectory) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    assert await store.save_network_client_info(info(REMOTE, CONNECTED, now))
    assert not await store.save_network_client_info(info(REMOTE, OFFLINE, now - timedelta(1)))
    assert (await listing(store))[REMOTE] == info(REMOTE, CONNECTED, now)
    later = now + timedelta(seconds=1)
    assert await store.save_network_client_info(info(REMOTE, OFFLINE, later))
    assert (await listing(store))[REMOTE] == info(REMOTE, OFFLINE, later)
    other_role = info(REMOTE, CONNECTED, now, Role.EMSP)
    assert await store.save_network_client_info(other_role)
    infos, total = await store.client_infos(EVERYTHING)
    assert total == 2 and other_role in infos


async def test_a_planned_role_is_added_once(store: SqlDirectory) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    planned = info(REMOTE, ConnectionStatus.PLANNED, now)
    assert await store.add_planned(planned)
    assert not await store.add_planned(info(REMOTE, ConnectionStatus.PLANNED, now + timedelta(1)))
    assert (await listing(store))[REMOTE] == planned


async def test_a_live_party_here_is_listed_as_here_and_one_that_left_as_changed_last(
    store: SqlDirectory,
) -> None:
    platform = await connect(store, CPO)
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    await store.save_network_client_info(info(CPO, ConnectionStatus.PLANNED, later))
    assert (await listing(store))[CPO].status is CONNECTED  # connected here beats what is said
    assert (await store.client_infos(EVERYTHING))[1] == 1
    await store.unregister(platform.id)
    assert (await listing(store))[CPO] == info(CPO, ConnectionStatus.PLANNED, later)  # moved on
    await store.save_network_client_info(info(CPO, CONNECTED, later + timedelta(minutes=1)))
    assert (await listing(store))[CPO].status is CONNECTED
    again = await connect(store, CPO)
    await store.unregister(again.id)
    assert (await listing(store))[CPO].status is CONNECTED  # the network's word is later still


async def test_the_list_pages_by_last_updated_across_both_sources(store: SqlDirectory) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    await store.save_network_client_info(info(REMOTE, CONNECTED, start))
    await connect(store, CPO)
    await store.add_planned(
        info(PartyId("GB", "TON"), ConnectionStatus.PLANNED, start + timedelta(1))
    )
    infos, total = await store.client_infos(Page(None, None, 0, 2))
    assert total == 3 and [i.party for i in infos] == [REMOTE, CPO]
    infos, total = await store.client_infos(Page(None, None, 2, 2))
    assert total == 3 and [i.party.party_id for i in infos] == ["TON"]
    infos, total = await store.client_infos(
        Page(start + timedelta(seconds=1), start + timedelta(hours=2), 0, 10)
    )
    assert total == 1 and [i.party for i in infos] == [CPO]
