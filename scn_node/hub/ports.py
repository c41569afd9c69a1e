"""What the hub needs from the outside world, as Protocols, and the values they exchange.

The adapters implement these: `store` (the directory of platforms), `registry` (the SCN
Registry, cached) and `clients` (HTTP to parties).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from scn_node.hub.rules import PartyRules
from scn_node.scpi.authorization import TokenForm
from scn_node.scpi.hubclientinfo import ClientInfo, ConnectionStatus
from scn_node.scpi.pagination import Page
from scn_node.scpi.party import PartyId, Role
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


class Directory(Protocol):
    """The node's own records of platforms, their roles and endpoints, and proxied URLs."""

    async def authenticate(self, token: str) -> tuple[Platform, TokenKind] | None: ...

    async def issue_token_a(
        self, token: str, allowed_roles: Sequence[AllowedRole] | None
    ) -> Platform: ...

    async def register(
        self,
        platform_id: int,
        token: str,
        registration: Registration,
        *,
        replaces: int | None = None,
    ) -> Platform | None:
        """Store a handshake if `token` (TOKEN_A or TOKEN_C) is still the platform's; else None.
        With `replaces`, that live platform, whose roles this registration all holds, is
        removed in the same transaction (a takeover); if another one holds the parties by
        then, InvalidParameters and nothing is saved."""
        ...

    async def withdraw_token_a(self, token: str) -> None:
        """Make `token` no TOKEN_A anymore; a platform that only it made (no roles) goes."""
        ...

    async def stage_token_c(self, platform_id: int, token: str) -> bool:
        """Let `token` open versions and credentials of a live platform, as a TOKEN_A does,
        until `rotate` makes it the TOKEN_C; False if the platform is not live."""
        ...

    async def rotate(
        self, platform_id: int, token: str, token_b: str, versions_url: str
    ) -> Platform | None:
        """Make the staged `token` the platform's TOKEN_C (the old one stops working) and keep
        the party's new TOKEN_B and versions URL; None if `token` is no longer staged there."""
        ...

    async def platform(self, platform_id: int) -> Platform | None: ...

    async def platforms(self, offset: int, limit: int) -> tuple[list[Platform], int]:
        """A page of the platforms that hold or held roles (not unused TOKEN_As), by id, and
        how many there are."""
        ...

    async def endpoints(self, platform_id: int) -> list[Endpoint]: ...

    async def endpoint_counts(self, platform_ids: Sequence[int]) -> dict[int, int]: ...

    async def unregister(self, platform_id: int) -> Platform | None:
        """Forget the platform's tokens and endpoints; returns it, SUSPENDED (None if unknown)."""
        ...

    async def platform_of(self, party: PartyId) -> Platform | None:
        """The platform that has (or last had) `party` among its roles, connected ones first."""
        ...

    async def connected_platforms(self) -> list[Platform]: ...

    async def live_platforms(self) -> list[Platform]:
        """The platforms CONNECTED or OFFLINE: those that hold their parties."""
        ...

    async def set_status(
        self, platform_id: int, status: ConnectionStatus, *, was: ConnectionStatus
    ) -> Platform | None:
        """Move a platform from `was` to `status`, now; None if it is no longer `was`."""
        ...

    async def renew(self, heard: Mapping[PartyId, datetime]) -> None:
        """Move `last_updated` of the live platforms holding these parties up to when they
        were last heard from."""
        ...

    async def endpoint(
        self, platform_id: int, module: str, interface: InterfaceRole
    ) -> str | None: ...

    async def set_rules(self, platform_id: int, token: str, rules: PartyRules) -> Platform | None:
        """Replace a platform's rules if `token` is still its TOKEN_C; else None."""
        ...

    async def save_proxy(self, proxy: Proxy) -> None: ...

    async def proxy(self, uid: str) -> Proxy | None: ...

    async def save_network_client_info(self, info: ClientInfo) -> bool:
        """Keep what another node says about one of its parties, unless what is kept is newer;
        True if it was kept."""
        ...

    async def add_planned(self, info: ClientInfo) -> bool:
        """Keep a PLANNED ClientInfo unless one for its party and role is kept; True if new."""
        ...

    async def client_infos(self, page: Page, rules: PartyRules) -> tuple[list[ClientInfo], int]:
        """Every role on this node and every one kept from the network that `rules` let see,
        one per party and role, oldest change first, and how many there are in all."""
        ...


@dataclass(frozen=True, slots=True)
class ListedParty:
    """A party as the SCN Registry lists it."""

    party: PartyId
    roles: tuple[Role, ...]
    operator: str
    node_url: str
    address: str = ""  # the party's own account, which may sign its messages


@dataclass(frozen=True, slots=True)
class Service:
    """A service a user party agreed to: it gets copies of the user's matching requests."""

    provider: str  # the service party's account
    party: PartyId
    permissions: tuple[ServicePermission, ...]

    def wants(self, module: str, interface: InterfaceRole) -> bool:
        return any(p.matches(module, interface) for p in self.permissions)


class Registry(Protocol):
    async def party(self, party: PartyId, *, fresh: bool = False) -> ListedParty | None: ...

    async def node_url(self, operator: str, *, fresh: bool = False) -> str | None: ...

    async def services_of(self, user: PartyId) -> tuple[Service, ...]:
        """The services `user` has agreed to (cached; revocations expire the cache)."""
        ...

    def known_services(self, user: PartyId) -> tuple[Service, ...] | None:
        """What `services_of` would answer from the cache right now; None if it would ask."""
        ...

    async def agrees(self, user: PartyId, provider: str) -> bool:
        """Whether `user`'s agreement with `provider` stands, read from the chain now."""
        ...


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


class PartyTransport(Protocol):
    async def send(self, request: OutboundRequest) -> PartyResponse:
        """Raises ReceiverTimeout or ConnectionProblem when the party cannot be reached."""
        ...


class ConnectionEvents(Protocol):
    def status_changed(self, platform: Platform, *, network: bool = True) -> None:
        """`platform` connected, left or changed status: tell the other parties, and unless
        `network` is False, the other nodes."""
        ...


class Wallet(Protocol):
    """The node's key: signs node messages, and tells who signed a peer's."""

    @property
    def address(self) -> str: ...

    def sign(self, data: bytes) -> str:
        """An EIP-191 signature over `data`, as 0x-prefixed hex."""
        ...

    def recover(self, data: bytes, signature: str) -> str:
        """The address that signed `data`; ValueError for a malformed signature."""
        ...
