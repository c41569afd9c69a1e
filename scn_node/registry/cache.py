"""CachedRegistry: the hub's Registry port over RegistryContract, with a time-limited cache.

A routed request never waits for the chain: answers are kept for `ttl` seconds, expired as soon
as `watch` sees the contract emit an event (a listing created, changed or deleted), and served
stale, with a warning, while the RPC endpoint is down. The handshake asks for fresh ones.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from scn_node.hub.ports import ListedParty, Service
from scn_node.registry.contract import RegistryContract
from scn_node.registry.errors import RegistryError
from scn_node.registry.permissions import PermissionsContract
from scn_node.scpi.errors import HubError
from scn_node.scpi.party import PartyId

log = logging.getLogger(__name__)
T = TypeVar("T")


class CachedRegistry:
    """At most `max_entries` answers, least recently used dropped first. A miss ("not listed")
    is kept for `miss_ttl` only, so a party that has just listed itself is found soon; lookups
    of the same key that arrive together share one chain call."""

    def __init__(
        self,
        contract: RegistryContract,
        *,
        permissions: PermissionsContract | None = None,
        ttl: float = 60.0,
        miss_ttl: float = 10.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.contract = contract
        self.permissions = permissions
        self.ttl = ttl
        self.miss_ttl = min(miss_ttl, ttl)
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[object, tuple[float, object]] = OrderedDict()
        self._reading: dict[object, asyncio.Future[Any]] = {}
        self.on_change: list[Callable[[], Awaitable[None]]] = []
        self._stale = False

    def expire(self) -> None:
        """Make every answer due for a re-read. They are kept, not dropped, as the only answers
        there are if the chain goes away before the re-read."""
        for key, (_, value) in list(self._entries.items()):
            self._entries[key] = (float("-inf"), value)

    async def watch(self, interval: float) -> None:
        """Poll the contract's events every `interval` seconds; on any, expire every answer and
        tell the `on_change` listeners. Runs until cancelled."""
        last: int | None = None
        while True:
            try:
                head = await self.contract.block_number()
                changed = (
                    last is not None and head > last and await self._changes(last + 1, head) > 0
                )
                if changed:
                    log.info("SCN Registry changed up to block %d", head)
                    self.expire()
                    for listener in self.on_change:
                        try:
                            await listener()
                        except Exception:  # one listener's fault must not stop the watch
                            log.exception("registry change listener failed")
                last = head
                self._recovered()
            except RegistryError as error:
                self._degraded(error)
            await asyncio.sleep(interval)

    async def _changes(self, first: int, last: int) -> int:
        changes = await self.contract.changes_between(first, last)
        if self.permissions is not None:
            changes += await self.permissions.changes_between(first, last)
        return changes

    def _degraded(self, error: RegistryError) -> None:
        if not self._stale:
            log.warning("SCN Registry unreachable (%s): routing from cached answers", error)
        self._stale = True

    def _recovered(self) -> None:
        if self._stale:
            log.warning("SCN Registry reachable again")
        self._stale = False

    async def party(self, party: PartyId, *, fresh: bool = False) -> ListedParty | None:
        async def read() -> ListedParty | None:
            listing = await self.contract.get_party(party)
            if listing is None:
                return None
            return ListedParty(
                listing.party, listing.roles, listing.operator, listing.node_url, listing.address
            )

        return await self._cached(("party", party), read, fresh)

    async def node_url(self, operator: str, *, fresh: bool = False) -> str | None:
        async def read() -> str | None:
            listing = await self.contract.get_node(operator)
            return listing.url if listing else None

        return await self._cached(("node", operator.lower()), read, fresh)

    async def services_of(self, user: PartyId) -> tuple[Service, ...]:
        permissions = self.permissions
        if permissions is None:
            return ()

        async def read() -> tuple[Service, ...]:
            return tuple(
                Service(s.provider, s.party, tuple(s.permissions))
                for s in await permissions.services_of(user)
            )

        return await self._cached(("services", user), read, False)

    def known_services(self, user: PartyId) -> tuple[Service, ...] | None:
        """The services `user` agreed to as cached now, without waiting; None if not cached."""
        if self.permissions is None:
            return ()
        entry = self._entries.get(("services", user))
        if entry is None or entry[0] <= self.clock():
            return None
        return entry[1]  # type: ignore[return-value]

    async def agrees(self, user: PartyId, provider: str) -> bool:
        if self.permissions is None:
            return False
        try:
            return await self.permissions.has_agreement(user, provider)
        except RegistryError as error:
            # Unsure is no: a copy goes out only under an agreement the chain confirms.
            log.warning("agreement of %s with %s not confirmed: %s", user, provider, error)
            return False

    async def _cached(self, key: object, read: Callable[[], Awaitable[T]], fresh: bool) -> T:
        entry = self._entries.get(key)
        if entry is not None and not fresh and entry[0] > self.clock():
            self._entries.move_to_end(key)
            return entry[1]  # type: ignore[return-value]
        pending = self._reading.get(key)
        if pending is not None and not fresh:
            result: T = await asyncio.shield(pending)
            return result
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._reading[key] = future
        try:
            value = await read()
        except RegistryError as error:
            if entry is not None:  # expired, but better than nothing while the chain is away
                self._degraded(error)
                log.warning("serving a stale SCN Registry answer for %s", key)
                future.set_result(entry[1])
                return entry[1]  # type: ignore[return-value]
            log.warning("SCN Registry read failed: %s", error)
            failure = HubError(f"The SCN Registry cannot be read right now: {error}")
            future.set_exception(failure)
            future.exception()  # retrieved here, so an unshared failure is not reported
            raise failure from None
        finally:
            if self._reading.get(key) is future:
                del self._reading[key]
        future.set_result(value)
        self._entries[key] = (self.clock() + (self.ttl if value else self.miss_ttl), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return value
