"""What the hub needs from the outside world, as Protocols: each hub service names the few it uses.

The adapters implement them: `store` (the node's records; its one `SqlDirectory` satisfies every
records Protocol here, and `Directory`, their union), `registry` (the SCN Registry, cached) and
`clients` (HTTP to parties and to peer nodes). The values they exchange are in `model`, and are
re-exported here, where older code imports them from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from scn_node.hub.model import (
    AllowedRole,
    Caller,
    ListedNode,
    ListedParty,
    OutboundRequest,
    PartyResponse,
    PartyRole,
    Platform,
    Proxy,
    Registration,
    Service,
    TokenKind,
)
from scn_node.hub.modules import KeyKind
from scn_node.hub.objects import HubObject, ObjectKey, ObjectOwner
from scn_node.hub.ownership import OwnedKey
from scn_node.hub.rules import PartyRules
from scn_node.scpi.hubclientinfo import ClientInfo, ConnectionStatus
from scn_node.scpi.pagination import Page
from scn_node.scpi.party import PartyId
from scn_node.scpi.versions import Endpoint, InterfaceRole

__all__ = [
    "AllowedRole",
    "Caller",
    "ConnectionEvents",
    "Credentials",
    "Directory",
    "HubObjects",
    "Leadership",
    "ListedNode",
    "ListedParty",
    "Liveness",
    "NetworkInfo",
    "NetworkListing",
    "OutboundRequest",
    "PartyResponse",
    "PartyRole",
    "Platform",
    "PlatformList",
    "Platforms",
    "Proxies",
    "Proxy",
    "Registration",
    "Registrations",
    "Registry",
    "RouteKeys",
    "SeenMessages",
    "Service",
    "TokenKind",
    "Transport",
    "Wallet",
]


# ---------------------------------------------------------------- the node's records


class Platforms(Protocol):
    """Where a party is connected and its endpoints: what routing reads on every request."""

    async def platform_of(self, party: PartyId) -> Platform | None:
        """The platform that has (or last had) `party` among its roles, connected ones first."""
        ...

    async def endpoint(
        self, platform_id: int, module: str, interface: InterfaceRole
    ) -> str | None: ...

    async def connected_platforms(self) -> list[Platform]: ...


class Proxies(Protocol):
    """Party URLs the node hides behind its own."""

    async def save_proxy(self, proxy: Proxy) -> None: ...

    async def proxy(self, uid: str) -> Proxy | None: ...


class Credentials(Protocol):
    """Tokens: who a caller is, and a party's own rules (changed with its TOKEN_C)."""

    async def authenticate(self, token: str) -> tuple[Platform, TokenKind] | None: ...

    async def set_rules(self, platform_id: int, token: str, rules: PartyRules) -> Platform | None:
        """Replace a platform's rules if `token` is still its TOKEN_C; else None."""
        ...


class Registrations(Platforms, Protocol):
    """What the credentials handshake stores and changes."""

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

    async def unregister(self, platform_id: int) -> Platform | None:
        """Forget the platform's tokens and endpoints; returns it, SUSPENDED (None if unknown)."""
        ...


class PlatformList(Protocol):
    """The operator's view (admin API)."""

    async def platform(self, platform_id: int) -> Platform | None: ...

    async def platforms(self, offset: int, limit: int) -> tuple[list[Platform], int]:
        """A page of the platforms that hold or held roles (not unused TOKEN_As), by id, and
        how many there are."""
        ...

    async def endpoints(self, platform_id: int) -> list[Endpoint]: ...

    async def endpoint_counts(self, platform_ids: Sequence[int]) -> dict[int, int]: ...

    async def unregister(self, platform_id: int) -> Platform | None: ...


class NetworkInfo(Platforms, Protocol):
    """Presence: liveness of the parties here, and ClientInfo about every party in the network."""

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


