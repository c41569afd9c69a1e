"""What the hub does differently per module: the one table of module-specific behaviour.

Everything not named here is forwarded as it arrives. Custom modules are one row of the table
(`CUSTOM`): any body, no rewrites, no service copies, the body signed as text; they may not use
a standard identifier (that would reach a party's credentials or functional endpoints past the
rules below). Code asks a request's `ModuleSpec`; nothing else tells modules apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from scn_node.scpi.errors import InvalidParameters
from scn_node.scpi.party import ModuleId, Role
from scn_node.scpi.versions import STANDARD_IDENTIFIERS, InterfaceRole


class Where(StrEnum):
    BODY = "body"
    QUERY = "query"


class Family(StrEnum):
    """Which routes reach a module: /{dialect}/{interface}/2.2/{module} or the custom path."""

    STANDARD = "standard"
    CUSTOM = "custom"


class SignedAs(StrEnum):
    """How a request body enters its Notary signature."""

    JSON = "json"  # the parsed value (text, if it does not parse)
    TEXT = "text"  # the raw text, as OCN signs custom modules' bodies


class GetAll(StrEnum):
    """How a GET of the list with SCPI-to-* = the hub is answered (`hub/get_all.py`)."""

    NONE = "none"  # no list to get: 2001
    SOURCES = "sources"  # every source party asked in turn, its pages relayed
    STORED = "stored"  # from the objects broadcast to the hub, else as SOURCES


@dataclass(frozen=True, slots=True)
class ModuleSpec:
    family: Family = Family.STANDARD
    """The routes the module is served on; a peer message says so too."""
    json_body: bool = True
    """The body must be JSON (it is still forwarded byte for byte)."""
    owner_in_path: bool = False
    """Client Owned Objects: /{country_code}/{party_id}/… names the owner, who must be the sender."""
    response_url: Mapping[str, Where] = field(default_factory=dict)
    """Per method, where the sender's `response_url` for an asynchronous result is."""
    copies: bool = True
    """Services the sender agreed to get a copy of its requests."""
    body_signed_as: SignedAs = SignedAs.JSON
    broadcast: frozenset[str] = frozenset()
    """The methods a sender may push to every receiving party with SCPI-to-* = the hub."""
    get_all: GetAll = GetAll.NONE
    """A GET of the list with SCPI-to-* = the hub: from whom (a SENDER interface only)."""


STANDARD = ModuleSpec()
CUSTOM = ModuleSpec(
    family=Family.CUSTOM, json_body=False, copies=False, body_signed_as=SignedAs.TEXT
)
_CLIENT_OWNED = ModuleSpec(owner_in_path=True)
# Pushes meant for every other party (OCPI 2.2.1 "Broadcast Push": "SHALL only be used with
# information that is meant to be sent to all other parties"); a broadcast tariff is withdrawn
# with DELETE, so tariffs broadcast that too.
_PUSHES = frozenset({"PUT", "PATCH", "POST"})
_BROADCAST = ModuleSpec(owner_in_path=True, broadcast=_PUSHES)
_FROM_SOURCES = ModuleSpec(get_all=GetAll.SOURCES)
_STORED = ModuleSpec(get_all=GetAll.STORED)

SPECS: dict[tuple[str, InterfaceRole], ModuleSpec] = {
    (ModuleId.LOCATIONS, InterfaceRole.RECEIVER): _BROADCAST,
    (ModuleId.SESSIONS, InterfaceRole.RECEIVER): _CLIENT_OWNED,
    (ModuleId.TARIFFS, InterfaceRole.RECEIVER): ModuleSpec(
        owner_in_path=True, broadcast=_PUSHES | {"DELETE"}
    ),
    (ModuleId.TOKENS, InterfaceRole.RECEIVER): _BROADCAST,
    (ModuleId.LOCATIONS, InterfaceRole.SENDER): _STORED,
    (ModuleId.TARIFFS, InterfaceRole.SENDER): _STORED,
    (ModuleId.TOKENS, InterfaceRole.SENDER): _STORED,
    (ModuleId.CDRS, InterfaceRole.SENDER): _FROM_SOURCES,
    (ModuleId.SESSIONS, InterfaceRole.SENDER): _FROM_SOURCES,
    (ModuleId.COMMANDS, InterfaceRole.RECEIVER): ModuleSpec(response_url={"POST": Where.BODY}),
    (ModuleId.CHARGING_PROFILES, InterfaceRole.RECEIVER): ModuleSpec(
        response_url={"GET": Where.QUERY, "PUT": Where.BODY, "DELETE": Where.QUERY}
    ),
}


# Who is on the other side of a module from a party in `role` (OCPI 2.2.1: OTHER "is seen as an
# eMSP type of role"): the receivers of its broadcasts, the sources of its GET All. Senders in
# other roles (NAP, SCSP, HUB) are not named by the spec: the hub refuses their broadcasts and
# GET All until someone needs them.
COUNTERPARTS: dict[Role, frozenset[Role]] = {
    Role.CPO: frozenset({Role.EMSP, Role.NSP, Role.OTHER}),
    Role.EMSP: frozenset({Role.CPO}),
    Role.NSP: frozenset({Role.CPO}),
    Role.OTHER: frozenset({Role.CPO}),
}


def spec_for(module: str, interface: InterfaceRole, family: Family = Family.STANDARD) -> ModuleSpec:
    if family is Family.CUSTOM:
        if module.lower() in STANDARD_IDENTIFIERS:
            raise InvalidParameters(
                f"{module} is a standard module: use /scpi/{interface.path}/2.2/{module}, "
                "not the custom module path"
            )
        return CUSTOM
    return SPECS.get((module, interface), STANDARD)
