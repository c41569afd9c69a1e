"""The credentials handshake (OCPI 2.2.1/2.2 credentials module), checked against the SCN Registry.

A backoffice holding TOKEN_A posts its Credentials; the node fetches the party's versions and
the endpoints of the best version both speak (2.2.1, then 2.2) with TOKEN_B, checks that every
role is listed in the registry with this node, and answers with TOKEN_C. Nothing is saved
unless every step succeeds. The platform keeps the version picked: the node calls it at that
version's endpoints.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from scn_node.hub.party_api import PartyApi, credentials_url
from scn_node.hub.ports import (
    AllowedRole,
    Caller,
    ConnectionEvents,
    PartyRole,
    Platform,
    Registration,
    Registrations,
    Registry,
    Transport,
)
from scn_node.scpi.authorization import TokenForm
from scn_node.scpi.credentials import (
    NODE_PARTY,
    Credentials,
    CredentialsRole,
    parse_connect,
    parse_credentials,
    parse_token_roles,
)
from scn_node.scpi.errors import (
    InvalidParameters,
    ResourceNotFound,
    ScpiError,
    UnableToUseClientApi,
    Unauthorized,
)
from scn_node.scpi.hubclientinfo import ConnectionStatus
from scn_node.scpi.party import ModuleId, PartyId, Role
from scn_node.scpi.versions import (
    InterfaceRole,
    versions_path,
)


def same_url(a: str, b: str) -> bool:
    """URLs compared as a user means them: case-insensitive scheme and host, no trailing slash."""

    def normal(url: str) -> tuple[str, str, str]:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
        default = {"http": 80, "https": 443}.get(parts.scheme.lower())
        netloc = host if port in (None, default) else f"{host}:{port}"
        return parts.scheme.lower(), netloc, parts.path.rstrip("/")

    return normal(a) == normal(b)


@dataclass(frozen=True, slots=True)
class NodeIdentity:
    url: str
    address: str

    @property
    def versions_url(self) -> str:
        return self.url + versions_path("scpi")


log = logging.getLogger(__name__)

# The statuses in which a platform holds its parties.
_LIVE = (ConnectionStatus.CONNECTED, ConnectionStatus.OFFLINE)


class Handshake:
    def __init__(
        self,
        directory: Registrations,
        registry: Registry,
        transport: Transport,
        node: NodeIdentity,
        *,
        new_token: Callable[[], str] = lambda: str(uuid.uuid4()),
        events: ConnectionEvents | None = None,
    ) -> None:
        self.directory = directory
        self.registry = registry
        self.node = node
        self.new_token = new_token
        self.events = events
        self.party_api = PartyApi(transport, node.versions_url)

    async def issue_token_a(self, body: bytes) -> dict[str, str]:
        """A single-use TOKEN_A, optionally restricted to the roles listed in `body`. One
        restricted to a connected party takes its connection over (a party that never got its
        handshake answer holds a TOKEN_C it never saw: this is how it gets back in)."""
        listed = parse_token_roles(body)
        allowed = None if listed is None else [AllowedRole(p, r) for p, r in listed]
        token = secrets.token_urlsafe(24)
        await self.directory.issue_token_a(token, allowed)
        return {"token": token, "versions": self.node.versions_url}

    async def register(self, caller: Caller, body: bytes) -> str:
        """Complete the handshake begun with TOKEN_A; returns the party's TOKEN_C."""
        try:
            credentials = parse_credentials(body)
            _check_roles(caller.platform, credentials.roles)
            replaces = await self._connection_taken_over(caller.platform, credentials)
            await self._check_registry(credentials.roles)
            registration = await self._fetch(credentials, caller.form)
            platform, token_c = await self._store(caller, registration, replaces)
        except ScpiError as error:
            _refused("registration", error)
            raise
        if replaces is not None:
            log.info("%s took over its connection with a new TOKEN_A", _names(platform))
        self._changed(platform)
        return token_c

    async def update(self, caller: Caller, body: bytes) -> str:
        """Re-fetch a registered party's endpoints and rotate its tokens; returns the new TOKEN_C."""
        try:
            credentials = parse_credentials(body)
            _check_roles(caller.platform, credentials.roles)
            await self._check_not_connected_elsewhere(caller.platform, credentials.roles)
            await self._check_registry(credentials.roles)
            registration = await self._fetch(credentials, caller.platform.token_form)
            platform, token_c = await self._store(caller, registration)
        except ScpiError as error:
            _refused("update", error)
            raise
        if caller.platform.status is not ConnectionStatus.CONNECTED:
            self._changed(platform)  # an OFFLINE party that updates is back; otherwise no news
        return token_c

    async def _store(
        self, caller: Caller, registration: Registration, replaces: int | None = None
    ) -> tuple[Platform, str]:
        platform = await self.directory.register(
            caller.platform.id, caller.token, registration, replaces=replaces
        )
        if platform is None:
            # A concurrent handshake with the same token may have won while this one fetched.
            raise Unauthorized("Unknown credentials token")
        return platform, registration.token_c

    # ------------------------------------------------------------ started by the node

    async def connect(self, body: bytes) -> Platform:
        """A handshake the node starts (admin API): `body` holds a party's versions URL and
        the TOKEN_A it issued. The node reads the party's endpoints with that token, POSTs its
        own credentials (a new TOKEN_C) and registers what the party answers, after the same
        checks as a handshake the party starts. Nothing is kept if a step fails."""
        request = parse_connect(body)
        try:
            details, form = await self.party_api.endpoints(request.versions_url, request.token)
            url = credentials_url(details.endpoints, request.versions_url)
            token_c = self.new_token()
            # The party may read this node's versions with its new TOKEN_C before it answers:
            # until then the token is kept as a TOKEN_A, which opens only versions and credentials.
            staged = await self.directory.issue_token_a(token_c, None)
            try:
                credentials = await self.party_api.send_credentials(
                    "POST", url, request.token, form, token_c
                )
                platform = await self._registered(staged, credentials, token_c, form, url)
            except BaseException:
                await self.directory.withdraw_token_a(token_c)
                raise
        except ScpiError as error:
            _refused("connect", error)
            raise
        log.info("%s connected by the node's own handshake", _names(platform))
        self._changed(platform)
        return platform

    async def _registered(
        self, staged: Platform, credentials: Credentials, token_c: str, form: TokenForm, url: str
    ) -> Platform:
        """Check and store the credentials a party answered the node's POST with. If they do
        not pass, the party is told (DELETE with its new TOKEN_B) that it is not connected."""
        try:
            _check_roles(staged, credentials.roles)
            await self._check_not_connected_elsewhere(staged, credentials.roles, live=True)
            await self._check_registry(credentials.roles)
            registration = await self._fetch(credentials, form, token_c=token_c)
            platform = await self.directory.register(staged.id, token_c, registration)
            if platform is None:
                raise Unauthorized("The node's handshake was overtaken by another one")
            return platform
        except ScpiError:
            await self.party_api.withdraw(url, credentials.token, form)
            raise

    async def rotate(self, platform_id: int) -> Platform:
        """A credentials update the node starts (admin API), as OCPI asks when a token may be
        compromised: the node PUTs its credentials with a new TOKEN_C to the party, and keeps
        the TOKEN_B and versions URL the party answers with. Nothing changes if the PUT fails."""
        platform = await self.directory.platform(platform_id)
        if platform is None or not platform.roles:
            raise ResourceNotFound(f"No platform {platform_id} on this node")
        try:
            if platform.status not in _LIVE or platform.token_b is None:
                raise InvalidParameters(
                    f"{_names(platform)} is {platform.status.value}: it has no tokens to rotate"
                )
            url = await self._credentials_endpoint(platform.id)
            token_c = self.new_token()
            # As in connect: the party may use its new TOKEN_C on versions before it answers.
            if not await self.directory.stage_token_c(platform.id, token_c):
                raise InvalidParameters(f"{_names(platform)} left meanwhile")
            try:
                credentials = await self.party_api.send_credentials(
                    "PUT", url, platform.token_b, platform.token_form, token_c
                )
                rotated = await self.directory.rotate(
                    platform.id, token_c, credentials.token, credentials.url
                )
                if rotated is None:
                    raise InvalidParameters(f"{_names(platform)} changed its credentials meanwhile")
            except BaseException:
                await self.directory.withdraw_token_a(token_c)
                raise
        except ScpiError as error:
            _refused("rotation", error)
            raise
        log.info("%s: credentials rotated by the node", _names(rotated))
        return rotated

    async def _credentials_endpoint(self, platform_id: int) -> str:
        for interface in (InterfaceRole.SENDER, InterfaceRole.RECEIVER):
            url = await self.directory.endpoint(platform_id, ModuleId.CREDENTIALS, interface)
            if url is not None:
                return url
        raise UnableToUseClientApi("The party offers no credentials endpoint")

    async def unregister(self, caller: Caller) -> None:
        platform = await self.directory.unregister(caller.platform.id)
        if platform is not None:
            self._changed(platform)

    def _changed(self, platform: Platform, *, network: bool = True) -> None:
        if self.events is not None:
            self.events.status_changed(platform, network=network)

    async def release_moved_parties(self) -> list[PartyId]:
        """Disconnect parties that the registry now lists with another node: they have moved,
        and requests for them must go there. Called when the registry changes."""
        moved: list[PartyId] = []
        for platform in await self.directory.connected_platforms():
            for role in platform.roles:
                listed = await self.registry.party(role.party, fresh=True)
                if listed is not None and listed.operator.lower() != self.node.address.lower():
                    log.info(
                        "%s moved to the node %s; disconnecting it here",
                        role.party,
                        listed.node_url,
                    )
                    released = await self.directory.unregister(platform.id)
                    if released is not None:
                        # Only here: the registry now names another operator for the party,
                        # so other nodes would refuse this node's word on it. Its new node
                        # tells them, and this node's parties, once it connects there.
                        self._changed(released, network=False)
                    moved.append(role.party)
                    break
        return moved

    async def _check_not_connected_elsewhere(
        self, platform: Platform, roles: Sequence[CredentialsRole], *, live: bool = False
    ) -> None:
        held = (ConnectionStatus.CONNECTED, *((ConnectionStatus.OFFLINE,) if live else ()))
        for role in roles:
            other = await self.directory.platform_of(role.party)
            if other is not None and other.id != platform.id and other.status in held:
                raise InvalidParameters(
                    f"{role.party} is already connected to this node on another connection"
                )

    async def _connection_taken_over(
        self, platform: Platform, credentials: Credentials
    ) -> int | None:
        """The live connection that holds these parties now, which this registration replaces;
        None if none does. A TOKEN_A issued for the parties (restricted to them) takes it over,
        and so does any TOKEN_A from the same backoffice (the same versions URL, which the fetch
        then calls with the TOKEN_B given): a party that never got its handshake answer simply
        registers again. A TOKEN_A handed to someone else cannot displace a connected party.
        Either way the new registration must hold all of that connection's roles."""
        roles = credentials.roles
        holders: dict[int, Platform] = {}
        for role in roles:
            other = await self.directory.platform_of(role.party)
            if other is not None and other.id != platform.id and other.status in _LIVE:
                holders[other.id] = other
        if not holders:
            return None
        party = next(r.party for r in roles if any(h.has_party(r.party) for h in holders.values()))
        taken = f"{party} is already connected to this node on another connection"
        same_backoffice = all(
            h.versions_url is not None and same_url(h.versions_url, credentials.url)
            for h in holders.values()
        )
        if platform.allowed_roles is None and not same_backoffice:
            raise InvalidParameters(
                f"{taken} with another versions URL; a TOKEN_A issued for {party} takes it over"
            )
        if len(holders) > 1:
            raise InvalidParameters(f"{taken}; these roles are held by more than one connection")
        (holder,) = holders.values()
        wanted = {(r.role, r.party) for r in roles}
        kept = [f"{r.party} {r.role}" for r in holder.roles if (r.role, r.party) not in wanted]
        if kept:
            raise InvalidParameters(
                f"{taken}, with {', '.join(kept)} too; a takeover registers all of its roles"
            )
        return holder.id

    async def _check_registry(self, roles: Sequence[CredentialsRole]) -> None:
        """Every role must be listed in the registry with this node's operator and URL."""
        own_url = await self.registry.node_url(self.node.address, fresh=True)
        if own_url is None or not same_url(own_url, self.node.url):
            raise InvalidParameters(
                f"This node's operator {self.node.address} is listed in the SCN Registry "
                f"with the URL {own_url or '(none)'}, not {self.node.url}"
            )
        for role in roles:
            listed = await self.registry.party(role.party, fresh=True)
            if listed is None:
                raise InvalidParameters(
                    f"{role.party} is not listed in the SCN Registry; list it with "
                    f"scn-registry set-party -c {role.country_code} {role.party_id} "
                    f"-r {role.role} -o {self.node.address}"
                )
            if listed.operator.lower() != self.node.address.lower():
                raise InvalidParameters(
                    f"{role.party} is listed in the SCN Registry with the node operator "
                    f"{listed.operator}, not this node's {self.node.address}"
                )
            if role.role in listed.roles:
                continue
            listed_roles = ", ".join(r.value for r in listed.roles) or "none"
            if listed.roles and set(listed.roles) == {Role.OTHER}:
                # A widely used OCN client library lists every role as OTHER (it reads the
                # enum's 0 as "unknown"); the OCN node accepts such parties, so this one does.
                log.warning(
                    "%s registers as %s, but its SCN Registry listing holds the roles %s "
                    "(operator %s): accepted",
                    role.party, role.role.value, listed_roles, listed.operator,
                )  # fmt: skip
                continue
            raise InvalidParameters(
                f"{role.party} is listed in the SCN Registry with the roles {listed_roles}, "
                f"not {role.role}"
            )

    async def _fetch(
        self, credentials: Credentials, form: TokenForm, *, token_c: str | None = None
    ) -> Registration:
        """The party's endpoints, fetched with its TOKEN_B (OCPI credentials, POST)."""
        details, form = await self.party_api.endpoints(credentials.url, credentials.token, form)
        return Registration(
            token_b=credentials.token,
            token_form=form,
            versions_url=credentials.url,
            version=details.version,
            roles=tuple(
                PartyRole(r.role, r.party, r.business_details.model_dump(exclude_none=True))
                for r in credentials.roles
            ),
            endpoints=tuple(details.endpoints),
            token_c=token_c or self.new_token(),
        )


def _refused(action: str, error: ScpiError) -> None:
    """One line for a handshake the node refused: what an operator needs to help the party."""
    log.warning("Credentials %s refused: %d %s", action, error.status, error.message)


def _names(platform: Platform) -> str:
    return ", ".join(dict.fromkeys(str(r.party) for r in platform.roles)) or "a platform"


def _check_roles(platform: Platform, roles: Sequence[CredentialsRole]) -> None:
    """No party may speak as the node; a restricted TOKEN_A registers only its roles."""
    for role in roles:
        if role.party == NODE_PARTY:
            raise InvalidParameters(f"{NODE_PARTY} is this node's own identity")
    if platform.allowed_roles is None:
        return
    for role in roles:
        wanted = PartyRole(role.role, role.party)
        if not any(allowed.permits(wanted) for allowed in platform.allowed_roles):
            names = ", ".join(str(a.party) for a in platform.allowed_roles)
            raise InvalidParameters(
                f"This TOKEN_A is for {names}; it cannot register {role.party} {role.role}"
            )