class HubObjects(Protocol):
    """The locations, tariffs and tokens broadcast TO the hub (`hub/stored.py`), and their
    owners' rules."""

    async def hub_object(self, key: ObjectKey) -> HubObject | None: ...

    async def keep_hub_object(self, kept: HubObject) -> bool:
        """Insert or replace the object, unless the one kept has a later last_updated; True
        if it was kept. A new object goes after every other (its ordinal); a replaced one
        keeps its place."""
        ...

    async def delete_hub_object(self, key: ObjectKey) -> None: ...

    async def save_object_owner(self, owner: ObjectOwner) -> None: ...

    async def object_owners(self) -> list[ObjectOwner]: ...

    async def hub_objects(
        self, module: str, page: Page, hidden: frozenset[PartyId]
    ) -> tuple[list[bytes], int] | None:
        """A page of the module's objects in their stable order, `last_updated` within the
        page's dates, none owned by `hidden`, and how many there are in all; None when no
        object of the module is kept at all."""
        ...


class RouteKeys(Protocol):
    """The ownership index open routing finds receivers by (`hub/open_routing.py`): which
    party owns a token uid, a location, a session or a reservation, as learned from the
    traffic through this node. Kept like proxies, for `proxy_days` after last seen."""

    async def owners(self, kind: KeyKind, key: str, type: str = "") -> list[PartyId]:
        """The parties seen owning `key` (one indexed query), at most a few."""
        ...

    async def remember_keys(self, keys: Sequence[OwnedKey]) -> None:
        """Add these keys, or mark them seen now: one batched write."""
        ...


class Directory(
    Credentials,
    Registrations,
    PlatformList,
    Proxies,
    NetworkInfo,
    HubObjects,
    RouteKeys,
    Protocol,
):
    """All of the node's records: what the store implements and the web adapter holds."""


class SeenMessages(Protocol):
    """The ids of delivered node messages, kept where a restart or a second node process on
    the same database finds them (the node's database)."""

    async def first_delivery(self, message_id: str, until: float) -> bool:
        """Record `message_id` as delivered, kept until `until` (Unix time); False if it was
        recorded before."""
        ...


# ---------------------------------------------------------------- the SCN Registry


class Registry(Protocol):
    async def party(self, party: PartyId, *, fresh: bool = False) -> ListedParty | None: ...

    async def node_url(self, operator: str, *, fresh: bool = False) -> str | None: ...

    async def parties(self) -> tuple[ListedParty, ...]:
        """Every party the registry lists (cached; a change on the chain expires it): the
        sources a GET All may ask."""
        ...

    async def nodes(self) -> tuple[ListedNode, ...]:
        """Every node the registry lists, this one too (cached the same way): where a
        broadcast goes."""
        ...

    async def services_of(self, user: PartyId) -> tuple[Service, ...]:
        """The services `user` has agreed to (cached; revocations expire the cache)."""
        ...

    def known_services(self, user: PartyId) -> tuple[Service, ...] | None:
        """What `services_of` would answer from the cache right now; None if it would ask."""
        ...

    async def agrees(self, user: PartyId, provider: str) -> bool:
        """Whether `user`'s agreement with `provider` stands, read from the chain now."""
        ...


class NetworkListing(Protocol):
    """The registry's rarer, uncached reads: presence asks them now and then. Both raise
    HubError when the registry cannot be read."""

    async def other_nodes(self) -> Sequence[str]:
        """The URLs of every other node in the registry."""
        ...

    async def planned_parties(self) -> Sequence[ListedParty]:
        """The parties the registry lists with this node's operator."""
        ...


# ---------------------------------------------------------------- HTTP, keys, events


class Transport(Protocol):
    """HTTP out, to parties and to peer nodes."""

    async def send(self, request: OutboundRequest) -> PartyResponse:
        """Raises ReceiverTimeout or ConnectionProblem when the other end cannot be reached."""
        ...


class ConnectionEvents(Protocol):
    def status_changed(self, platform: Platform, *, network: bool = True) -> None:
        """`platform` connected, left or changed status: tell the other parties, and unless
        `network` is False, the other nodes."""
        ...


class Liveness(Protocol):
    """Who was heard from: a routed request that was answered shows both ends are alive."""

    def routed(self, caller: Caller | None, sender: PartyId, receiver: PartyId) -> None: ...


class Leadership(Protocol):
    """Whether this instance runs the node's background work (the still-alive round, the
    planned-party search, the proxy purge, the release of moved parties). Several instances on
    one database elect one; a single process always leads. Asked once per round."""

    async def lead(self) -> bool:
        """True while this instance leads; takes the lead when it is free. Never raises: a
        database that cannot be asked means not leading this round."""
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
