"""Service permissions: which of a user's requests a service (an SCN party) gets a copy of.

The ids are the OCN Permissions contract's, in its order, so listings carry over.
"""

from __future__ import annotations

from enum import IntEnum

from scn_node.scpi.versions import InterfaceRole


class ServicePermission(IntEnum):
    FORWARD_ALL = 0
    FORWARD_ALL_SENDER = 1
    FORWARD_ALL_RECEIVER = 2
    FORWARD_MODULE_LOCATIONS_SENDER = 3
    FORWARD_MODULE_LOCATIONS_RECEIVER = 4
    FORWARD_MODULE_SESSIONS_SENDER = 5
    FORWARD_MODULE_SESSIONS_RECEIVER = 6
    FORWARD_MODULE_CDRS_SENDER = 7
    FORWARD_MODULE_CDRS_RECEIVER = 8
    FORWARD_MODULE_TARIFFS_SENDER = 9
    FORWARD_MODULE_TARIFFS_RECEIVER = 10
    FORWARD_MODULE_TOKENS_SENDER = 11
    FORWARD_MODULE_TOKENS_RECEIVER = 12
    FORWARD_MODULE_COMMANDS_SENDER = 13
    FORWARD_MODULE_COMMANDS_RECEIVER = 14
    FORWARD_MODULE_CHARGINGPROFILES_SENDER = 15
    FORWARD_MODULE_CHARGINGPROFILES_RECEIVER = 16

    def matches(self, module: str, interface: InterfaceRole) -> bool:
        """Whether a request to `module`'s `interface` falls under this permission."""
        if self is ServicePermission.FORWARD_ALL:
            return True
        *scope, role = self.name.split("_")
        if role != interface.value:
            return False
        if scope == ["FORWARD", "ALL"]:
            return True
        return scope == ["FORWARD", "MODULE", module.upper()]


MAX_PERMISSION = max(ServicePermission)
