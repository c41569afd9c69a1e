"""The classifier's truth table: which hub scenario a request is, from its headers and method
alone, and the 2001 (or, for custom modules, 2900) of every row that fits none."""

from __future__ import annotations

import pytest

from scn_node.hub.modules import Family, spec_for
from scn_node.hub.scenario import Scenario, classify
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.errors import InvalidHeader, InvalidParameters
from scn_node.scpi.party import PartyId
from scn_node.scpi.versions import InterfaceRole

PARTY = PartyId("DE", "MSP")
HUB = NODE_PARTY
S, R = InterfaceRole.SENDER, InterfaceRole.RECEIVER


def scenario(
    to: PartyId | None,
    method: str,
    module: str,
    interface: InterfaceRole,
    tail: str = "",
    family: Family = Family.STANDARD,
) -> Scenario:
    return classify(to, method, module, interface, spec_for(module, interface, family), tail)


@pytest.mark.parametrize(
    ("to", "method", "module", "interface", "tail", "expected"),
    [
        # a party: party to party, whatever the request
        (PARTY, "GET", "locations", S, "", Scenario.DIRECT),
        (PARTY, "PUT", "locations", R, "/DE/CPO/L1", Scenario.DIRECT),
        (PARTY, "POST", "commands", R, "/START_SESSION", Scenario.DIRECT),
        (PARTY, "GET", "cdrs", S, "", Scenario.DIRECT),
        # the hub, a list GET on a SENDER interface: GET All
        (HUB, "GET", "locations", S, "", Scenario.GET_ALL),
        (HUB, "GET", "tariffs", S, "/", Scenario.GET_ALL),
        (HUB, "GET", "tokens", S, "", Scenario.GET_ALL),
        (HUB, "GET", "cdrs", S, "", Scenario.GET_ALL),
        (HUB, "GET", "sessions", S, "", Scenario.GET_ALL),
        # the hub, a push to a RECEIVER interface of locations, tariffs, tokens: broadcast
        (HUB, "PUT", "locations", R, "/DE/CPO/L1", Scenario.BROADCAST),
        (HUB, "PATCH", "locations", R, "/DE/CPO/L1/E1", Scenario.BROADCAST),
        (HUB, "PUT", "tariffs", R, "/DE/CPO/T1", Scenario.BROADCAST),
        (HUB, "DELETE", "tariffs", R, "/DE/CPO/T1", Scenario.BROADCAST),
        (HUB, "PUT", "tokens", R, "/DE/MSP/123", Scenario.BROADCAST),
        (HUB, "POST", "tokens", R, "/DE/MSP/123", Scenario.BROADCAST),
        # none: open routing, except a list GET
        (None, "POST", "tokens", S, "/012345678/authorize", Scenario.OPEN),
        (None, "POST", "commands", R, "/START_SESSION", Scenario.OPEN),
        (None, "GET", "locations", S, "/L1", Scenario.OPEN),
        (None, "POST", "cdrs", R, "", Scenario.OPEN),
        (None, "PUT", "sessions", R, "/DE/CPO/S1", Scenario.OPEN),
    ],
)
def test_the_scenario_of_each_request(
    to: PartyId | None,
    method: str,
    module: str,
    interface: InterfaceRole,
    tail: str,
    expected: Scenario,
) -> None:
    assert scenario(to, method, module, interface, tail) is expected


@pytest.mark.parametrize(
    ("method", "module", "interface", "tail"),
    [
        ("GET", "locations", S, ""),
        ("GET", "cdrs", S, "/"),
        ("GET", "tokens", S, ""),
    ],
)
def test_a_list_get_without_to_is_2001_naming_get_all(
    method: str, module: str, interface: InterfaceRole, tail: str
) -> None:
    with pytest.raises(InvalidParameters, match="GET All: it needs SCPI-to-\\* = DE SCN"):
        scenario(None, method, module, interface, tail)


@pytest.mark.parametrize(
    ("method", "module", "interface", "tail"),
    [
        ("GET", "locations", S, "/L1"),  # one object: open routing, not the hub
        ("GET", "locations", R, "/DE/CPO/L1"),  # GET on a receiver interface
        ("PUT", "sessions", R, "/DE/CPO/S1"),  # meant for one party
        ("POST", "cdrs", R, ""),
        ("POST", "commands", R, "/START_SESSION"),
        ("PUT", "chargingprofiles", R, "/S1"),
        ("DELETE", "locations", R, "/DE/CPO/L1"),  # only tariffs are withdrawn by broadcast
        ("DELETE", "tokens", R, "/DE/MSP/1"),
        ("POST", "tokens", S, "/1/authorize"),  # a write on a sender interface
        ("GET", "commands", S, ""),  # no list to get
    ],
)
def test_to_the_hub_anything_else_is_2001_naming_what_fits(
    method: str, module: str, interface: InterfaceRole, tail: str
) -> None:
    with pytest.raises(InvalidParameters) as refused:
        scenario(HUB, method, module, interface, tail)
    assert "GET All" in refused.value.message and "broadcast push" in refused.value.message
    assert "leave SCPI-to-* out" in refused.value.message


def test_custom_modules_go_to_one_named_party() -> None:
    assert scenario(PARTY, "PUT", "lite", S, "/x", Family.CUSTOM) is Scenario.DIRECT
    with pytest.raises(InvalidParameters, match="Custom module lite goes to one party"):
        scenario(HUB, "PUT", "lite", S, "/x", Family.CUSTOM)
    with pytest.raises(InvalidHeader, match="Missing header SCPI-to-country-code"):
        scenario(None, "PUT", "lite", S, "/x", Family.CUSTOM)
