"""The values the hub works with: platforms, their roles and tokens, proxies, registry listings,
and the HTTP requests it makes. Plain data; the Protocols that produce them are in `ports`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from scn_node.hub.rules import PartyRules
from scn_node.scpi.authorization import TokenForm
from scn_node.scpi.hubclientinfo import ConnectionStatus
from scn_node.scpi.party import ModuleId, PartyId, Role
from scn_node.scpi.services import ServicePermission
from scn_node.scpi.versions import Endpoint, InterfaceRole


@dataclass(frozen=True, slots=True)
class PartyRole:
    role: Role
    party: PartyId
    business_details: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AllowedRole:
    """A party a TOKEN_A may register, in one role or (role None) in any."""

    party: PartyId
    role: Role | None = None

    def permits(self, role: PartyRole) -> bool:
        return self.party == role.party and self.role in (None, role.role)


class TokenKind(StrEnum):
    A = "CREDENTIALS_TOKEN_A"
    C = "CREDENTIALS_TOKEN_C"


@dataclass(frozen=True, slots=True)
class Platform:
    """One SCPI connection: a backoffice with one or more roles."""

    id: int
    status: ConnectionStatus
    roles: tuple[PartyRole, ...]
    allowed_roles: tuple[AllowedRole, ...] | None  # what a TOKEN_A may register; None: any
    token_b: str | None
    token_form: TokenForm
    versions_url: str | None
    last_updated: datetime
    rules: PartyRules = field(default_factory=PartyRules)  # the platform's own `scnrules`
    version: str | None = None  # the SCPI version it registered with; None before it did

    def has_party(self, party: PartyId) -> bool:
        return any(r.party == party for r in self.roles)


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated request's platform, and how it authenticated."""

    platform: Platform
    kind: TokenKind
    form: TokenForm
    token: str = field(repr=False)  # as presented; the store checks it is still valid on writes


@dataclass(frozen=True, slots=True)
class Registration:
    """What a completed credentials handshake stores."""

    token_b: str
    token_form: TokenForm
    versions_url: str
    version: str  # the one the node picked from the party's list; `endpoints` are its
    roles: tuple[PartyRole, ...]
    endpoints: tuple[Endpoint, ...]
    token_c: str


@dataclass(frozen=True, slots=True)
class Proxy:
    """A party URL the node hides behind one of its own: only `caller` may use it, towards `target`."""

    uid: str
    caller: PartyId
    target: PartyId
    url: str
    module: str
    interface: InterfaceRole


@dataclass(frozen=True, slots=True)
class ListedParty:
    """A party as the SCN Registry lists it: what the node routes by, and what the
    `scn-registry` CLI shows."""

    party: PartyId
    roles: tuple[Role, ...]
    operator: str
    node_url: str  # empty when the operator has deleted its node
    address: str = ""  # the party's own account, which may sign its messages
    modules_sender: tuple[ModuleId, ...] = ()
    modules_receiver: tuple[ModuleId, ...] = ()


@dataclass(frozen=True, slots=True)
class ListedNode:
    """A node as the SCN Registry lists it: its operator's account and its URL."""

    operator: str
    url: str


@dataclass(frozen=True, slots=True)
class Service:
    """A service as the SCN Permissions contract lists it (the provider's current listing and the
    permissions it asks for); a user party that agreed to it gets copies of its matching
    requests."""

    provider: str  # the service party's account
    party: PartyId
    permissions: tuple[ServicePermission, ...]
    name: str = ""
    url: str = ""

    def wants(self, module: str, interface: InterfaceRole) -> bool:
        return any(p.matches(module, interface) for p in self.permissions)


@dataclass(frozen=True, slots=True)
class OutboundRequest:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class PartyResponse:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes
