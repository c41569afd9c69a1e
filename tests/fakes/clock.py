"""The hubs' clock in tests: the wall clock, moved on only when a test says.

Not a clock fixed at some date: the store dates its rows with the wall clock, and the hub compares
its clock with those dates (still-alive, ClientInfo from the future)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass
class MovingClock:
    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)
