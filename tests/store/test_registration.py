"""One party, one connection: a party connected on one platform cannot register on another."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

import scn_node.store.registrations as registrations_module
from scn_node.hub.ports import Platform, Registration, TokenKind
from scn_node.hub.rules import NO_RULES
from scn_node.scpi.errors import InvalidParameters
from scn_node.scpi.hubclientinfo import ConnectionStatus
from scn_node.scpi.pagination import Page
from scn_node.scpi.party import PartyId, Role
from scn_node.scpi.versions import InterfaceRole
from scn_node.store import Database, SqlDirectory
from scn_node.store.records import now
from scn_node.store.tables import EndpointRow, PlatformRow, RoleRow
from tests.store.values import CPO, MSP, registration

TAKEN = r"^DE CPO is already connected to this node on another connection$"


async def planned(store: SqlDirectory) -> tuple[Platform, str]:
    token_a = f"token-a-{uuid.uuid4()}"
    return await store.issue_token_a(token_a, None), token_a


async def connect(store: SqlDirectory, *roles: tuple[PartyId, Role]) -> tuple[Platform, str]:
    """A platform connected with `roles`; returns it and its TOKEN_C."""
    platform, token_a = await planned(store)
    handshake = registration(*roles)
    stored = await store.register(platform.id, token_a, handshake)
    assert stored is not None and stored.status is ConnectionStatus.CONNECTED
    return stored, handshake.token_c


async def assert_nothing_saved(
    store: SqlDirectory, database: Database, platform_id: int, token_a: str, handshake: Registration
) -> None:
    found = await store.authenticate(token_a)
    assert found is not None, "the TOKEN_A is still valid: the claim was rolled back"
    platform, kind = found
    assert kind is TokenKind.A
    assert platform.status is ConnectionStatus.PLANNED
    assert platform.roles == () and platform.token_b is None and platform.versions_url is None
    assert await store.authenticate(handshake.token_c) is None
    assert await store.endpoint(platform_id, "locations", InterfaceRole.SENDER) is None
    async with database.sessions() as session:
        roles = (
            await session.exec(select(RoleRow).where(RoleRow.platform_id == platform_id))
        ).all()
        endpoints = (
            await session.exec(select(EndpointRow).where(EndpointRow.platform_id == platform_id))
        ).all()
    assert list(roles) == [] and list(endpoints) == []


@pytest.mark.parametrize("role", [Role.CPO, Role.EMSP], ids=["same-role", "other-role"])
async def test_a_connected_party_cannot_register_on_another_platform(
    store: SqlDirectory, database: Database, role: Role
) -> None:
    first, _ = await connect(store, (CPO, Role.CPO))
    second, token_a = await planned(store)
    handshake = registration((MSP, Role.EMSP), (CPO, role))
    with pytest.raises(InvalidParameters, match=TAKEN):
        await store.register(second.id, token_a, handshake)
    await assert_nothing_saved(store, database, second.id, token_a, handshake)
    owner = await store.platform_of(CPO)
    assert owner is not None and owner.id == first.id
    assert owner.status is ConnectionStatus.CONNECTED
    assert await store.platform_of(MSP) is None


async def test_the_unique_index_stops_a_registration_the_check_did_not_see(
    store: SqlDirectory, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As when another transaction commits the same party between the check and the insert."""
    await connect(store, (CPO, Role.CPO))
    second, token_a = await planned(store)
    real = registrations_module._connected_elsewhere
    checks: list[int] = []

    async def blind_once(*args: Any) -> PartyId | None:
        checks.append(1)
        return None if len(checks) == 1 else await real(*args)

    monkeypatch.setattr(registrations_module, "_connected_elsewhere", blind_once)
    handshake = registration((CPO, Role.CPO))
    with pytest.raises(InvalidParameters, match=TAKEN):
        await store.register(second.id, token_a, handshake)
    monkeypatch.undo()
    await assert_nothing_saved(store, database, second.id, token_a, handshake)


async def test_the_index_allows_one_active_role_per_party_and_role(database: Database) -> None:
    async with database.sessions() as session:
        platforms = []
        for status in ("CONNECTED", "SUSPENDED", "SUSPENDED", "CONNECTED"):
            row = PlatformRow(
                status=status,
                token_form="plain",
                last_updated=now(),
                created_at=now(),
            )
            session.add(row)
            platforms.append(row)
        await session.flush()
        ids = [p.id for p in platforms]

        def role(platform_id: int | None, active: bool, role: str = "CPO") -> RoleRow:
            assert platform_id is not None
            return RoleRow(
                platform_id=platform_id,
                role=role,
                country_code="DE",
                party_id="CPO",
                business_details="{}",
                active=active,
            )

        # Inactive rows of the same party and role may be many; so may other roles.
        session.add_all([role(ids[0], True), role(ids[1], False), role(ids[2], False)])
        session.add(role(ids[3], True, "EMSP"))
        await session.commit()
        session.add(role(ids[3], True))
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_concurrent_registrations_of_one_party_let_exactly_one_through(
    store: SqlDirectory,
) -> None:
    for round_, roles in enumerate([(Role.CPO, Role.CPO), (Role.CPO, Role.EMSP)] * 3):
        party = PartyId("NL", f"C{round_:02d}")
        (one, token_one), (two, token_two) = [await planned(store) for _ in range(2)]
        results = await asyncio.gather(
            store.register(one.id, token_one, registration((party, roles[0]))),
            store.register(two.id, token_two, registration((party, roles[1]))),
            return_exceptions=True,
        )
        won = [r for r in results if isinstance(r, Platform)]
        lost = [r for r in results if isinstance(r, InvalidParameters)]
        assert len(won) == 1 and len(lost) == 1, results
        assert str(party) in lost[0].message
        owner = await store.platform_of(party)
        assert owner is not None and owner.id == won[0].id


