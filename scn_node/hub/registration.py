"""The credentials handshake (OCPI 2.2 credentials module), checked against the SCN Registry.

A backoffice holding TOKEN_A posts its Credentials; the node fetches the party's versions and
2.2 endpoints with TOKEN_B, checks that every role is listed in the registry with this node,
and answers with TOKEN_C. Nothing is saved unless every step succeeds.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from scn_node.hub.ports import (
    AllowedRole,
    Caller,
    ConnectionEvents,
    Directory,
    OutboundRequest,
    PartyRole,
    PartyTransport,
    Platform,
    Registration,
    Registry,
)
from scn_node.scpi.authorization import TokenForm, authorization
from scn_node.scpi.credentials import (
    NODE_PARTY,
    Credentials,
    CredentialsRole,
    parse_credentials,
    parse_token_roles,
)
from scn_node.scpi.envelope import decode
from scn_node.scpi.errors import (
    ConnectionProblem,
    InvalidParameters,
    MalformedJson,
    ReceiverTimeout,
    UnableToUseClientApi,
    Unauthorized,
)
from scn_node.scpi.headers import CORRELATION_ID, REQUEST_ID
from scn_node.scpi.hubclientinfo import ConnectionStatus
from scn_node.scpi.party import PartyId
from scn_node.scpi.status import ScpiStatus
from scn_node.scpi.versions import parse_details, pick_version, versions_path


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


class Handshake:
    def __init__(
        self,
        directory: Directory,
        registry: Registry,
        transport: PartyTransport,
        node: NodeIdentity,
        *,
        new_token: Callable[[], str] = lambda: str(uuid.uuid4()),
        events: ConnectionEvents | None = None,
    ) -> None:
        self.directory = directory
        self.registry = registry
        self.transport = transport
        self.node = node
        self.new_token = new_token
        self.events = events

    async def issue_token_a(self, body: bytes) -> dict[str, str]:
        """A single-use TOKEN_A, optionally restricted to the roles listed in `body`."""
        listed = parse_token_roles(body)
        allowed = None if listed is None else [AllowedRole(p, r) for p, r in listed]
        for entry in allowed or ():
            existing = await self.directory.platform_of(entry.party)
            if existing is not None and existing.status is ConnectionStatus.CONNECTED:
                raise InvalidParameters(f"{entry.party} is already connected to this node")
        token = secrets.token_urlsafe(24)
        await self.directory.issue_token_a(token, allowed)
        return {"token": token, "versions": self.node.versions_url}

    async def register(self, caller: Caller, body: bytes) -> str:
        """Complete the handshake begun with TOKEN_A; returns the party's TOKEN_C."""
        credentials = parse_credentials(body)
        _check_roles(caller.platform, credentials.roles)
        await self._check_not_connected_elsewhere(caller.platform, credentials.roles)
        await self._check_registry(credentials.roles)
        registration = await self._fetch(credentials, caller.form)
        platform, token_c = await self._store(caller, registration)
        self._changed(platform)
        return token_c

    async def update(self, caller: Caller, body: bytes) -> str:
        """Re-fetch a registered party's endpoints and rotate its tokens; returns the new TOKEN_C."""
        credentials = parse_credentials(body)
        _check_roles(caller.platform, credentials.roles)
        await self._check_not_connected_elsewhere(caller.platform, credentials.roles)
        await self._check_registry(credentials.roles)
        registration = await self._fetch(credentials, caller.platform.token_form)
        platform, token_c = await self._store(caller, registration)
        if caller.platform.status is not ConnectionStatus.CONNECTED:
            self._changed(platform)  # an OFFLINE party that updates is back; otherwise no news
        return token_c

    async def _store(self, caller: Caller, registration: Registration) -> tuple[Platform, str]:
        platform = await self.directory.register(caller.platform.id, caller.token, registration)
        if platform is None:
            # A concurrent handshake with the same token may have won while this one fetched.
            raise Unauthorized("Unknown credentials token")
        return platform, registration.token_c

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
        self, platform: Platform, roles: Sequence[CredentialsRole]
    ) -> None:
        for role in roles:
            other = await self.directory.platform_of(role.party)
            if (
                other is not None
                and other.id != platform.id
                and other.status is ConnectionStatus.CONNECTED
            ):
                raise InvalidParameters(
                    f"{role.party} is already connected to this node on another connection"
                )

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
            if role.role not in listed.roles:
                listed_roles = ", ".join(r.value for r in listed.roles) or "none"
                raise InvalidParameters(
                    f"{role.party} is listed in the SCN Registry with the roles {listed_roles}, "
                    f"not {role.role}"
                )

    async def _fetch(self, credentials: Credentials, form: TokenForm) -> Registration:
        """The party's 2.2 endpoints, fetched with its TOKEN_B (OCPI 2.2 credentials, POST)."""
        versions, form = await self._get(credentials.url, credentials.token, form)
        version = pick_version(versions, credentials.url)
        details, form = await self._get(version.url, credentials.token, form)
        endpoints = parse_details(details, version.url).endpoints
        return Registration(
            token_b=credentials.token,
            token_form=form,
            versions_url=credentials.url,
            roles=tuple(
                PartyRole(r.role, r.party, r.business_details.model_dump(exclude_none=True))
                for r in credentials.roles
            ),
            endpoints=tuple(endpoints),
            token_c=self.new_token(),
        )

    async def _get(self, url: str, token: str, form: TokenForm) -> tuple[object, TokenForm]:
        """GET an SCPI resource of the party, learning which token form it accepts."""
        other = TokenForm.PLAIN if form is TokenForm.BASE64 else TokenForm.BASE64
        for attempt in (form, other):
            headers = {
                "Authorization": authorization(token, attempt),
                REQUEST_ID: str(uuid.uuid4()),
                CORRELATION_ID: str(uuid.uuid4()),
            }
            try:
                response = await self.transport.send(OutboundRequest("GET", url, headers))
            except (ReceiverTimeout, ConnectionProblem) as error:
                raise UnableToUseClientApi(f"Could not fetch {url}: {error.message}") from None
            if response.status == 401 and attempt is form:
                continue  # the party may expect the other token form
            if response.status != 200:
                raise UnableToUseClientApi(f"{url} answered HTTP {response.status}")
            try:
                envelope = decode(response.body)
            except MalformedJson:
                raise UnableToUseClientApi(f"{url} did not answer with JSON") from None
            if not isinstance(envelope, dict) or envelope.get("status_code") != ScpiStatus.SUCCESS:
                code = envelope.get("status_code") if isinstance(envelope, dict) else None
                raise UnableToUseClientApi(f"{url} answered status_code {code}, not 1000")
            return envelope.get("data"), attempt
        raise AssertionError("unreachable: the second form's 401 is not retried")


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
