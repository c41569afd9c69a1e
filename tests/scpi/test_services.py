"""Service permissions: which requests a service gets a copy of (OCN's ids and meanings)."""

from __future__ import annotations

import pytest

from scn_node.scpi.services import ServicePermission as P
from scn_node.scpi.versions import InterfaceRole

SENDER, RECEIVER = InterfaceRole.SENDER, InterfaceRole.RECEIVER


@pytest.mark.parametrize(
    ("permission", "module", "interface", "copied"),
    [
        (P.FORWARD_ALL, "tokens", RECEIVER, True),
        (P.FORWARD_ALL, "lite-locations", SENDER, True),
        (P.FORWARD_ALL_SENDER, "cdrs", SENDER, True),
        (P.FORWARD_ALL_SENDER, "cdrs", RECEIVER, False),
        (P.FORWARD_ALL_RECEIVER, "commands", RECEIVER, True),
        (P.FORWARD_ALL_RECEIVER, "commands", SENDER, False),
        (P.FORWARD_MODULE_LOCATIONS_SENDER, "locations", SENDER, True),
        (P.FORWARD_MODULE_LOCATIONS_SENDER, "locations", RECEIVER, False),
        (P.FORWARD_MODULE_LOCATIONS_SENDER, "sessions", SENDER, False),
        (P.FORWARD_MODULE_CHARGINGPROFILES_RECEIVER, "chargingprofiles", RECEIVER, True),
        (P.FORWARD_MODULE_CDRS_RECEIVER, "CDRS", RECEIVER, True),
    ],
)
def test_a_permission_matches_its_module_and_interface(
    permission: P, module: str, interface: InterfaceRole, copied: bool
) -> None:
    assert permission.matches(module, interface) is copied


def test_the_ids_are_ocns() -> None:
    assert P.FORWARD_ALL == 0
    assert P.FORWARD_MODULE_LOCATIONS_SENDER == 3
    assert P.FORWARD_MODULE_CHARGINGPROFILES_RECEIVER == 16
    assert len(P) == 17
