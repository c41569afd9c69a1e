"""ReadCache: what the forward path reads, kept in memory for a few seconds."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

_MISSING = object()  # a kept "there is none" (see `through`)


class ReadCache:
    """Answers kept for `seconds`, all dropped by `forget`, which every write calls before it
    starts and again once it has committed.

    Each `forget` bumps a generation: a read that began before (or during) a write finds the
    generation changed when its answer comes back, and the answer is not kept. At most
    `max_entries` are kept; past that, all are dropped.

    While `paused`, nothing is kept (a lifetime of 0): the node cannot hear another instance's
    writes right now (store/notify.py)."""

    def __init__(self, seconds: float, *, max_entries: int = 10_000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self.generation = 0
        self.paused = False
        self._entries: dict[Hashable, tuple[float, Any]] = {}

    def get(self, key: Hashable) -> Any:
        """The value kept for `key`, or None."""
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def remember(self, key: Hashable, value: object, generation: int) -> None:
        """Keep `value`, read when the generation was `generation`, unless a write began since."""
        if value is None:  # misses are not kept: unknown tokens must not fill memory
            return
        if generation != self.generation:  # a write ran meanwhile: the value may be stale
            return
        if self.paused or self.seconds <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.seconds, value)

    def forget(self) -> None:
        self.generation += 1
        self._entries.clear()

    def pause(self) -> None:
        """Keep nothing, and drop what is kept, until `resume`."""
        self.paused = True
        self.forget()

    def resume(self) -> None:
        """Keep answers again; a read that began while paused still keeps nothing."""
        self.forget()
        self.paused = False

    async def through(
        self, key: Hashable, read: Callable[[], Awaitable[T | None]], *, keep_none: bool = False
    ) -> T | None:
        """The kept value for `key`, else `read()`'s, kept for next time. With `keep_none`, a
        None answer is kept too: e.g. "no such party here", asked on every request to a party
        on another node."""
        kept = self.get(key)
        if kept is not None:
            return None if kept is _MISSING else kept
        generation = self.generation
        value = await read()
        self.remember(key, _MISSING if value is None and keep_none else value, generation)
        return value
