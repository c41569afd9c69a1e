"""Versions and version details (OCPI 2.2/2.2.1 version_information_endpoint), and the node's layout.

The node speaks SCPI 2.2.1 and 2.2. The two are wire-compatible for a hub: what changed is carried
in the bodies, which the node forwards byte for byte, so each party is simply called at the
endpoints of the version it chose, and both versions' paths are served.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from scn_node.scpi.errors import NoMatchingEndpoints, UnableToUseClientApi, UnsupportedVersion
from scn_node.scpi.party import ModuleId

VERSION = "2.2"
"""The version in the node's own fixed paths (proxy URLs, the OCN dialect's rules paths)."""
VERSIONS: tuple[str, ...] = ("2.2.1", "2.2")
"""The versions the node serves and accepts, the preferred first (2.2.1 deprecates 2.2)."""
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
    """The entry of a party's versions list for the best version both sides speak (2.2.1, then 2.2)."""
    try:
        versions = [Version.model_validate(v) for v in data] if isinstance(data, list) else None
    except ValidationError:
        versions = None
    if versions is None:
        raise UnableToUseClientApi(f"{versions_url} did not return a list of versions")
    for wanted in VERSIONS:
        for version in versions:
            if version.version == wanted:
                return version
    offered = ", ".join(v.version for v in versions) or "none"
    raise UnsupportedVersion(
        f"{versions_url} offers no SCPI {' or '.join(VERSIONS)} (offered: {offered})"
    )


def parse_details(data: object, details_url: str, version: str = VERSION) -> VersionDetails:
    """A party's endpoints for `version`. A malformed custom endpoint is left out; a standard one
    fails."""
    if not isinstance(data, dict) or not isinstance(data.get("endpoints"), list):
        raise NoMatchingEndpoints(f"{details_url} returned no list of endpoints")
    if data.get("version") != version:
        raise UnsupportedVersion(
            f"{details_url} describes version {data.get('version')}, not {version}"
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
    return VersionDetails(version=version, endpoints=endpoints)


# The node's HTTP layout. Routes and advertised URLs both come from here, so they cannot drift.
def versions_path(prefix: str) -> str:
    return f"/{prefix}/versions"


def details_path(prefix: str, version: str = VERSION) -> str:
    return f"/{prefix}/{version}"


def configuration_path(prefix: str, module: ModuleId, version: str = VERSION) -> str:
    return f"/{prefix}/{version}/{module}"


def module_path(
    prefix: str, interface: InterfaceRole | str, module: str, version: str = VERSION
) -> str:
    """A functional module's path; `interface` and `module` may be route patterns."""
    segment = interface.path if isinstance(interface, InterfaceRole) else interface
    return f"/{prefix}/{segment}/{version}/{module}"


def proxy_path(prefix: str, uid: str) -> str:
    return f"/{prefix}/{VERSION}/proxy/{uid}"


def node_versions(base_url: str, prefix: str) -> list[Version]:
    """The node's versions list: every version it speaks, the preferred first."""
    return [Version(version=v, url=base_url + details_path(prefix, v)) for v in VERSIONS]


def node_endpoints(base_url: str, prefix: str, version: str = VERSION) -> list[Endpoint]:
    """What the node advertises in a version's details; each is served at exactly this URL."""
    endpoints = [
        Endpoint(
            identifier=ModuleId.CREDENTIALS,
            role=InterfaceRole.SENDER,
            url=base_url + configuration_path(prefix, ModuleId.CREDENTIALS, version),
        ),
        Endpoint(
            identifier=ModuleId.HUB_CLIENT_INFO,
            role=InterfaceRole.SENDER,
            url=base_url + configuration_path(prefix, ModuleId.HUB_CLIENT_INFO, version),
        ),
        # A party's own rules; RECEIVER as OCN advertised its ocnrules: the node receives them.
        Endpoint(
            identifier=ModuleId.SCN_RULES,
            role=InterfaceRole.RECEIVER,
            url=base_url + configuration_path(prefix, ModuleId.SCN_RULES, version),
        ),
    ]
    for module in FUNCTIONAL_MODULES:
        for interface in InterfaceRole:
            url = base_url + module_path(prefix, interface, module, version)
            endpoints.append(Endpoint(identifier=module, role=interface, url=url))
    return endpoints
