"""The node's tables. Rows never leave `store`; the directory converts them to hub values."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel


class PlatformRow(SQLModel, table=True):
    __tablename__ = "platforms"

    id: int | None = Field(default=None, primary_key=True)
    status: str
    # Tokens A and C are kept only as SHA-256 digests: a copy of the database lets no one in.
    token_a_digest: str | None = Field(default=None, unique=True, index=True)
    token_c_digest: str | None = Field(default=None, unique=True, index=True)
    token_b: str | None = None  # the node must present it to the party, so it is kept as is
    token_form: str
    versions_url: str | None = Field(default=None, sa_column=Column(Text))
    version: str | None = None  # the SCPI version of the endpoints kept; None before a handshake
    allowed_roles: str | None = Field(default=None, sa_column=Column(Text))  # JSON list
    # The party's own `scnrules` (JSON), read with the platform: routing needs no extra query.
    rules: str | None = Field(default=None, sa_column=Column(Text))  # None: no rules
    last_updated: datetime
    created_at: datetime


# A party holds a role on one connected platform at a time; the roles of platforms that left
# (SUSPENDED) stay, inactive, so others still see the party.
ACTIVE_PARTY_ROLE = Index(
    "uq_roles_active_party_role",
    "country_code",
    "party_id",
    "role",
    unique=True,
    sqlite_where=text("active"),
    postgresql_where=text("active"),
)


class RoleRow(SQLModel, table=True):
    __tablename__ = "roles"
    __table_args__ = (Index("ix_roles_party", "country_code", "party_id"), ACTIVE_PARTY_ROLE)

    id: int | None = Field(default=None, primary_key=True)
    platform_id: int = Field(foreign_key="platforms.id", index=True)
    role: str
    country_code: str
    party_id: str
    business_details: str = Field(sa_column=Column(Text, nullable=False))  # JSON object
    active: bool = True  # while the platform is CONNECTED


class EndpointRow(SQLModel, table=True):
    __tablename__ = "endpoints"
    __table_args__ = (Index("ix_endpoints_lookup", "platform_id", "identifier", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    platform_id: int = Field(foreign_key="platforms.id")
    identifier: str
    role: str
    url: str = Field(sa_column=Column(Text, nullable=False))


class ProxyRow(SQLModel, table=True):
    __tablename__ = "proxies"

    uid: str = Field(primary_key=True)
    caller_country_code: str
    caller_party_id: str
    target_country_code: str
    target_party_id: str
    url: str = Field(sa_column=Column(Text, nullable=False))
    module: str
    interface: str
    created_at: datetime


class NetworkClientInfoRow(SQLModel, table=True):
    """A party's ClientInfo as another node pushed it, or PLANNED as the registry lists it."""

    __tablename__ = "network_client_info"
    __table_args__ = (
        Index("uq_network_client_info_party_role", "country_code", "party_id", "role", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    country_code: str
    party_id: str
    role: str
    status: str
    last_updated: datetime


class SeenMessageRow(SQLModel, table=True):
    """A node message delivered here, kept while its timestamp is accepted: a replay, even to
    a restarted node or another process on this database, finds it."""

    __tablename__ = "seen_messages"

    message_id: str = Field(primary_key=True)
    expires: float = Field(index=True)  # Unix time


class RegistryAnswerRow(SQLModel, table=True):
    """The last answer the SCN Registry gave for one lookup, for a node restarted while the
    chain is away."""

    __tablename__ = "registry_answers"

    lookup: str = Field(primary_key=True)  # e.g. "party DE CPO", "node 0xab…"
    answer: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    saved_at: datetime


class HubObjectRow(SQLModel, table=True):
    """A location, tariff or token broadcast TO the hub, as the last push left it: the JSON a
    GET All answer carries, byte for byte."""

    __tablename__ = "hub_objects"
    __table_args__ = (
        Index(
            "uq_hub_objects_key",
            "module",
            "country_code",
            "party_id",
            "object_id",
            "token_type",
            unique=True,
        ),
        Index("ix_hub_objects_module_ordinal", "module", "ordinal"),
        Index("ix_hub_objects_module_last_updated", "module", "last_updated"),
    )

    # Given on the first insert and kept by every update: the list's stable order.
    ordinal: int | None = Field(default=None, primary_key=True)
    module: str
    country_code: str
    party_id: str
    object_id: str
    token_type: str = ""  # tokens are unique by uid and type; "" for the other modules
    last_updated: datetime  # the object's own (the sender's), UTC
    body: str = Field(sa_column=Column(Text, nullable=False))
    stored_at: datetime


class HubObjectOwnerRow(SQLModel, table=True):
    """The owner of broadcast objects kept here: its roles and its own `scnrules` as of its
    last push, which decide who may GET its objects (also for owners on other nodes)."""

    __tablename__ = "hub_object_owners"
    __table_args__ = (Index("uq_hub_object_owners_party", "country_code", "party_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    country_code: str
    party_id: str
    roles: str  # JSON list of roles
    rules: str | None = Field(default=None, sa_column=Column(Text))  # None: no rules
    updated: datetime


class RouteKeyRow(SQLModel, table=True):
    """A key open routing finds a receiver by, and the party seen owning it: token uid (with
    its type) -> eMSP, location id, session id or reservation id -> CPO. The unique index
    starts with (kind, key), so it is also the lookup's index."""

    __tablename__ = "route_keys"
    __table_args__ = (
        Index("uq_route_keys", "kind", "key", "type", "country_code", "party_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    key: str
    type: str = ""  # a token's type; empty for the other kinds
    country_code: str
    party_id: str
    seen_at: datetime  # last learned; older than proxy_days is neither used nor kept
