"""SqlRegistrations: tokens and the credentials handshake's writes (register, rotate, leave)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence

from sqlalchemy import and_, delete, func, or_, update
from sqlalchemy import exc as sa_exc
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scn_node.hub.ports import AllowedRole, Platform, Registration, TokenKind
from scn_node.scpi.authorization import TokenForm
from scn_node.scpi.errors import InvalidParameters
from scn_node.scpi.hubclientinfo import ConnectionStatus
from scn_node.scpi.party import PartyId
from scn_node.store import records
from scn_node.store.records import LIVE, allowed_roles_record, digest, now, roles_of
from scn_node.store.session import SqlStore
from scn_node.store.tables import EndpointRow, PlatformRow, RoleRow


class SqlRegistrations(SqlStore):
    """Tokens A and C are kept only as digests; each write is one transaction that checks the
    token it was given is still the one it stands for, so of two racing writes one wins."""

    async def authenticate(self, token: str) -> tuple[Platform, TokenKind] | None:
        wanted = digest(token)
        return await self.cache.through(("token", wanted), lambda: self._authenticate(wanted))

    async def _authenticate(self, wanted: str) -> tuple[Platform, TokenKind] | None:
        statement = (
            select(PlatformRow, RoleRow)
            .join(RoleRow, col(RoleRow.platform_id) == PlatformRow.id, isouter=True)
            .where(
                (col(PlatformRow.token_c_digest) == wanted)
                | (col(PlatformRow.token_a_digest) == wanted)
            )
            .order_by(col(RoleRow.id))
        )
        async with self._session() as session:
            rows = list((await session.exec(statement)).all())
        if not rows:
            return None
        platform_row = rows[0][0]
        # The lookup is by digest, so its timing tells nothing about the token; this only says
        # which of the row's two digests matched (compare_digest is no more than good habit).
        is_c = hmac.compare_digest(platform_row.token_c_digest or "", wanted)
        return records.platform(platform_row, [r for _, r in rows if r is not None]), (
            TokenKind.C if is_c else TokenKind.A
        )

    async def issue_token_a(
        self, token: str, allowed_roles: Sequence[AllowedRole] | None
    ) -> Platform:
        moment = now()
        row = PlatformRow(
            status=ConnectionStatus.PLANNED.value,
            token_a_digest=digest(token),
            token_form=TokenForm.PLAIN.value,
            allowed_roles=allowed_roles_record(allowed_roles),
            last_updated=moment,
            created_at=moment,
        )
        async with self._writing() as session:
            session.add(row)
            await session.flush()  # assigns row.id
        return records.platform(row, [])

    async def register(
        self,
        platform_id: int,
        token: str,
        registration: Registration,
        *,
        replaces: int | None = None,
    ) -> Platform | None:
        """Store a completed handshake in one transaction: all of it or nothing.

        With `replaces` (a takeover), that platform goes in the same transaction, its rules
        carried over: the party is listed once, on this platform. Of two takeovers of one
        platform, the second finds the first's platform holding the parties and fails.

        Raises InvalidParameters, saving nothing, if one of the parties is connected on
        another platform (checked here, and by the unique index on active roles)."""
        presented = digest(token)
        parties = list(dict.fromkeys(r.party for r in registration.roles))
        try:
            async with self._writing() as session:
                claimed = await session.exec(
                    update(PlatformRow)
                    .where(
                        col(PlatformRow.id) == platform_id,
                        (col(PlatformRow.token_a_digest) == presented)
                        | (col(PlatformRow.token_c_digest) == presented),
                    )
                    .values(
                        status=ConnectionStatus.CONNECTED.value,
                        token_a_digest=None,
                        token_c_digest=digest(registration.token_c),
                        token_b=registration.token_b,
                        token_form=registration.token_form.value,
                        versions_url=registration.versions_url,
                        version=registration.version,
                        last_updated=now(),
                    )
                )
                if claimed.rowcount != 1:
                    return None  # the token was spent meanwhile: nothing is written
                await self._lock_parties(session, parties)
                if replaces is not None and replaces != platform_id:
                    await _replace(session, replaces, platform_id, registration)
                taken = await _connected_elsewhere(session, platform_id, parties)
                if taken is not None:
                    raise InvalidParameters(
                        f"{taken} is already connected to this node on another connection"
                    )
                await session.exec(delete(RoleRow).where(col(RoleRow.platform_id) == platform_id))
                await session.exec(
                    delete(EndpointRow).where(col(EndpointRow.platform_id) == platform_id)
                )
                # A party that left (SUSPENDED) and comes back on a new connection is listed once.
                stale = select(PlatformRow.id).where(
                    col(PlatformRow.status) != ConnectionStatus.CONNECTED.value
                )
                for party in parties:
                    await session.exec(
                        delete(RoleRow).where(
                            col(RoleRow.country_code) == party.country_code,
                            col(RoleRow.party_id) == party.party_id,
                            col(RoleRow.platform_id).in_(stale),
                        )
                    )
                roles = [
                    RoleRow(
                        platform_id=platform_id,
                        role=r.role.value,
                        country_code=r.party.country_code,
                        party_id=r.party.party_id,
                        business_details=json.dumps(dict(r.business_details)),
                        active=True,
                    )
                    for r in registration.roles
                ]
                session.add_all(roles)
                session.add_all(
                    EndpointRow(
                        platform_id=platform_id,
                        identifier=e.identifier,
                        role=e.role.value,
                        url=e.url,
                    )
                    for e in registration.endpoints
                )
                await session.flush()  # the unique index on active roles speaks here
                row = await session.get(PlatformRow, platform_id)
                assert row is not None
        except sa_exc.IntegrityError:
            # Another transaction connected one of the parties after the check above looked.
            if not parties:
                raise
            async with self._session() as session:
                taken = await _connected_elsewhere(session, platform_id, parties)
            raise InvalidParameters(
                f"{taken or parties[0]} is already connected to this node on another connection"
            ) from None
        return records.platform(row, roles)

    async def _lock_parties(self, session: AsyncSession, parties: Sequence[PartyId]) -> None:
        """On PostgreSQL, queue registrations of the same party until this transaction ends, so
        the check for a connection elsewhere sees what the one before committed. The unique
        index alone would not stop the same party connecting in two different roles at once.
        SQLite needs nothing: it runs one write transaction at a time."""
        if self.database.engine.dialect.name != "postgresql":
            return
        keys = sorted({_lock_key(p) for p in parties})  # one order everywhere: no deadlock
        for key in keys:
            await session.exec(select(func.pg_advisory_xact_lock(key)))

    async def withdraw_token_a(self, token: str) -> None:
        wanted = digest(token)
        async with self._writing() as session:
            row = (
                await session.exec(
                    select(PlatformRow).where(col(PlatformRow.token_a_digest) == wanted)
                )
            ).first()
            if row is None:
                return
            assert row.id is not None
            if row.status == ConnectionStatus.PLANNED.value and not await roles_of(session, row.id):
                await session.delete(row)
            else:
                row.token_a_digest = None
                session.add(row)

    async def stage_token_c(self, platform_id: int, token: str) -> bool:
        async with self._writing() as session:
            staged = await session.exec(
                update(PlatformRow)
                .where(col(PlatformRow.id) == platform_id, col(PlatformRow.status).in_(LIVE))
                .values(token_a_digest=digest(token))
            )
        return bool(staged.rowcount == 1)

    async def rotate(
        self, platform_id: int, token: str, token_b: str, versions_url: str
    ) -> Platform | None:
        staged = digest(token)
        async with self._writing() as session:
            rotated = await session.exec(
                update(PlatformRow)
                .where(
                    col(PlatformRow.id) == platform_id,
                    col(PlatformRow.token_a_digest) == staged,
                    col(PlatformRow.status).in_(LIVE),
                )
                .values(
                    token_a_digest=None,
                    token_c_digest=staged,
                    token_b=token_b,
                    versions_url=versions_url,
                )
            )
            if rotated.rowcount != 1:
                return None
            row = await session.get(PlatformRow, platform_id)
            assert row is not None
            roles = await roles_of(session, platform_id)
        return records.platform(row, roles)

    async def unregister(self, platform_id: int) -> Platform | None:
        """Forget the tokens and endpoints; the roles stay, inactive, so others see SUSPENDED."""
        async with self._writing() as session:
            row = await session.get(PlatformRow, platform_id)
            if row is None:
                return None
            row.status = ConnectionStatus.SUSPENDED.value
            row.token_a_digest = row.token_c_digest = row.token_b = None
            row.last_updated = now()
            session.add(row)
            await session.exec(
                update(RoleRow).where(col(RoleRow.platform_id) == platform_id).values(active=False)
            )
            await session.exec(
                delete(EndpointRow).where(col(EndpointRow.platform_id) == platform_id)
            )
            roles = await roles_of(session, platform_id)
        return records.platform(row, roles)


async def _replace(
    session: AsyncSession, replaced: int, platform_id: int, registration: Registration
) -> None:
    """Remove the platform a takeover replaces, carrying its rules over to `platform_id`. If it
    left meanwhile there is nothing to take over; if it holds a role the registration does
    not, it is not replaced (InvalidParameters)."""
    active = [r for r in await roles_of(session, replaced) if r.active]
    if not active:
        return
    wanted = {(r.role.value, r.party.country_code, r.party.party_id) for r in registration.roles}
    kept = [r for r in active if (r.role, r.country_code, r.party_id) not in wanted]
    if kept:
        held = ", ".join(f"{r.country_code} {r.party_id} {r.role}" for r in kept)
        raise InvalidParameters(f"The connection taken over holds {held} too")
    row = await session.get(PlatformRow, replaced)
    assert row is not None
    rules = row.rules
    await session.exec(delete(RoleRow).where(col(RoleRow.platform_id) == replaced))
    await session.exec(delete(EndpointRow).where(col(EndpointRow.platform_id) == replaced))
    await session.delete(row)
    await session.flush()
    await session.exec(
        update(PlatformRow).where(col(PlatformRow.id) == platform_id).values(rules=rules)
    )


async def _connected_elsewhere(
    session: AsyncSession, platform_id: int, parties: Sequence[PartyId]
) -> PartyId | None:
    """One of `parties` that has an active role on a platform other than `platform_id`."""
    if not parties:
        return None
    statement = (
        select(RoleRow.country_code, RoleRow.party_id)
        .where(
            col(RoleRow.active),
            col(RoleRow.platform_id) != platform_id,
            or_(
                *(
                    and_(
                        col(RoleRow.country_code) == p.country_code,
                        col(RoleRow.party_id) == p.party_id,
                    )
                    for p in parties
                )
            ),
        )
        .order_by(col(RoleRow.id))
        .limit(1)
    )
    found = (await session.exec(statement)).first()
    return None if found is None else PartyId(found[0], found[1])


def _lock_key(party: PartyId) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory locks."""
    name = f"scn-node party {party.country_code}*{party.party_id}".encode()
    return int.from_bytes(hashlib.sha256(name).digest()[:8], "big", signed=True)
