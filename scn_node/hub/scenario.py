"""Which of OCPI 2.2.1's hub scenarios a routed request is, from its headers and method alone.

    SCPI-to-*   request                                               scenario
    a party     any                                                   DIRECT (party to party)
    the hub     GET of the list, SENDER interface                     GET_ALL
    the hub     PUT/PATCH/POST (tariffs: DELETE too), RECEIVER,
                of locations, tariffs or tokens                       BROADCAST
    none        anything but a list GET                               OPEN (the hub finds the receiver)
    none        a list GET                                            2001: GET All needs TO = the hub
    the hub     anything else                                         2001, naming what would fit

"The hub" is `NODE_PARTY` (DE SCN): one identity for the whole SCN network, so TO = the hub
means the network on every node. Custom modules are opaque: they are party to party only. A
routing pair given only half is refused before this (`scpi.headers`).
"""

from __future__ import annotations

from enum import StrEnum

from scn_node.hub.modules import Family, GetAll, ModuleSpec
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.errors import InvalidHeader, InvalidParameters
from scn_node.scpi.party import PartyId
from scn_node.scpi.versions import InterfaceRole


class Scenario(StrEnum):
    DIRECT = "direct"
    OPEN = "open"
    BROADCAST = "broadcast"
    GET_ALL = "get_all"


_FITS = (
    f"SCPI-to-* = {NODE_PARTY} is for a GET All (GET of a list from a SENDER interface) or a "
    "broadcast push (PUT, PATCH or POST to a RECEIVER interface of locations, tariffs or "
    "tokens; DELETE of a tariff); to reach one party, name it in SCPI-to-*, or leave "
    "SCPI-to-* out and the hub finds the receiver"
)


def classify(
    receiver: PartyId | None,
    method: str,
    module: str,
    interface: InterfaceRole,
    spec: ModuleSpec,
    tail: str,
) -> Scenario:
    """The scenario of a request to `module`'s `interface` with `tail` below it; the hub's
    2001 (InvalidParameters) when none fits. `receiver` is SCPI-to-*, None when absent."""
    list_get = method == "GET" and interface is InterfaceRole.SENDER and tail.strip("/") == ""
    if receiver is not None and receiver != NODE_PARTY:
        return Scenario.DIRECT
    if spec.family is Family.CUSTOM:
        if receiver is None:
            raise InvalidHeader(
                "Missing header SCPI-to-country-code and SCPI-to-party-id "
                "(custom modules go to the party named there)"
            )
        raise InvalidParameters(
            f"Custom module {module} goes to one party: name it in SCPI-to-*, not {NODE_PARTY}"
        )
    if receiver is None:
        if list_get:
            raise InvalidParameters(
                f"A GET of the {module} list through the hub is a GET All: it needs "
                f"SCPI-to-* = {NODE_PARTY} (or a party's, to ask only that one)"
            )
        return Scenario.OPEN
    if list_get and spec.get_all is not GetAll.NONE:
        return Scenario.GET_ALL
    if method in spec.broadcast:
        return Scenario.BROADCAST
    raise InvalidParameters(f"{method} {interface} {module}: {_FITS}")
