"""CachedRegistry: the hub's Registry port over RegistryContract, with a time-limited cache.

A routed request never waits for the chain: answers are kept for `ttl` seconds, and the
handshake asks for fresh ones.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from scn_node.hub.ports import ListedParty
from scn_node.registry.contract import RegistryContract
from scn_node.registry.errors import RegistryError
from scn_node.scpi.errors import HubError
from scn_node.scpi.party import PartyId

log = logging.getLogger(__name__)
T = TypeVar("T")


class CachedRegistry:
    def __init__(
        self,
        contract: RegistryContract,
        *,
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.contract = contract
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[object, tuple[float, object]] = {}

    async def party(self, party: PartyId, *, fresh: bool = False) -> ListedParty | None:
        async def read() -> ListedParty | None:
            listing = await self.contract.get_party(party)
            if listing is None:
                return None
            return ListedParty(listing.party, listing.roles, listing.operator, listing.node_url)

        return await self._cached(("party", party), read, fresh)

    async def node_url(self, operator: str, *, fresh: bool = False) -> str | None:
        async def read() -> str | None:
            listing = await self.contract.get_node(operator)
            return listing.url if listing else None

        return await self._cached(("node", operator.lower()), read, fresh)

    async def _cached(self, key: object, read: Callable[[], Awaitable[T]], fresh: bool) -> T:
        now = self.clock()
        entry = self._entries.get(key)
        if entry is not None and not fresh and entry[0] > now:
            return entry[1]  # type: ignore[return-value]
        try:
            value = await read()
        except RegistryError as error:
            log.warning("SCN Registry read failed: %s", error)
            raise HubError(f"The SCN Registry cannot be read right now: {error}") from None
        self._entries[key] = (now + self.ttl, value)
        return value
