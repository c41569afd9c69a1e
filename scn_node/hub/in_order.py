"""Background jobs that run one after another per key, bounded by a `Background`.

A broadcast's legs are keyed by receiver and object: two quick pushes of one location reach
each receiver in the order they came, while a slow receiver holds up only its own next leg.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable

from scn_node.hub.background import Background

Job = Callable[[], Awaitable[bool]]


class InOrder:
    def __init__(self, background: Background) -> None:
        self.background = background
        self._latest: dict[Hashable, asyncio.Future[bool]] = {}

    def run(self, key: Hashable, job: Job, what: str = "") -> asyncio.Future[bool] | None:
        """Start `job` in the background once the job before it under `key` has ended; what
        it returns (False if it failed), or None when the background is full and it is
        dropped (the order of the others stays)."""
        before = self._latest.get(key)
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        async def in_turn() -> None:
            succeeded = False
            try:
                if before is not None:
                    await asyncio.wait([before])  # never cancels `before` (as awaiting it would)
                succeeded = await job()
            finally:
                if not done.done():  # a waiting request that was cancelled cancelled it
                    done.set_result(succeeded)
                if self._latest.get(key) is done:
                    del self._latest[key]

        if not self.background.spawn(in_turn(), what):
            return None
        self._latest[key] = done
        return done
