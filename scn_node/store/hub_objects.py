"""SqlHubObjects: the locations, tariffs and tokens broadcast TO the hub, and their owners."""

from __future__ import annotations

import json
from datetime import UTC

from sqlalchemy import ColumnElement, and_, delete, func, not_, or_
from sqlmodel import col, select

from scn_node.hub.objects import HubObject, ObjectKey, ObjectOwner
from scn_node.scpi.pagination import Page
from scn_node.scpi.party import PartyId, Role
from scn_node.store.records import now, party_rules, rules_record, utc
from scn_node.store.session import SqlStore, upsert
from scn_node.store.tables import HubObjectOwnerRow, HubObjectRow

_KEY = ["module", "country_code", "party_id", "object_id", "token_type"]


class SqlHubObjects(SqlStore):
    """Broadcasts are not the forward path's reads: writes here leave the read cache alone."""

    async def hub_object(self, key: ObjectKey) -> HubObject | None:
        async with self._session() as session:
            row = (await session.exec(select(HubObjectRow).where(*_is(key)))).first()
        if row is None:
            return None
        return HubObject(key, utc(row.last_updated), row.body.encode())

    async def keep_hub_object(self, kept: HubObject) -> bool:
        key = kept.key
        insert = upsert(self.database, HubObjectRow).values(
            module=key.module,
            country_code=key.owner.country_code,
            party_id=key.owner.party_id,
            object_id=key.object_id,
            token_type=key.token_type,
            # Stored as UTC like every time here: SQLite compares them as text.
            last_updated=kept.last_updated.astimezone(UTC),
            body=kept.body.decode(),
            stored_at=now(),
        )
        statement = insert.on_conflict_do_update(
            index_elements=_KEY,
            set_={
                "last_updated": insert.excluded.last_updated,
                "body": insert.excluded.body,
                "stored_at": insert.excluded.stored_at,
            },
            where=col(HubObjectRow.last_updated) <= insert.excluded.last_updated,
        )
        async with self._session(transaction=True) as session:
            result = await session.exec(statement)
        return bool(result.rowcount == 1)

    async def delete_hub_object(self, key: ObjectKey) -> None:
        async with self._session(transaction=True) as session:
            await session.exec(delete(HubObjectRow).where(*_is(key)))

    async def save_object_owner(self, owner: ObjectOwner) -> None:
        insert = upsert(self.database, HubObjectOwnerRow).values(
            country_code=owner.party.country_code,
            party_id=owner.party.party_id,
            roles=json.dumps(sorted(r.value for r in owner.roles)),
            rules=rules_record(owner.rules),
            updated=now(),
        )
        statement = insert.on_conflict_do_update(
            index_elements=["country_code", "party_id"],
            set_={
                "roles": insert.excluded.roles,
                "rules": insert.excluded.rules,
                "updated": insert.excluded.updated,
            },
        )
        async with self._session(transaction=True) as session:
            await session.exec(statement)

    async def object_owners(self) -> list[ObjectOwner]:
        async with self._session() as session:
            rows = (await session.exec(select(HubObjectOwnerRow))).all()
        return [
            ObjectOwner(
                PartyId(row.country_code, row.party_id),
                frozenset(Role(r) for r in json.loads(row.roles)),
                party_rules(row.rules),
            )
            for row in rows
        ]

    async def hub_objects(
        self, module: str, page: Page, hidden: frozenset[PartyId]
    ) -> tuple[list[bytes], int] | None:
        conditions: list[ColumnElement[bool]] = [col(HubObjectRow.module) == module]
        if hidden:
            conditions.append(
                not_(
                    or_(
                        *(
                            and_(
                                col(HubObjectRow.country_code) == p.country_code,
                                col(HubObjectRow.party_id) == p.party_id,
                            )
                            for p in sorted(hidden, key=str)
                        )
                    )
                )
            )
        if page.date_from is not None:
            conditions.append(col(HubObjectRow.last_updated) >= page.date_from.astimezone(UTC))
        if page.date_to is not None:
            conditions.append(col(HubObjectRow.last_updated) < page.date_to.astimezone(UTC))
        count = select(func.count()).select_from(HubObjectRow).where(*conditions)
        statement = (
            select(HubObjectRow.body)
            .where(*conditions)
            .order_by(col(HubObjectRow.ordinal))
            .offset(page.offset)
            .limit(page.limit)
        )
        async with self._session() as session:
            total = int((await session.exec(count)).one())
            bodies = [body.encode() for body in (await session.exec(statement)).all()]
            if total == 0:  # none to show: are there none at all?
                one = select(HubObjectRow.ordinal).where(col(HubObjectRow.module) == module)
                if (await session.exec(one.limit(1))).first() is None:
                    return None
        return bodies, total


def _is(key: ObjectKey) -> list[ColumnElement[bool]]:
    return [
        col(HubObjectRow.module) == key.module,
        col(HubObjectRow.country_code) == key.owner.country_code,
        col(HubObjectRow.party_id) == key.owner.party_id,
        col(HubObjectRow.object_id) == key.object_id,
        col(HubObjectRow.token_type) == key.token_type,
    ]
