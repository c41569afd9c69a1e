"""StaticCpo: the tutorial's CPO behind the CpoBackend seam. LOC1 and its two tariffs never
change; a command is carried out after `result_delay` seconds and always ACCEPTED; a stopped
session ends in a CDR `result_delay` seconds after its result."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

from scn_node.devnet.cpo.backend import CdrReady, Command, CommandResult, CpoEvent
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
        return CommandResult()

    async def stop_session(self, command: Command) -> CommandResult:
        await asyncio.sleep(self.result_delay)
        task = asyncio.create_task(self._end_session(command.sender, command.session_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return CommandResult()

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
