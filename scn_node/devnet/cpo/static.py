"""StaticCpo: the tutorial's CPO behind the CpoBackend seam. LOC1 and its two tariffs; a command
is carried out after `result_delay` seconds and always ACCEPTED. A started session makes its
EVSE CHARGING (the command's `evse_uid`, else the location's first AVAILABLE one); stopping the
eMSP's latest session makes that EVSE AVAILABLE again; each change is reported as an event. A
stopped session ends in a CDR `result_delay` seconds after its result."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from scn_node.devnet.cpo.backend import (
    CdrReady,
    Command,
    CommandResult,
    CpoEvent,
    EvseStatusChanged,
)
from scn_node.devnet.data import demo_cdr, demo_location, demo_tariffs
from scn_node.scpi.party import PartyId

SUPPORTED_COMMANDS = ("START_SESSION", "STOP_SESSION")


class StaticCpo:
    def __init__(self, party: PartyId, *, result_delay: float = 5.0) -> None:
        self.party = party
        self.result_delay = result_delay
        self._location = demo_location(party)
        self._tariffs = demo_tariffs(party)
        self._events: asyncio.Queue[CpoEvent] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        # Per eMSP, the EVSEs its sessions charge at, latest last: a stop frees the latest.
        self._charging: dict[PartyId, list[str]] = {}

    def locations(self) -> list[dict[str, Any]]:
        return [self._location]

    def location(self, location_id: str) -> dict[str, Any] | None:
        return self._location if location_id == self._location["id"] else None

    def tariffs(self) -> list[dict[str, Any]]:
        return list(self._tariffs)

    def supports(self, command: str) -> bool:
        return command in SUPPORTED_COMMANDS

    async def start_session(self, command: Command) -> CommandResult:
        await asyncio.sleep(self.result_delay)  # a charge point's answer takes a while
        evse = self._evse_for(command.body)
        if evse is not None:
            self._charging.setdefault(command.sender, []).append(evse["uid"])
            await self._set_status(evse, "CHARGING")
        return CommandResult()

    async def stop_session(self, command: Command) -> CommandResult:
        await asyncio.sleep(self.result_delay)
        charging = self._charging.get(command.sender)
        if charging:
            uid = charging.pop()
            evse = next(e for e in self._location["evses"] if e["uid"] == uid)
            await self._set_status(evse, "AVAILABLE")
        task = asyncio.create_task(self._end_session(command.sender, command.session_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return CommandResult()

    def _evse_for(self, start: dict[str, Any]) -> dict[str, Any] | None:
        """The EVSE a StartSession names, else the location's first AVAILABLE one."""
        if start.get("location_id") != self._location["id"]:
            return None
        evses = self._location["evses"]
        if "evse_uid" in start:
            return next((e for e in evses if e["uid"] == start["evse_uid"]), None)
        return next((e for e in evses if e["status"] == "AVAILABLE"), None)

    async def _set_status(self, evse: dict[str, Any], status: str) -> None:
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        evse["status"] = status
        evse["last_updated"] = self._location["last_updated"] = now
        await self._events.put(EvseStatusChanged(self._location["id"], evse["uid"], status, now))

    async def _end_session(self, emsp: PartyId, session_id: str | None) -> None:
        await asyncio.sleep(self.result_delay)
        cdr_id = f"CDR-{uuid.uuid4().hex[:12].upper()}"
        await self._events.put(CdrReady(emsp, demo_cdr(self.party, cdr_id, session_id)))

    async def events(self) -> AsyncIterator[CpoEvent]:
        while True:
            yield await self._events.get()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
