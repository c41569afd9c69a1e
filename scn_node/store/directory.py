"""SqlDirectory: the hub's Directory port over the node's tables."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy
from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    union_all,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scn_node.hub.ports import (
    AllowedRole,
    PartyRole,
    Platform,
    Proxy,
    Registration,
    TokenKind,
)
from scn_node.hub.rules import NO_RULES, ListKind, PartyRules, RuleEntry
from scn_node.scpi.authorization import TokenForm
from scn_node.scpi.errors import HubError, InvalidParameters
from scn_node.scpi.hubclientinfo import ClientInfo, ConnectionStatus
from scn_node.scpi.pagination import Page
from scn_node.scpi.party import PartyId, Role
from scn_node.scpi.versions import Endpoint, InterfaceRole
from scn_node.store.database import UNAVAILABLE, Database
from scn_node.store.tables import (
    EndpointRow,
    NetworkClientInfoRow,
    PlatformRow,
    ProxyRow,
    RoleRow,
)

_log = logging.getLogger(__name__)


# The statuses in which a platform holds its parties: it has tokens and may be called.
_LIVE = (ConnectionStatus.CONNECTED.value, ConnectionStatus.OFFLINE.value)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive values; everything stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_NOT_HERE = object()  # a cached "no such party on this node"
_MAX_CACHED = 10_000


class SqlDirectory:
    """Reads on the forward path are kept in memory for `cache_seconds`, and every write here
    drops them, so a routed request usually costs no database round trip. The bound covers
    writes by another process sharing the database.

    A write drops the cache before it starts and again once it has committed, and bumps a
    generation counter each time: a read that began before (or during) a write finds the
    generation changed when its answer comes back and does not keep that answer.

    Proxies are served for `proxy_days` after they were made.

    A database that fails (down, unreachable, out of connections) is reported as HubError;
    the original error is logged, without SQL parameters."""

    def __init__(
        self, database: Database, *, cache_seconds: float = 5.0, proxy_days: int = 30
    ) -> None:
        self.database = database
        self.cache_seconds = cache_seconds
        self.proxy_days = proxy_days
        self._cache: dict[tuple[object, ...], tuple[float, Any]] = {}
        self._generation = 0

    def _cached(self, key: tuple[object, ...]) -> Any:
        entry = self._cache.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def _remember(self, key: tuple[object, ...], value: object, generation: int) -> None:
        """Keep `value`, read when the generation was `generation`, unless a write began since."""
        if value is None:  # misses are not kept: unknown tokens must not fill memory
            return
        if generation != self._generation:  # a write ran meanwhile: the value may be stale
            return
        self._cache[key] = (time.monotonic() + self.cache_seconds, value)

    def _forget(self) -> None:
        self._generation += 1
        self._cache.clear()

    @asynccontextmanager
    async def _session(self, *, transaction: bool = False) -> AsyncIterator[AsyncSession]:
        """A session (in a transaction, committed on leaving, if asked); a database failure,
        wherever it happens, becomes HubError. IntegrityError is raised as is."""
        try:
            async with self.database.sessions() as session:
                if transaction:
                    async with session.begin():
                        yield session
                else:
                    yield session
        except sa_exc.IntegrityError:
            raise
        except UNAVAILABLE as error:
            # With hide_parameters the message holds the statement but none of its values.
            _log.warning("Database call failed: %s: %s", type(error).__name__, error)
            raise HubError("The node's database is unavailable") from None

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        """A write transaction, with the cache dropped before it and after it has ended."""
        self._forget()
        try:
            async with self._session(transaction=True) as session:
                yield session
        finally:
            self._forget()

    async def authenticate(self, token: str) -> tuple[Platform, TokenKind] | None:
        wanted = digest(token)
        cached: tuple[Platform, TokenKind] | None = self._cached(("token", wanted))
        if cached is not None:
            return cached
        generation = self._generation
        found = await self._authenticate(wanted)
        self._remember(("token", wanted), found, generation)
        return found

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
        return _platform(platform_row, [r for _, r in rows if r is not None]), (
            TokenKind.C if is_c else TokenKind.A
        )

    async def issue_token_a(
        self, token: str, allowed_roles: Sequence[AllowedRole] | None
    ) -> Platform:
        now = _now()
        allowed = (
            None
            if allowed_roles is None
            else json.dumps(
                [
                    {
                        "country_code": a.party.country_code,
                        "party_id": a.party.party_id,
                        "role": a.role.value if a.role else None,
                    }
                    for a in allowed_roles
                ]
            )
        )
        row = PlatformRow(
            status=ConnectionStatus.PLANNED.value,
            token_a_digest=digest(token),
            token_form=TokenForm.PLAIN.value,
            allowed_roles=allowed,
            last_updated=now,
            created_at=now,
        )
        async with self._writing() as session:
            session.add(row)
            await session.flush()  # assigns row.id
        return _platform(row, [])

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
                        last_updated=_now(),
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
        return _platform(row, roles)

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
            if row.status == ConnectionStatus.PLANNED.value and not await _roles(session, row.id):
                await session.delete(row)
            else:
                row.token_a_digest = None
                session.add(row)

    async def stage_token_c(self, platform_id: int, token: str) -> bool:
        async with self._writing() as session:
            staged = await session.exec(
                update(PlatformRow)
                .where(col(PlatformRow.id) == platform_id, col(PlatformRow.status).in_(_LIVE))
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
                    col(PlatformRow.status).in_(_LIVE),
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
            roles = await _roles(session, platform_id)
        return _platform(row, roles)

    async def platform(self, platform_id: int) -> Platform | None:
        async with self._session() as session:
            row = await session.get(PlatformRow, platform_id)
            if row is None:
                return None
            roles = await _roles(session, platform_id)
        return _platform(row, roles)

    async def platforms(self, offset: int, limit: int) -> tuple[list[Platform], int]:
        with_roles = exists().where(col(RoleRow.platform_id) == PlatformRow.id)
        count = select(func.count()).select_from(PlatformRow).where(with_roles)
        page = (
            select(PlatformRow)
            .where(with_roles)
            .order_by(col(PlatformRow.id))
            .offset(offset)
            .limit(limit)
        )
        async with self._session() as session:
            total = (await session.exec(count)).one()
            rows = list((await session.exec(page)).all())
            ids = [r.id for r in rows]
            roles = (
                await session.exec(
                    select(RoleRow)
                    .where(col(RoleRow.platform_id).in_(ids))
                    .order_by(col(RoleRow.id))
                )
            ).all()
        by_platform: dict[int, list[RoleRow]] = {}
        for role in roles:
            by_platform.setdefault(role.platform_id, []).append(role)
        return [_platform(r, by_platform.get(r.id or 0, [])) for r in rows], int(total)

    async def endpoints(self, platform_id: int) -> list[Endpoint]:
        statement = (
            select(EndpointRow)
            .where(col(EndpointRow.platform_id) == platform_id)
            .order_by(col(EndpointRow.id))
        )
        async with self._session() as session:
            rows = (await session.exec(statement)).all()
        return [
            Endpoint(identifier=r.identifier, role=InterfaceRole(r.role), url=r.url) for r in rows
        ]

    async def endpoint_counts(self, platform_ids: Sequence[int]) -> dict[int, int]:
        statement = (
            select(EndpointRow.platform_id, func.count())
            .where(col(EndpointRow.platform_id).in_(list(platform_ids)))
            .group_by(col(EndpointRow.platform_id))
        )
        async with self._session() as session:
            rows = (await session.exec(statement)).all()
        return {platform_id: int(count) for platform_id, count in rows}

    async def unregister(self, platform_id: int) -> Platform | None:
        """Forget the tokens and endpoints; the roles stay, inactive, so others see SUSPENDED."""
        async with self._writing() as session:
            row = await session.get(PlatformRow, platform_id)
            if row is None:
                return None
            row.status = ConnectionStatus.SUSPENDED.value
            row.token_a_digest = row.token_c_digest = row.token_b = None
            row.last_updated = _now()
            session.add(row)
            await session.exec(
                update(RoleRow).where(col(RoleRow.platform_id) == platform_id).values(active=False)
            )
            await session.exec(
                delete(EndpointRow).where(col(EndpointRow.platform_id) == platform_id)
            )
            roles = await _roles(session, platform_id)
        return _platform(row, roles)

    async def set_rules(self, platform_id: int, token: str, rules: PartyRules) -> Platform | None:
        """Only the platform's current TOKEN_C may change its rules: one that was replaced (PUT
        credentials) or dropped (DELETE credentials) meanwhile changes nothing."""
        async with self._writing() as session:
            changed = await session.exec(
                update(PlatformRow)
                .where(
                    col(PlatformRow.id) == platform_id,
                    col(PlatformRow.token_c_digest) == digest(token),
                )
                .values(rules=_rules_record(rules))
            )
            if changed.rowcount != 1:
                return None
            row = await session.get(PlatformRow, platform_id)
            assert row is not None
            roles = await _roles(session, platform_id)
        return _platform(row, roles)

    async def set_status(
        self, platform_id: int, status: ConnectionStatus, *, was: ConnectionStatus
    ) -> Platform | None:
        """The roles stay active: an OFFLINE platform still holds its parties and comes back
        with the tokens it has, so no other connection may take them meanwhile."""
        async with self._writing() as session:
            changed = await session.exec(
                update(PlatformRow)
                .where(col(PlatformRow.id) == platform_id, col(PlatformRow.status) == was.value)
                .values(status=status.value, last_updated=_now())
            )
            if changed.rowcount != 1:
                return None  # it left, or another check moved it, meanwhile
            row = await session.get(PlatformRow, platform_id)
            assert row is not None
            roles = await _roles(session, platform_id)
        return _platform(row, roles)

    async def renew(self, heard: Mapping[PartyId, datetime]) -> None:
        """The cache is kept: when a party was last heard from changes nothing it holds that
        matters (a Platform's last_updated is shown, never decided on, from the cache)."""
        if not heard:
            return
        async with self._session(transaction=True) as session:
            for party, moment in heard.items():
                holders = select(RoleRow.platform_id).where(
                    col(RoleRow.country_code) == party.country_code,
                    col(RoleRow.party_id) == party.party_id,
                    col(RoleRow.active),
                )
                await session.exec(
                    update(PlatformRow)
                    .where(
                        col(PlatformRow.id).in_(holders),
                        col(PlatformRow.status).in_(_LIVE),
                        col(PlatformRow.last_updated) < moment,
                    )
                    .values(last_updated=moment)
                )

    async def platform_of(self, party: PartyId) -> Platform | None:
        cached = self._cached(("party", party))
        if cached is not None:
            return None if cached is _NOT_HERE else cached
        generation = self._generation
        found = await self._platform_of(party)
        # A party on another node is asked for on every request to it: remember that too,
        # in a bounded way (a write here, or the bound, clears it).
        if len(self._cache) > _MAX_CACHED:
            self._cache.clear()
        self._remember(("party", party), _NOT_HERE if found is None else found, generation)
        return found

    async def _platform_of(self, party: PartyId) -> Platform | None:
        connected_first = case(
            (col(PlatformRow.status) == ConnectionStatus.CONNECTED.value, 0), else_=1
        )
        best = (
            select(PlatformRow.id)
            .join(RoleRow, col(RoleRow.platform_id) == PlatformRow.id)
            .where(RoleRow.country_code == party.country_code, RoleRow.party_id == party.party_id)
            .order_by(connected_first, col(PlatformRow.id).desc())
            .limit(1)
            .scalar_subquery()
        )
        statement = (
            select(PlatformRow, RoleRow)
            .join(RoleRow, col(RoleRow.platform_id) == PlatformRow.id)
            .where(col(PlatformRow.id) == best)
            .order_by(col(RoleRow.id))
        )
        async with self._session() as session:
            rows = list((await session.exec(statement)).all())
        if not rows:
            return None
        return _platform(rows[0][0], [r for _, r in rows])

    async def connected_platforms(self) -> list[Platform]:
        return await self._platforms(ConnectionStatus.CONNECTED.value)

    async def live_platforms(self) -> list[Platform]:
        return await self._platforms(*_LIVE)

    async def _platforms(self, *statuses: str) -> list[Platform]:
        statement = (
            select(PlatformRow, RoleRow)
            .join(RoleRow, col(RoleRow.platform_id) == PlatformRow.id)
            .where(col(PlatformRow.status).in_(statuses))
            .order_by(col(PlatformRow.id), col(RoleRow.id))
        )
        async with self._session() as session:
            rows = list((await session.exec(statement)).all())
        grouped: dict[int, tuple[PlatformRow, list[RoleRow]]] = {}
        for platform, role in rows:
            assert platform.id is not None
            grouped.setdefault(platform.id, (platform, []))[1].append(role)
        return [_platform(platform, roles) for platform, roles in grouped.values()]

    async def endpoint(self, platform_id: int, module: str, interface: InterfaceRole) -> str | None:
        key = ("endpoint", platform_id, module, interface)
        cached: str | None = self._cached(key)
        if cached is not None:
            return cached
        generation = self._generation
        url = await self._endpoint(platform_id, module, interface)
        self._remember(key, url, generation)
        return url

    async def _endpoint(
        self, platform_id: int, module: str, interface: InterfaceRole
    ) -> str | None:
        statement = (
            select(EndpointRow.url)
            .where(
                EndpointRow.platform_id == platform_id,
                EndpointRow.identifier == module,
                EndpointRow.role == interface.value,
            )
            .order_by(col(EndpointRow.id))
            .limit(1)
        )
        async with self._session() as session:
            return (await session.exec(statement)).first()

    async def save_proxy(self, proxy: Proxy) -> None:
        async with self._session(transaction=True) as session:
            session.add(
                ProxyRow(
                    uid=proxy.uid,
                    caller_country_code=proxy.caller.country_code,
                    caller_party_id=proxy.caller.party_id,
                    target_country_code=proxy.target.country_code,
                    target_party_id=proxy.target.party_id,
                    url=proxy.url,
                    module=proxy.module,
                    interface=proxy.interface.value,
                    created_at=_now(),
                )
            )

    async def purge_proxies(self, older_than: datetime) -> int:
        async with self._session(transaction=True) as session:
            result = await session.exec(
                delete(ProxyRow).where(col(ProxyRow.created_at) < older_than)
            )
        return int(result.rowcount)

    async def proxy(self, uid: str) -> Proxy | None:
        """The proxy `uid`, unless it is unknown or more than `proxy_days` old."""
        async with self._session() as session:
            row = await session.get(ProxyRow, uid)
        if row is None or _utc(row.created_at) < _now() - timedelta(days=self.proxy_days):
            return None
        return Proxy(
            uid=row.uid,
            caller=PartyId(row.caller_country_code, row.caller_party_id),
            target=PartyId(row.target_country_code, row.target_party_id),
            url=row.url,
            module=row.module,
            interface=InterfaceRole(row.interface),
        )

    def _insert(self) -> postgresql.Insert | sqlite.Insert:
        """An INSERT that can say ON CONFLICT, which both databases speak alike."""
        if self.database.engine.dialect.name == "postgresql":
            return postgresql.insert(NetworkClientInfoRow)
        return sqlite.insert(NetworkClientInfoRow)

    async def save_network_client_info(self, info: ClientInfo) -> bool:
        # Pushes from one node may overtake each other; the later change wins.
        insert = self._insert().values(**_network_row(info))
        statement = insert.on_conflict_do_update(
            index_elements=_NETWORK_KEY,
            set_={"status": insert.excluded.status, "last_updated": insert.excluded.last_updated},
            where=col(NetworkClientInfoRow.last_updated) <= insert.excluded.last_updated,
        )
        async with self._session(transaction=True) as session:
            result = await session.exec(statement)
        return bool(result.rowcount == 1)

    async def add_planned(self, info: ClientInfo) -> bool:
        statement = (
            self._insert()
            .values(**_network_row(info))
            .on_conflict_do_nothing(index_elements=_NETWORK_KEY)
        )
        async with self._session(transaction=True) as session:
            result = await session.exec(statement)
        return bool(result.rowcount == 1)

    async def client_infos(
        self, page: Page, rules: PartyRules = NO_RULES
    ) -> tuple[list[ClientInfo], int]:
        """A party known here and from the network (it moved, or was PLANNED) is listed once:
        as this node has it while it is live here, else as whichever changed last.

        Only the parties `rules` see are listed; they are filtered here, in the query, so the
        count and the pages are those of what the asking party may see."""
        network = NetworkClientInfoRow
        same = and_(
            col(network.country_code) == RoleRow.country_code,
            col(network.party_id) == RoleRow.party_id,
            col(network.role) == RoleRow.role,
        )
        local_wins = or_(
            col(PlatformRow.status).in_(_LIVE),
            col(PlatformRow.last_updated) >= network.last_updated,
        )
        local: sqlalchemy.Select[*tuple[Any, ...]] = (
            sqlalchemy.select(  # sqlmodel's select takes four columns at most
                col(RoleRow.country_code),
                col(RoleRow.party_id),
                col(RoleRow.role),
                col(PlatformRow.status),
                col(PlatformRow.last_updated),
                literal(0).label("source"),
                col(RoleRow.id).label("ordinal"),
            )
            .join(PlatformRow, col(RoleRow.platform_id) == PlatformRow.id)
            .where(
                or_(
                    col(PlatformRow.status).in_(_LIVE),
                    ~exists().where(same, col(network.last_updated) > PlatformRow.last_updated),
                )
            )
        )
        remote: sqlalchemy.Select[*tuple[Any, ...]] = sqlalchemy.select(
            col(network.country_code),
            col(network.party_id),
            col(network.role),
            col(network.status),
            col(network.last_updated),
            literal(1).label("source"),
            col(network.id).label("ordinal"),
        ).where(
            ~select(RoleRow.id)
            .join(PlatformRow, col(RoleRow.platform_id) == PlatformRow.id)
            .where(same, local_wins)
            .exists()
        )
        listed = union_all(local, remote).subquery()
        conditions = _seen_by(rules, listed.c.country_code, listed.c.party_id)
        if page.date_from is not None:
            conditions.append(listed.c.last_updated >= page.date_from)
        if page.date_to is not None:
            conditions.append(listed.c.last_updated < page.date_to)
        count = select(func.count()).select_from(listed).where(*conditions)
        statement = (
            sqlalchemy.select(listed)
            .where(*conditions)
            .order_by(listed.c.last_updated, listed.c.source, listed.c.ordinal)
            .offset(page.offset)
            .limit(page.limit)
        )
        async with self._session() as session:
            total = (await session.exec(count)).one()
            # A core SELECT of a subquery, which sqlmodel's exec does not take.
            connection = await session.connection()
            rows = list((await connection.execute(statement)).all())
        infos = [
            ClientInfo(
                PartyId(row.country_code, row.party_id),
                Role(row.role),
                ConnectionStatus(row.status),
                _utc(row.last_updated),
            )
            for row in rows
        ]
        return infos, int(total)


_NETWORK_KEY = ["country_code", "party_id", "role"]


def _seen_by(
    rules: PartyRules, country_code: ColumnElement[str], party_id: ColumnElement[str]
) -> list[ColumnElement[bool]]:
    """`rules.sees` as SQL conditions on a party's two columns."""

    def party_in(parties: frozenset[PartyId]) -> ColumnElement[bool]:
        if not parties:
            return false()
        return or_(
            *(
                and_(country_code == p.country_code, party_id == p.party_id)
                for p in sorted(parties, key=str)
            )
        )

    only, hidden = rules.visibility()
    conditions: list[ColumnElement[bool]] = []
    if only is not None:
        conditions.append(party_in(only))
    if hidden:
        conditions.append(not_(party_in(hidden)))
    return conditions


def _rules_record(rules: PartyRules) -> str | None:
    if rules == NO_RULES:
        return None
    return json.dumps(
        {
            "signatures": rules.signatures,
            "active": rules.active.value if rules.active else None,
            "entries": [e.to_json() for e in rules.entries],
        }
    )


def _party_rules(record: str | None) -> PartyRules:
    if record is None:
        return NO_RULES
    try:
        data = json.loads(record)
        return PartyRules(
            signatures=bool(data["signatures"]),
            active=ListKind(data["active"]) if data["active"] else None,
            entries=tuple(
                RuleEntry(
                    PartyId.parse(e["country_code"], e["party_id"]),
                    frozenset(str(m) for m in e["modules"]),
                )
                for e in data["entries"]
            ),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        # Rules this node did not write (a hand edit): closed, not open, until the party
        # sets them again.
        _log.error("unreadable scnrules in the database (%.80r): blocking all senders", record)
        return NO_RULES.block_all()


def _network_row(info: ClientInfo) -> dict[str, object]:
    return {
        "country_code": info.party.country_code,
        "party_id": info.party.party_id,
        "role": info.role.value,
        "status": info.status.value,
        # Stored as UTC like every time here: SQLite compares them as text.
        "last_updated": info.last_updated.astimezone(UTC),
    }


async def _roles(session: AsyncSession, platform_id: int) -> list[RoleRow]:
    statement = select(RoleRow).where(col(RoleRow.platform_id) == platform_id)
    return list((await session.exec(statement.order_by(col(RoleRow.id)))).all())


async def _replace(
    session: AsyncSession, replaced: int, platform_id: int, registration: Registration
) -> None:
    """Remove the platform a takeover replaces, carrying its rules over to `platform_id`. If it
    left meanwhile there is nothing to take over; if it holds a role the registration does
    not, it is not replaced (InvalidParameters)."""
    active = [r for r in await _roles(session, replaced) if r.active]
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


def _platform(row: PlatformRow, roles: Sequence[RoleRow]) -> Platform:
    assert row.id is not None
    allowed = None
    if row.allowed_roles is not None:
        allowed = tuple(
            AllowedRole(
                PartyId(a["country_code"], a["party_id"]), Role(a["role"]) if a["role"] else None
            )
            for a in json.loads(row.allowed_roles)
        )
    return Platform(
        id=row.id,
        status=ConnectionStatus(row.status),
        roles=tuple(
            PartyRole(
                Role(r.role),
                PartyId(r.country_code, r.party_id),
                json.loads(r.business_details),
            )
            for r in roles
        ),
        allowed_roles=allowed,
        token_b=row.token_b,
        token_form=TokenForm(row.token_form),
        versions_url=row.versions_url,
        last_updated=_utc(row.last_updated),
        rules=_party_rules(row.rules),
    )
