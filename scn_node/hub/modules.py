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
from scn_node.scpi.party import ModuleId
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


class Addressing(StrEnum):
    """Who a request goes to. Only DIRECT is used today; the next issue adds broadcast (every
    party with the module) and open routing (receiver read from the path or body) here."""

    DIRECT = "direct"  # the party named in SCPI-to-*


class Combine(StrEnum):
    """How the answers of several receivers become one. SINGLE: one receiver, its answer
    relayed. The next issue adds acknowledging a broadcast and merging GET-all pages."""

    SINGLE = "single"


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
    addressing: Addressing = Addressing.DIRECT
    combine: Combine = Combine.SINGLE


STANDARD = ModuleSpec()
CUSTOM = ModuleSpec(
    family=Family.CUSTOM, json_body=False, copies=False, body_signed_as=SignedAs.TEXT
)
_CLIENT_OWNED = ModuleSpec(owner_in_path=True)

SPECS: dict[tuple[str, InterfaceRole], ModuleSpec] = {
    (ModuleId.LOCATIONS, InterfaceRole.RECEIVER): _CLIENT_OWNED,
    (ModuleId.SESSIONS, InterfaceRole.RECEIVER): _CLIENT_OWNED,
    (ModuleId.TARIFFS, InterfaceRole.RECEIVER): _CLIENT_OWNED,
    (ModuleId.TOKENS, InterfaceRole.RECEIVER): _CLIENT_OWNED,
    (ModuleId.COMMANDS, InterfaceRole.RECEIVER): ModuleSpec(response_url={"POST": Where.BODY}),
    (ModuleId.CHARGING_PROFILES, InterfaceRole.RECEIVER): ModuleSpec(
        response_url={"GET": Where.QUERY, "PUT": Where.BODY, "DELETE": Where.QUERY}
    ),
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
