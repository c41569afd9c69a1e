"""The demo backoffices of the local SCN network, by their old import path.

They live in their own modules now: `data` (the tutorial's location, tariffs, CDR), `recorder`,
`party_server` (DemoParty), `joining`, `cpo/` (DemoCpo over a CpoBackend) and `emsp` (DemoEmsp).
"""

from scn_node.devnet.cpo.server import COMMAND_TIMEOUT, SESSIONS_NOT_IMPLEMENTED, DemoCpo
from scn_node.devnet.cpo.static import SUPPORTED_COMMANDS
from scn_node.devnet.data import LAST_UPDATED, demo_cdr, demo_location, demo_tariffs
from scn_node.devnet.emsp import DemoEmsp
from scn_node.devnet.joining import RegistrationFailed
from scn_node.devnet.party_server import DemoParty
from scn_node.devnet.recorder import Event, Recorder

__all__ = [
    "COMMAND_TIMEOUT",
    "LAST_UPDATED",
    "SESSIONS_NOT_IMPLEMENTED",
    "SUPPORTED_COMMANDS",
    "DemoCpo",
    "DemoEmsp",
    "DemoParty",
    "Event",
    "Recorder",
    "RegistrationFailed",
    "demo_cdr",
    "demo_location",
    "demo_tariffs",
]
