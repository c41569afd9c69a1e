"""What the hub does differently per module: the one table of module-specific behaviour.

Everything not named here is forwarded as it arrives. Custom modules are opaque: any body,
no rewrites, and they may not use a standard identifier (that would reach a party's
credentials or functional endpoints past the rules below).
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


@dataclass(frozen=True, slots=True)
class ModuleRules:
    json_body: bool = True
    """The body must be JSON (it is still forwarded byte for byte)."""
    owner_in_path: bool = False
    """Client Owned Objects: /{country_code}/{party_id}/… names the owner, who must be the sender."""
    response_url: Mapping[str, Where] = field(default_factory=dict)
    """Per method, where the sender's `response_url` for an asynchronous result is."""


STANDARD = ModuleRules()
CUSTOM = ModuleRules(json_body=False)
_CLIENT_OWNED = ModuleRules(owner_in_path=True)

RULES: dict[tuple[str, InterfaceRole], ModuleRules] = {
    (ModuleId.LOCATIONS, InterfaceRole.RECEIVER): _CLIENT_OWNED,
    (ModuleId.SESSIONS, InterfaceRole.RECEIVER): _CLIENT_OWNED,
    (ModuleId.TARIFFS, InterfaceRole.RECEIVER): _CLIENT_OWNED,
    (ModuleId.TOKENS, InterfaceRole.RECEIVER): _CLIENT_OWNED,
    (ModuleId.COMMANDS, InterfaceRole.RECEIVER): ModuleRules(response_url={"POST": Where.BODY}),
    (ModuleId.CHARGING_PROFILES, InterfaceRole.RECEIVER): ModuleRules(
        response_url={"GET": Where.QUERY, "PUT": Where.BODY, "DELETE": Where.QUERY}
    ),
}


def rules_for(module: str, interface: InterfaceRole, *, custom: bool) -> ModuleRules:
    if custom:
        if module.lower() in STANDARD_IDENTIFIERS:
            raise InvalidParameters(
                f"{module} is a standard module: use /scpi/{interface.path}/2.2/{module}, "
                "not the custom module path"
            )
        return CUSTOM
    return RULES.get((module, interface), STANDARD)
