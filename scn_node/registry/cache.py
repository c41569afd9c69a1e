"""CachedRegistry: the hub's Registry port over RegistryContract, with a time-limited cache.

A routed request never waits long for the chain: answers are kept for `ttl` seconds, expired as
soon as `watch` sees the contract emit an event (a listing created, changed or deleted), and
served stale, with a warning, while the RPC endpoint is down. The handshake asks for fresh ones.

Once a read has failed, the chain is known to be down (a circuit breaker): reads answer from
what is cached without calling it, and one read every `retry_seconds` (and every poll of
`watch`) tries the chain in the background; the first answer closes the breaker. The answers
are also saved (`saved`, the node's database) off the request path, so a node restarted while
the chain is away routes from them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Protocol, TypeVar

from scn_node.hub.model import ListedNode, ListedParty, Service
from scn_node.registry.contract import RegistryContract
from scn_node.registry.errors import RegistryError
from scn_node.registry.permissions import PermissionsContract
from scn_node.scpi.errors import HubError
from scn_node.scpi.party import ModuleId, PartyId, Role

log = logging.getLogger(__name__)
T = TypeVar("T")


class SavedAnswers(Protocol):
    """Where the last registry answers outlive the process, by lookup name, as JSON."""

    async def save(self, answers: Mapping[str, str]) -> None: ...

    async def load(self) -> tuple[dict[str, str], datetime | None]:
        """Every saved answer, and when the newest was saved."""
        ...


class CachedRegistry:
    """At most `max_entries` answers, least recently used dropped first. A miss ("not listed")
    is kept for `miss_ttl` only, so a party that has just listed itself is found soon; lookups
    of the same key that arrive together share one chain call. An expired answer is served if
    the chain has not answered within `stale_wait` seconds (the read goes on, and its answer
    is kept for the next request)."""

    def __init__(
        self,
        contract: RegistryContract,
        *,
        permissions: PermissionsContract | None = None,
        ttl: float = 60.0,
        miss_ttl: float = 10.0,
        max_entries: int = 10_000,
        stale_wait: float = 0.25,
        retry_seconds: float = 5.0,
        saved: SavedAnswers | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.contract = contract
        self.permissions = permissions
        self.ttl = ttl
        self.miss_ttl = min(miss_ttl, ttl)
        self.max_entries = max_entries
        self.stale_wait = stale_wait
        self.retry_seconds = retry_seconds
        self.saved = saved
        self.clock = clock
        self._entries: OrderedDict[object, tuple[float, object]] = OrderedDict()
        self._reading: dict[object, asyncio.Task[Any]] = {}
        self.on_change: list[Callable[[], Awaitable[None]]] = []
        self._retry_at: float | None = None  # set while the chain is known to be down
        self._error: RegistryError | None = None
        self._unsaved: dict[str, str] = {}
        self._restored: tuple[int, datetime] | None = None  # saved answers, none re-read yet

    @property
    def chain_down(self) -> bool:
        return self._retry_at is not None

    def expire(self) -> None:
        """Make every answer due for a re-read. They are kept, not dropped, as the only answers
        there are if the chain goes away before the re-read."""
        for key, (_, value) in list(self._entries.items()):
            self._entries[key] = (float("-inf"), value)

    async def watch(self, interval: float) -> None:
        """Poll the contract's events every `interval` seconds; on any, expire every answer and
        tell the `on_change` listeners. Each poll also saves the answers read since the last.
        Runs until cancelled."""
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
            await self.save()
            await asyncio.sleep(interval)

    async def _changes(self, first: int, last: int) -> int:
        changes = await self.contract.changes_between(first, last)
        if self.permissions is not None:
            changes += await self.permissions.changes_between(first, last)
        return changes

    def _degraded(self, error: RegistryError) -> None:
        self._error = error
        if self._retry_at is None:
            if self._restored is not None:
                count, saved_at = self._restored
                log.warning(
                    "the SCN Registry is unreachable; routing from %d registry answers saved "
                    "at %s (%s)",
                    count, saved_at.isoformat(timespec="seconds"), error,
                )  # fmt: skip
            else:
                log.warning("SCN Registry unreachable (%s): routing from cached answers", error)
        self._retry_at = self.clock() + self.retry_seconds

    def _recovered(self) -> None:
        if self._retry_at is not None:
            log.warning("SCN Registry reachable again")
        self._retry_at = None
        self._restored = None

    # ------------------------------------------------------------------ the Registry port

    async def party(self, party: PartyId, *, fresh: bool = False) -> ListedParty | None:
        return await self._cached(("party", party), lambda: self.contract.get_party(party), fresh)

    async def node_url(self, operator: str, *, fresh: bool = False) -> str | None:
        async def read() -> str | None:
            listing = await self.contract.get_node(operator)
            return listing.url if listing else None

        return await self._cached(("node", operator.lower()), read, fresh)

    async def parties(self) -> tuple[ListedParty, ...]:
        async def read() -> tuple[ListedParty, ...]:
            return tuple(await self.contract.list_parties())

        return await self._cached(("parties",), read, False)

    async def nodes(self) -> tuple[ListedNode, ...]:
        async def read() -> tuple[ListedNode, ...]:
            listed = await self.contract.list_nodes()
            return tuple(ListedNode(n.operator, n.url) for n in listed if n.url)

        return await self._cached(("nodes",), read, False)

    async def services_of(self, user: PartyId) -> tuple[Service, ...]:
        if self.permissions is None:
            return ()
        return await self._cached(("services", user), self._services_read(user), False)

    def _services_read(self, user: PartyId) -> Callable[[], Awaitable[tuple[Service, ...]]]:
        permissions = self.permissions
        assert permissions is not None
        return lambda: permissions.services_of(user)

    def known_services(self, user: PartyId) -> tuple[Service, ...] | None:
        """The services `user` agreed to as last read, without waiting; None if never read.
        An expired answer still answers, and one read in the background renews it: under
        load, every request for a party without services must not start a copy task that
        waits for the chain."""
        if self.permissions is None:
            return ()
        key = ("services", user)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self.clock() and key not in self._reading and self._retry_at is None:
            self._start(key, self._services_read(user))
        return entry[1]  # type: ignore[return-value]

    async def agrees(self, user: PartyId, provider: str) -> bool:
        if self.permissions is None:
            return False
        if self.chain_down:  # unsure is no, and not worth a wait
            return False
        try:
            return await self.permissions.has_agreement(user, provider)
        except RegistryError as error:
            # Unsure is no: a copy goes out only under an agreement the chain confirms.
            log.warning("agreement of %s with %s not confirmed: %s", user, provider, error)
            return False

    # ------------------------------------------------------------------ saved answers

    async def restore(self) -> int:
        """Take the saved answers in, as due for a re-read: the chain's answer wins while it
        answers, the saved one serves while it does not. How many there were."""
        if self.saved is None:
            return 0
        answers, saved_at = await self.saved.load()
        restored = 0
        for name, text in answers.items():
            try:
                key, value = _decode(name, text)
            except (ValueError, KeyError, TypeError, IndexError):
                log.warning("unreadable saved registry answer %.40r: ignored", name)
                continue
            if key not in self._entries:
                self._entries[key] = (float("-inf"), value)
                restored += 1
        if restored and saved_at is not None:
            self._restored = (restored, saved_at)
        return restored

    async def save(self) -> None:
        """Save the answers read from the chain since the last save (a failure keeps them for
        the next one)."""
        if self.saved is None or not self._unsaved:
            return
        batch, self._unsaved = self._unsaved, {}
        try:
            await self.saved.save(batch)
        except HubError as error:
            log.warning("registry answers not saved: %s", error)
            self._unsaved = {**batch, **self._unsaved}

    # ------------------------------------------------------------------ the cache

    async def _cached(self, key: object, read: Callable[[], Awaitable[T]], fresh: bool) -> T:
        entry = self._entries.get(key)
        now = self.clock()
        result: T
        if entry is not None and not fresh and entry[0] > now:
            self._entries.move_to_end(key)
            return entry[1]  # type: ignore[return-value]
        if self._retry_at is not None:  # the chain is known to be down: no waiting for it
            if now >= self._retry_at and key not in self._reading:
                self._retry_at = now + self.retry_seconds
                self._start(key, read)  # the one try of this back-off window
            result = self._without_chain(key, entry)
            return result
        task = None if fresh else self._reading.get(key)
        if task is None:
            task = self._start(key, read)
        if entry is None:
            result = await asyncio.shield(task)
            return result
        try:
            if fresh:
                result = await asyncio.shield(task)
            else:
                async with asyncio.timeout(self.stale_wait):
                    result = await asyncio.shield(task)
        except (HubError, TimeoutError):
            result = self._without_chain(key, entry)
        return result

    def _without_chain(self, key: object, entry: tuple[float, object] | None) -> Any:
        """The last answer for `key`, however old; HubError if there is none."""
        if entry is None:
            raise HubError(f"The SCN Registry cannot be read right now: {self._error}")
        log.debug("serving a stale SCN Registry answer for %s", key)
        return entry[1]

    def _start(self, key: object, read: Callable[[], Awaitable[T]]) -> asyncio.Task[T]:
        """The chain read for `key`, as a task of its own: it ends, and its answer is kept,
        even when every request waiting for it has given up or gone."""
        task = asyncio.create_task(self._read(key, read))
        self._reading[key] = task

        def done(finished: asyncio.Task[T]) -> None:
            if self._reading.get(key) is finished:
                del self._reading[key]
            if not finished.cancelled():
                finished.exception()  # retrieved here: an unshared failure is not reported

        task.add_done_callback(done)
        return task

    async def _read(self, key: object, read: Callable[[], Awaitable[T]]) -> T:
        try:
            value = await read()
        except RegistryError as error:
            log.debug("SCN Registry read failed: %s", error)
            self._degraded(error)
            raise HubError(f"The SCN Registry cannot be read right now: {error}") from None
        self._recovered()
        self._entries[key] = (self.clock() + (self.ttl if value else self.miss_ttl), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        name = _name(key)
        if name is not None and self.saved is not None:
            self._unsaved[name] = _encode(value)
        return value


# ---------------------------------------------------------------------- saved answers as JSON
# Parties and node URLs are what routing needs; services are not saved (a copy needs the chain).


def _name(key: object) -> str | None:
    match key:
        case ("party", PartyId() as party):
            return f"party {party.country_code} {party.party_id}"
        case ("node", str() as operator):
            return f"node {operator}"
    return None


def _encode(value: object) -> str:
    if isinstance(value, ListedParty):
        return json.dumps(
            {
                "party": [value.party.country_code, value.party.party_id],
                "roles": [role.value for role in value.roles],
                "operator": value.operator,
                "node_url": value.node_url,
                "address": value.address,
                "modules_sender": [module.value for module in value.modules_sender],
                "modules_receiver": [module.value for module in value.modules_receiver],
            }
        )
    return json.dumps(value)  # a node URL, or None: not listed


def _decode(name: str, text: str) -> tuple[object, object]:
    kind, _, subject = name.partition(" ")
    data: Any = json.loads(text)
    if kind == "node":
        if data is not None and not isinstance(data, str):
            raise ValueError(name)
        return ("node", subject), data
    if kind != "party":
        raise ValueError(name)
    country_code, party_id = subject.split(" ")
    key = ("party", PartyId(country_code, party_id))
    if data is None:
        return key, None
    listed = ListedParty(
        PartyId(*data["party"]),
        tuple(Role(role) for role in data["roles"]),
        str(data["operator"]),
        str(data["node_url"]),
        str(data["address"]),
        # Answers saved before modules were saved have none: routing does not read them.
        tuple(ModuleId(module) for module in data.get("modules_sender", ())),
        tuple(ModuleId(module) for module in data.get("modules_receiver", ())),
    )
    return key, listed
