"""An awaitable event log: a demo party records what it did or saw, and a caller waits for it
instead of sleeping or polling."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    """One thing a demo party did or saw. `kind` names it; `data` holds the details."""

    kind: str
    data: dict[str, Any]


class Recorder:
    """A list of events that callers can wait on (no sleeping, no polling)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._waiters: list[tuple[str, int, asyncio.Future[Event]]] = []

    def record(self, kind: str, **data: Any) -> Event:
        event = Event(kind, data)
        self.events.append(event)
        for waiter in list(self._waiters):
            self._settle(waiter)
        return event

    def _settle(self, waiter: tuple[str, int, asyncio.Future[Event]]) -> None:
        kind, count, future = waiter
        found = self.of(kind)
        if len(found) >= count:
            if not future.done():
                future.set_result(found[count - 1])
            self._waiters.remove(waiter)

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    async def wait_for(self, kind: str, count: int = 1, within: float = 30.0) -> Event:
        """The `count`-th event of `kind`, waiting for it (at most `within` seconds)."""
        waiter = (kind, count, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        self._settle(waiter)
        try:
            return await asyncio.wait_for(asyncio.shield(waiter[2]), within)
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    async def first(self, kind: str, match: Callable[[Event], bool], within: float = 30.0) -> Event:
        """The first event of `kind` that `match`es, recorded already or waited for (at most
        `within` seconds in all)."""
        deadline = asyncio.get_running_loop().time() + within
        count = 1
        while True:
            left = deadline - asyncio.get_running_loop().time()
            event = await self.wait_for(kind, count, within=max(left, 0.0))
            if match(event):
                return event
            count += 1
