"""Versions and version details (OCPI 2.2 version_information_endpoint), and the node's own layout."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from scn_node.scpi.errors import NoMatchingEndpoints, UnableToUseClientApi, UnsupportedVersion
from scn_node.scpi.party import ModuleId

VERSION = "2.2"
FUNCTIONAL_MODULES: tuple[ModuleId, ...] = (
    ModuleId.CDRS,
    ModuleId.CHARGING_PROFILES,
    ModuleId.COMMANDS,
    ModuleId.LOCATIONS,
    ModuleId.SESSIONS,
    ModuleId.TARIFFS,
    ModuleId.TOKENS,
)


# Identifiers a party's custom module may not use: the node serves these itself.
STANDARD_IDENTIFIERS = frozenset({*(m.value for m in ModuleId), "versions"})


class InterfaceRole(StrEnum):
    SENDER = "SENDER"
    RECEIVER = "RECEIVER"

    @property
    def path(self) -> str:
        return self.value.lower()


class Version(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: str
    url: str


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="ignore")
    identifier: str = Field(min_length=1, max_length=255)
    role: InterfaceRole
    url: str = Field(min_length=1)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return url


class VersionDetails(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: str
    endpoints: list[Endpoint]


def pick_version(data: object, versions_url: str) -> Version:
    """The 2.2 entry of a party's versions list."""
    try:
        versions = [Version.model_validate(v) for v in data] if isinstance(data, list) else None
    except ValidationError:
        versions = None
    if versions is None:
        raise UnableToUseClientApi(f"{versions_url} did not return a list of versions")
    for version in versions:
        if version.version == VERSION:
            return version
    offered = ", ".join(v.version for v in versions) or "none"
    raise UnsupportedVersion(f"{versions_url} offers no SCPI {VERSION} (offered: {offered})")


def parse_details(data: object, details_url: str) -> VersionDetails:
    """A party's 2.2 endpoints. A malformed custom endpoint is left out; a standard one fails."""
    if not isinstance(data, dict) or not isinstance(data.get("endpoints"), list):
        raise NoMatchingEndpoints(f"{details_url} returned no list of endpoints")
    if data.get("version") != VERSION:
        raise UnsupportedVersion(
            f"{details_url} describes version {data.get('version')}, not {VERSION}"
        )
    endpoints: list[Endpoint] = []
    for entry in data["endpoints"]:
        try:
            endpoints.append(Endpoint.model_validate(entry))
        except ValidationError as error:
            identifier = entry.get("identifier") if isinstance(entry, dict) else None
            if identifier in STANDARD_IDENTIFIERS:
                first = error.errors()[0]
                raise NoMatchingEndpoints(
                    f"{details_url} lists an unusable {identifier} endpoint "
                    f"({'.'.join(str(p) for p in first['loc'])}: {first['msg']})"
                ) from None
    if not endpoints:
        raise NoMatchingEndpoints(f"{details_url} lists no usable endpoints")
    return VersionDetails(version=VERSION, endpoints=endpoints)


# The node's HTTP layout. Routes and advertised URLs both come from here, so they cannot drift.
def versions_path(prefix: str) -> str:
    return f"/{prefix}/versions"


def details_path(prefix: str) -> str:
    return f"/{prefix}/{VERSION}"


def configuration_path(prefix: str, module: ModuleId) -> str:
    return f"/{prefix}/{VERSION}/{module}"


def module_path(prefix: str, interface: InterfaceRole, module: ModuleId) -> str:
    return f"/{prefix}/{interface.path}/{VERSION}/{module}"


def proxy_path(prefix: str, uid: str) -> str:
    return f"/{prefix}/{VERSION}/proxy/{uid}"


def node_endpoints(base_url: str, prefix: str) -> list[Endpoint]:
    """What the node advertises in its version details; each is served at exactly this URL."""
    endpoints = [
        Endpoint(
            identifier=ModuleId.CREDENTIALS,
            role=InterfaceRole.SENDER,
            url=base_url + configuration_path(prefix, ModuleId.CREDENTIALS),
        ),
        Endpoint(
            identifier=ModuleId.HUB_CLIENT_INFO,
            role=InterfaceRole.SENDER,
            url=base_url + configuration_path(prefix, ModuleId.HUB_CLIENT_INFO),
        ),
        # A party's own rules; RECEIVER as OCN advertised its ocnrules: the node receives them.
        Endpoint(
            identifier=ModuleId.SCN_RULES,
            role=InterfaceRole.RECEIVER,
            url=base_url + configuration_path(prefix, ModuleId.SCN_RULES),
        ),
    ]
    for module in FUNCTIONAL_MODULES:
        for interface in InterfaceRole:
            url = base_url + module_path(prefix, interface, module)
            endpoints.append(Endpoint(identifier=module, role=interface, url=url))
    return endpoints
