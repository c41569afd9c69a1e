"""SqlNetworkInfo: ClientInfo from other nodes and the registry, and the hubclientinfo list."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import sqlalchemy
from sqlalchemy import ColumnElement, and_, exists, false, func, literal, not_, or_, union_all
from sqlmodel import col, select

from scn_node.hub.rules import NO_RULES, PartyRules
from scn_node.scpi.hubclientinfo import ClientInfo, ConnectionStatus
from scn_node.scpi.pagination import Page
from scn_node.scpi.party import PartyId, Role
from scn_node.store.records import LIVE, utc
from scn_node.store.session import SqlStore, upsert
from scn_node.store.tables import NetworkClientInfoRow, PlatformRow, RoleRow


class SqlNetworkInfo(SqlStore):
    """What other nodes pushed and the registry lists, beside the parties connected here."""

    async def save_network_client_info(self, info: ClientInfo) -> bool:
        # Pushes from one node may overtake each other; the later change wins.
        insert = upsert(self.database, NetworkClientInfoRow).values(**_network_row(info))
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
            upsert(self.database, NetworkClientInfoRow)
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
            col(PlatformRow.status).in_(LIVE),
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
                    col(PlatformRow.status).in_(LIVE),
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
                utc(row.last_updated),
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


def _network_row(info: ClientInfo) -> dict[str, object]:
    return {
        "country_code": info.party.country_code,
        "party_id": info.party.party_id,
        "role": info.role.value,
        "status": info.status.value,
        # Stored as UTC like every time here: SQLite compares them as text.
        "last_updated": info.last_updated.astimezone(UTC),
    }
