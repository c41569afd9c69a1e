"""Background work the hub starts and nobody waits for: bounded, never queued, drained in tests
and given a short grace at shutdown.

Over `limit` tasks in flight, new work is dropped and counted (one log line per
`DROP_LOG_SECONDS`, not a flood): a hub that queues behind a slow receiver wedges itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)
DROP_LOG_SECONDS = 10.0


class Background:
    def __init__(self, name: str, *, limit: int = 256, shutdown_grace: float = 2.0) -> None:
        self.name = name  # what the work is, for the log: "broadcast legs"
        self.limit = limit
        self.shutdown_grace = shutdown_grace
        self.dropped = 0  # since the start, for metrics
        self._tasks: set[asyncio.Task[None]] = set()
        self._unreported, self._reported_at = 0, float("-inf")

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, None], what: str = "") -> bool:
        """Run `work` unless `limit` tasks are in flight; False (and `work` closed) if dropped."""
        if len(self._tasks) >= self.limit:
            work.close()
            self.dropped += 1
            self._unreported += 1
            now = time.monotonic()
            if now - self._reported_at >= DROP_LOG_SECONDS:
                log.warning(
                    "%s dropped: %d since the last report (the latest %s), %d in flight",
                    self.name, self._unreported, what or "-", len(self._tasks),
                )  # fmt: skip
                self._unreported, self._reported_at = 0, now
            return False
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return True

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            log.error("%s failed: %r", self.name, error, exc_info=error)

    async def drain(self) -> None:
        """Wait until nothing is in flight (tests: instead of polling)."""
        while self._tasks:
            await asyncio.gather(*set(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Let the work in flight finish (briefly), then cancel the rest."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=self.shutdown_grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