async def test_after_unregister_the_party_can_connect_on_another_platform(
    store: SqlDirectory, database: Database
) -> None:
    first, _ = await connect(store, (CPO, Role.CPO))
    await store.unregister(first.id)
    left = await store.platform_of(CPO)
    assert left is not None and left.id == first.id and left.status is ConnectionStatus.SUSPENDED
    async with database.sessions() as session:
        kept = (await session.exec(select(RoleRow).where(RoleRow.platform_id == first.id))).all()
    assert [r.active for r in kept] == [False]  # kept, so others see SUSPENDED, but inactive

    second, _ = await connect(store, (CPO, Role.CPO))
    back = await store.platform_of(CPO)
    assert back is not None and back.id == second.id and back.status is ConnectionStatus.CONNECTED
    infos, total = await store.client_infos(Page(None, None, 0, 10))
    assert total == 1 and [i.party for i in infos] == [CPO]  # the stale row went

    # And once more, so the suspended platform that had the party last is the one shown.
    await store.unregister(second.id)
    latest = await store.platform_of(CPO)
    assert latest is not None and latest.id == second.id
    assert latest.status is ConnectionStatus.SUSPENDED


async def test_a_connected_platform_may_register_its_own_parties_again(
    store: SqlDirectory, database: Database
) -> None:
    platform, token_c = await connect(store, (CPO, Role.CPO), (CPO, Role.EMSP))
    again = await store.register(
        platform.id, token_c, registration((CPO, Role.CPO), (CPO, Role.EMSP), (MSP, Role.EMSP))
    )
    assert again is not None and again.id == platform.id
    assert {(r.party, r.role) for r in again.roles} == {
        (CPO, Role.CPO),
        (CPO, Role.EMSP),
        (MSP, Role.EMSP),
    }
    async with database.sessions() as session:
        rows = (
            await session.exec(
                select(RoleRow).where(RoleRow.platform_id == platform.id).order_by(col(RoleRow.id))
            )
        ).all()
    assert len(rows) == 3 and all(r.active for r in rows)


async def test_a_takeover_replaces_the_connection_and_keeps_its_rules(
    store: SqlDirectory, database: Database
) -> None:
    old, old_c = await connect(store, (CPO, Role.CPO))
    assert await store.set_rules(old.id, old_c, NO_RULES.block_all()) is not None
    new, token_a = await planned(store)
    handshake = registration((CPO, Role.CPO))
    taken = await store.register(new.id, token_a, handshake, replaces=old.id)
    assert taken is not None and taken.id == new.id
    assert taken.status is ConnectionStatus.CONNECTED and taken.rules == NO_RULES.block_all()
    assert await store.authenticate(old_c) is None
    assert await store.platform(old.id) is None
    owner = await store.platform_of(CPO)
    assert owner is not None and owner.id == new.id
    platforms, total = await store.platforms(0, 10)
    assert total == 1 and [p.id for p in platforms] == [new.id]
    async with database.sessions() as session:
        left = (await session.exec(select(RoleRow).where(RoleRow.platform_id == old.id))).all()
    assert list(left) == []


async def test_of_two_takeovers_of_one_connection_exactly_one_wins(store: SqlDirectory) -> None:
    old, _ = await connect(store, (CPO, Role.CPO))
    (one, token_one), (two, token_two) = [await planned(store) for _ in range(2)]
    results = await asyncio.gather(
        store.register(one.id, token_one, registration((CPO, Role.CPO)), replaces=old.id),
        store.register(two.id, token_two, registration((CPO, Role.CPO)), replaces=old.id),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, Platform)]
    lost = [r for r in results if isinstance(r, InvalidParameters)]
    assert len(won) == 1 and len(lost) == 1, results
    assert re.match(TAKEN, lost[0].message)
    loser, loser_token = (two, token_two) if won[0].id == one.id else (one, token_one)
    found = await store.authenticate(loser_token)  # the loser's TOKEN_A was not spent
    assert found is not None and found[0].id == loser.id and found[1] is TokenKind.A
    owner = await store.platform_of(CPO)
    assert owner is not None and owner.id == won[0].id
    assert (await store.platforms(0, 10))[1] == 1


async def test_a_takeover_that_leaves_out_a_role_saves_nothing(
    store: SqlDirectory, database: Database
) -> None:
    old, old_c = await connect(store, (CPO, Role.CPO), (CPO, Role.EMSP))
    new, token_a = await planned(store)
    handshake = registration((CPO, Role.CPO))
    with pytest.raises(InvalidParameters, match="holds DE CPO EMSP too"):
        await store.register(new.id, token_a, handshake, replaces=old.id)
    await assert_nothing_saved(store, database, new.id, token_a, handshake)
    assert await store.authenticate(old_c) is not None
