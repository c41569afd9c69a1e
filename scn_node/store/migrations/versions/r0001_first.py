"""The schema as the node had it before Alembic (its create_tables), and the in-place upgrade
of a database that create_tables made: it has the tables but no alembic_version.

Such a database is brought to this schema the way create_tables did it: the columns added
since (roles.active, platforms.rules, platforms.version) with their data, then every table it
lacks. Revision ID: 0001."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    _add_roles_active()
    _add_platforms_rules()
    _add_platforms_version()
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, create in _TABLES.items():
        if name not in existing:
            create()


def downgrade() -> None:
    for name in reversed(_TABLES):
        op.drop_table(name)


def _platforms() -> None:
    op.create_table(
        "platforms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("token_a_digest", sa.String()),
        sa.Column("token_c_digest", sa.String()),
        sa.Column("token_b", sa.String()),
        sa.Column("token_form", sa.String(), nullable=False),
        sa.Column("versions_url", sa.Text()),
        sa.Column("version", sa.String()),
        sa.Column("allowed_roles", sa.Text()),
        sa.Column("rules", sa.Text()),
        sa.Column("last_updated", TIME, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_platforms_token_a_digest", "platforms", ["token_a_digest"], unique=True)
    op.create_index("ix_platforms_token_c_digest", "platforms", ["token_c_digest"], unique=True)


def _roles() -> None:
    op.create_table(
        "roles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform_id", sa.Integer(), sa.ForeignKey("platforms.id"), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("country_code", sa.String(), nullable=False),
        sa.Column("party_id", sa.String(), nullable=False),
        sa.Column("business_details", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_roles_platform_id", "roles", ["platform_id"])
    op.create_index("ix_roles_party", "roles", ["country_code", "party_id"])
    _active_party_role_index()


def _active_party_role_index() -> None:
    op.create_index(
        "uq_roles_active_party_role",
        "roles",
        ["country_code", "party_id", "role"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )


def _endpoints() -> None:
    op.create_table(
        "endpoints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform_id", sa.Integer(), sa.ForeignKey("platforms.id"), nullable=False),
        sa.Column("identifier", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
    )
    op.create_index("ix_endpoints_lookup", "endpoints", ["platform_id", "identifier", "role"])


def _proxies() -> None:
    op.create_table(
        "proxies",
        sa.Column("uid", sa.String(), primary_key=True),
        sa.Column("caller_country_code", sa.String(), nullable=False),
        sa.Column("caller_party_id", sa.String(), nullable=False),
        sa.Column("target_country_code", sa.String(), nullable=False),
        sa.Column("target_party_id", sa.String(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("module", sa.String(), nullable=False),
        sa.Column("interface", sa.String(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )


def _network_client_info() -> None:
    op.create_table(
        "network_client_info",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("country_code", sa.String(), nullable=False),
        sa.Column("party_id", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("last_updated", TIME, nullable=False),
    )
    op.create_index(
        "uq_network_client_info_party_role",
        "network_client_info",
        ["country_code", "party_id", "role"],
        unique=True,
    )


def _seen_messages() -> None:
    op.create_table(
        "seen_messages",
        sa.Column("message_id", sa.String(), primary_key=True),
        sa.Column("expires", sa.Float(), nullable=False),
    )
    op.create_index("ix_seen_messages_expires", "seen_messages", ["expires"])


def _registry_answers() -> None:
    op.create_table(
        "registry_answers",
        sa.Column("lookup", sa.String(), primary_key=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("saved_at", TIME, nullable=False),
    )


def _hub_objects() -> None:
    op.create_table(
        "hub_objects",
        sa.Column("ordinal", sa.Integer(), primary_key=True),
        sa.Column("module", sa.String(), nullable=False),
        sa.Column("country_code", sa.String(), nullable=False),
        sa.Column("party_id", sa.String(), nullable=False),
        sa.Column("object_id", sa.String(), nullable=False),
        sa.Column("token_type", sa.String(), nullable=False),
        sa.Column("last_updated", TIME, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("stored_at", TIME, nullable=False),
    )
    op.create_index(
        "uq_hub_objects_key",
        "hub_objects",
        ["module", "country_code", "party_id", "object_id", "token_type"],
        unique=True,
    )
    op.create_index("ix_hub_objects_module_ordinal", "hub_objects", ["module", "ordinal"])
    op.create_index("ix_hub_objects_module_last_updated", "hub_objects", ["module", "last_updated"])


def _hub_object_owners() -> None:
    op.create_table(
        "hub_object_owners",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("country_code", sa.String(), nullable=False),
        sa.Column("party_id", sa.String(), nullable=False),
        sa.Column("roles", sa.String(), nullable=False),
        sa.Column("rules", sa.Text()),
        sa.Column("updated", TIME, nullable=False),
    )
    op.create_index(
        "uq_hub_object_owners_party",
        "hub_object_owners",
        ["country_code", "party_id"],
        unique=True,
    )


def _route_keys() -> None:
    op.create_table(
        "route_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("country_code", sa.String(), nullable=False),
        sa.Column("party_id", sa.String(), nullable=False),
        sa.Column("seen_at", TIME, nullable=False),
    )
    op.create_index(
        "uq_route_keys",
        "route_keys",
        ["kind", "key", "type", "country_code", "party_id"],
        unique=True,
    )


# In the order of their foreign keys: platforms before the tables that point at it.
_TABLES: dict[str, Callable[[], None]] = {
    "platforms": _platforms,
    "roles": _roles,
    "endpoints": _endpoints,
    "proxies": _proxies,
    "network_client_info": _network_client_info,
    "seen_messages": _seen_messages,
    "registry_answers": _registry_answers,
    "hub_objects": _hub_objects,
    "hub_object_owners": _hub_object_owners,
    "route_keys": _route_keys,
}


# ---------------------------------------------------------- a database made by create_tables


def _columns(table: str) -> set[str] | None:
    """The columns `table` has, or None when the database has no such table yet."""
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table(table):
        return None
    return {c["name"] for c in inspector.get_columns(table)}


def _add_roles_active() -> None:
    """Roles made before they had `active`: a role is active while its platform is CONNECTED."""
    columns = _columns("roles")
    if columns is None or "active" in columns:
        return
    op.execute("ALTER TABLE roles ADD COLUMN active BOOLEAN NOT NULL DEFAULT FALSE")
    op.execute(
        "UPDATE roles SET active = TRUE WHERE platform_id IN "
        "(SELECT id FROM platforms WHERE status = 'CONNECTED')"
    )
    _active_party_role_index()


def _add_platforms_rules() -> None:
    """Platforms made before they had `rules`: no platform has any yet."""
    columns = _columns("platforms")
    if columns is None or "rules" in columns:
        return
    op.execute("ALTER TABLE platforms ADD COLUMN rules TEXT")


def _add_platforms_version() -> None:
    """Platforms made before they had `version`: the node spoke only 2.2 then, so every
    platform that completed a handshake (it has a versions URL) registered with 2.2."""
    columns = _columns("platforms")
    if columns is None or "version" in columns:
        return
    op.execute("ALTER TABLE platforms ADD COLUMN version VARCHAR")
    op.execute("UPDATE platforms SET version = '2.2' WHERE versions_url IS NOT NULL")
