"""The seam between the demo CPO's OCPI side and what stands behind it.

`server.DemoCpo` speaks SCPI to the node; a `CpoBackend` holds the charge points: the static
tutorial data today (`static.StaticCpo`), an OCPP central system later. The server asks the
backend for locations and tariffs, hands it the commands an eMSP sends and pushes whatever the
backend reports on its event stream: an EVSE's new status (broadcast TO the hub, for every eMSP)
and a CDR (to the eMSP that started the session).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from scn_node.scpi.party import PartyId

# The command result types of OCPI 2.2 commands (CommandResultType).
ACCEPTED = "ACCEPTED"
FAILED = "FAILED"
REJECTED = "REJECTED"


@dataclass(frozen=True)
class Command:
    """A command an eMSP sent (OCPI commands module, receiver interface)."""

    name: str  # START_SESSION, STOP_SESSION, …
    body: dict[str, Any]  # the StartSession / StopSession object, response_url included
    sender: PartyId  # the eMSP: where the result and what follows from it go

    @property
    def session_id(self) -> str | None:
        value = self.body.get("session_id")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class CommandResult:
    """The asynchronous outcome of a command (OCPI CommandResult), posted to its response_url."""

    result: str = ACCEPTED
    message: list[dict[str, str]] = field(default_factory=list)  # DisplayText objects

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"result": self.result}
        if self.message:
            body["message"] = self.message
        return body


@dataclass(frozen=True)
class CdrReady:
    """A charging session ended and its CDR is ready for the eMSP that started it."""

    emsp: PartyId
    cdr: dict[str, Any]


@dataclass(frozen=True)
class EvseStatusChanged:
    """An EVSE of one of the CPO's locations has a new status (OCPI Status: CHARGING, …)."""

    location_id: str
    evse_uid: str
    status: str
    last_updated: str

    def patch(self) -> dict[str, str]:
        """The OCPI PATCH body of the EVSE: what changed, and when."""
        return {"status": self.status, "last_updated": self.last_updated}


CpoEvent = CdrReady | EvseStatusChanged


class CpoBackend(Protocol):
    """What the demo CPO serves and does. Objects are OCPI 2.2 JSON objects, owned by the CPO."""

    def locations(self) -> list[dict[str, Any]]: ...

    def location(self, location_id: str) -> dict[str, Any] | None: ...

    def tariffs(self) -> list[dict[str, Any]]: ...

    def supports(self, command: str) -> bool:
        """Whether the backend carries out `command`; others are answered NOT_SUPPORTED."""
        ...

    async def start_session(self, command: Command) -> CommandResult:
        """Start a session; returns once the charge point has answered."""
        ...

    async def stop_session(self, command: Command) -> CommandResult: ...

    def events(self) -> AsyncIterator[CpoEvent]:
        """What the CPO must push to the network, as it happens."""
        ...

    async def close(self) -> None:
        """Stop whatever the backend runs (timers, charge point connections)."""
        ...
