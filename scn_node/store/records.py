"""Rows to hub values and back: platforms with their roles, rules and allowed roles as JSON."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scn_node.hub.ports import AllowedRole, PartyRole, Platform
from scn_node.hub.rules import NO_RULES, ListKind, PartyRules, RuleEntry
from scn_node.scpi.authorization import TokenForm
from scn_node.scpi.hubclientinfo import ConnectionStatus
from scn_node.scpi.party import PartyId, Role
from scn_node.store.tables import PlatformRow, RoleRow

log = logging.getLogger(__name__)

# The statuses in which a platform holds its parties: it has tokens and may be called.
LIVE = (ConnectionStatus.CONNECTED.value, ConnectionStatus.OFFLINE.value)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def now() -> datetime:
    return datetime.now(UTC)


def utc(moment: datetime) -> datetime:
    # SQLite hands back naive values; everything stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def roles_of(session: AsyncSession, platform_id: int) -> list[RoleRow]:
    statement = select(RoleRow).where(col(RoleRow.platform_id) == platform_id)
    return list((await session.exec(statement.order_by(col(RoleRow.id)))).all())


def platform(row: PlatformRow, roles: Sequence[RoleRow]) -> Platform:
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
        last_updated=utc(row.last_updated),
        rules=party_rules(row.rules),
        version=row.version,
    )


def allowed_roles_record(allowed_roles: Sequence[AllowedRole] | None) -> str | None:
    if allowed_roles is None:
        return None
    return json.dumps(
        [
            {
                "country_code": a.party.country_code,
                "party_id": a.party.party_id,
                "role": a.role.value if a.role else None,
            }
            for a in allowed_roles
        ]
    )


def rules_record(rules: PartyRules) -> str | None:
    if rules == NO_RULES:
        return None
    return json.dumps(
        {
            "signatures": rules.signatures,
            "active": rules.active.value if rules.active else None,
            "entries": [e.to_json() for e in rules.entries],
        }
    )


def party_rules(record: str | None) -> PartyRules:
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
        log.error("unreadable scnrules in the database (%.80r): blocking all senders", record)
        return NO_RULES.block_all()
