"""HubClientInfo (OCPI 2.2 mod_hub_client_info): who is on the network, told as it changes.

* A party that connects, leaves or changes status is PUT to the hubclientinfo receiver of every
  other connected party here whose rules (`scnrules`) let it reach them, and to every other
  node (`PUT /scn/client-info`, signed with the node's wallet), which tells its own parties.
  The list a party asks for holds only the parties its rules let reach it.
* The still-alive check calls the versions endpoint of every party not heard from for a while:
  no answer makes it OFFLINE, an answer makes it CONNECTED again.
* The planned-party search finds the parties the registry lists with this node that never
  connected, and tells everyone they are PLANNED.

Pushes run in the background, so no party waits for them, and are never retried: parties are
not to queue for others either (spec: "OFFLINE … don't queue"). Pushes about one party leave in
the order its changes happened.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from scn_node.hub.peer import PeerLink
from scn_node.hub.ports import (
    Caller,
    Leadership,
    ListedParty,
    NetworkInfo,
    OutboundRequest,
    PartyResponse,
    Platform,
    Transport,
)
from scn_node.hub.rules import PartyRules
from scn_node.scpi.authorization import authorization
from scn_node.scpi.errors import ScpiError
from scn_node.scpi.headers import CORRELATION_ID, REQUEST_ID
from scn_node.scpi.hubclientinfo import ClientInfo, ConnectionStatus
from scn_node.scpi.pagination import Page
from scn_node.scpi.party import ModuleId, PartyId
from scn_node.scpi.versions import InterfaceRole

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class HubClientInfo:
    """`nodes` gives the URLs of the other nodes in the registry; `planned` the parties the
    registry lists with this node's operator. Both raise HubError when it cannot be read."""

    def __init__(
        self,
        directory: NetworkInfo,
        transport: Transport,
        peers: PeerLink,
        *,
        nodes: Callable[[], Awaitable[Sequence[str]]],
        planned: Callable[[], Awaitable[Sequence[ListedParty]]],
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        shutdown_grace: float = 1.0,
        leadership: Leadership | None = None,
    ) -> None:
        self.directory = directory
        self.transport = transport
        self.peers = peers
        self.nodes = nodes
        self.planned = planned
        self.new_id = new_id
        self.clock = clock
        self.shutdown_grace = shutdown_grace
        self.leadership = leadership  # None: the only instance, always leads
        # When each party was last heard from; written to the directory in batches, so a
        # routed request costs a dict update, not a database write.
        self._heard: dict[PartyId, datetime] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._latest: dict[PartyId, asyncio.Task[None]] = {}  # the last push about each party
        self._loops: list[asyncio.Task[None]] = []
        self._reconnecting: set[int] = set()

    # ------------------------------------------------------------------ what happens

    def status_changed(self, platform: Platform, *, network: bool = True) -> None:
        """Tell the other parties here (and unless `network` is False, the other nodes) the
        status of every role of `platform`."""
        infos = [
            ClientInfo(r.party, r.role, platform.status, platform.last_updated)
            for r in platform.roles
        ]
        for party in dict.fromkeys(info.party for info in infos):
            about = [info for info in infos if info.party == party]
            self._in_order(party, functools.partial(self._announce, about, platform.id, network))

    def heard(self, *parties: PartyId) -> None:
        now = self.clock()
        for party in parties:
            self._heard[party] = now

    def last_heard(self, party: PartyId) -> datetime | None:
        """When `party` was last heard from, if not yet written to the directory."""
        return self._heard.get(party)

    def routed(self, caller: Caller | None, sender: PartyId, receiver: PartyId) -> None:
        """A routed request was answered: the party that answered is alive, and so is the
        sender when it is on this node (`caller`; a peer's message: its node knows)."""
        if caller is None:
            self.heard(receiver)
            return
        self.heard(sender, receiver)
        if caller.platform.status is ConnectionStatus.OFFLINE:
            self._reconnect(caller.platform)

    async def receive(self, raw: bytes, signature: str | None) -> None:
        """A ClientInfo from a peer node (PUT /scn/client-info): kept, and told to the parties
        here. Its signer must operate the node the registry lists the party with."""
        info = await self.peers.accept_client_info(raw, signature)
        if await self.directory.save_network_client_info(info):
            self._in_order(info.party, functools.partial(self._announce, [info], None, False))

    async def client_infos(self, page: Page, *, rules: PartyRules) -> tuple[list[ClientInfo], int]:
        """The list a party with `rules` asks for: only the parties its rules let reach it."""
        await self._renew()
        return await self.directory.client_infos(page, rules)

    # ------------------------------------------------------------------ the two searches

    async def check_still_alive(self, interval: float) -> None:
        """Call every live party not heard from within `interval` seconds, if this instance
        leads. Every instance writes down whom it heard from, so the leader sees them too."""
        await self._renew()
        if not await self._leads():
            return
        horizon = self.clock() - timedelta(seconds=interval)
        quiet = [p for p in await self.directory.live_platforms() if p.last_updated <= horizon]
        await asyncio.gather(*(self._still_alive(p) for p in quiet))

    async def search_planned(self) -> None:
        """Parties listed with this node that never connected to it are PLANNED; each role is
        told once, when first found. Only the leading instance searches."""
        if not await self._leads():
            return
        for listed in await self.planned():
            if await self.directory.platform_of(listed.party) is not None:
                continue
            now = self.clock()
            found = [
                info
                for role in listed.roles
                if await self.directory.add_planned(
                    info := ClientInfo(listed.party, role, ConnectionStatus.PLANNED, now)
                )
            ]
            if found:
                log.info("%s is listed with this node but not connected: PLANNED", listed.party)
                self._in_order(listed.party, functools.partial(self._announce_planned, found))

    def start(self, *, still_alive_seconds: float, planned_party_seconds: float) -> None:
        """Run the still-alive check and the planned-party search, now and then every so many
        seconds; 0 turns one off."""
        if still_alive_seconds > 0:
            self._loops.append(
                asyncio.create_task(
                    _every(
                        still_alive_seconds,
                        lambda: self.check_still_alive(still_alive_seconds),
                        "still-alive check",
                    )
                )
            )
        if planned_party_seconds > 0:
            self._loops.append(
                asyncio.create_task(
                    _every(planned_party_seconds, self.search_planned, "planned-party search")
                )
            )

    async def drain(self) -> None:
        """Wait until every push under way has ended (tests: instead of polling)."""
        while self._tasks:
            await asyncio.gather(*set(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Stop the searches; give pushes under way a moment to finish, then cancel them."""
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops.clear()
        deadline = asyncio.get_running_loop().time() + self.shutdown_grace
        while self._tasks:  # a finishing task may start another (a reconnect tells everyone)
            left = deadline - asyncio.get_running_loop().time()
            pending = set(self._tasks)
            if left > 0:
                await asyncio.wait(pending, timeout=left)
                continue
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    # ------------------------------------------------------------------ details

    async def _leads(self) -> bool:
        return self.leadership is None or await self.leadership.lead()

    async def _renew(self) -> None:
        heard, self._heard = self._heard, {}
        try:
            await self.directory.renew(heard)
        except BaseException:
            for party, moment in heard.items():  # kept for the next try, unless heard since
                self._heard.setdefault(party, moment)
            raise

    async def _still_alive(self, platform: Platform) -> None:
        if await self._answers(platform):
            self.heard(*(r.party for r in platform.roles))
            if platform.status is ConnectionStatus.OFFLINE:
                await self._move(platform, ConnectionStatus.CONNECTED, was=ConnectionStatus.OFFLINE)
        elif platform.status is ConnectionStatus.CONNECTED:
            log.info("%s did not answer the still-alive check: OFFLINE", _names(platform))
            await self._move(platform, ConnectionStatus.OFFLINE, was=ConnectionStatus.CONNECTED)

    async def _answers(self, platform: Platform) -> bool:
        """Whether the party's versions endpoint answers its TOKEN_B with HTTP 200."""
        if not platform.versions_url or not platform.token_b:
            return False
        request = OutboundRequest("GET", platform.versions_url, self._party_headers(platform))
        try:
            response = await self.transport.send(request)
        except ScpiError:  # timeout, unreachable, or a URL the node may not call
            return False
        return response.status == 200

    async def _move(
        self, platform: Platform, status: ConnectionStatus, *, was: ConnectionStatus
    ) -> None:
        moved = await self.directory.set_status(platform.id, status, was=was)
        if moved is not None:
            self.status_changed(moved)

    def _reconnect(self, platform: Platform) -> None:
        """An OFFLINE party that sends is back; one reconnect at a time per platform."""
        if platform.id in self._reconnecting:
            return
        self._reconnecting.add(platform.id)

        async def reconnect() -> None:
            try:
                await self._move(platform, ConnectionStatus.CONNECTED, was=ConnectionStatus.OFFLINE)
            finally:
                self._reconnecting.discard(platform.id)

        self._spawn(reconnect())

    async def _announce_planned(self, infos: list[ClientInfo]) -> None:
        # The party may have connected since it was found; its CONNECTED went out before this.
        if await self.directory.platform_of(infos[0].party) is None:
            await self._announce(infos, None, network=True)

    async def _announce(self, infos: list[ClientInfo], skip: int | None, network: bool) -> None:
        """PUT `infos` to every connected party here but the platform `skip` and those whose
        rules do not let the party reach them, and to the other nodes if `network`."""
        sends: list[Coroutine[Any, Any, None]] = []
        for platform in await self.directory.connected_platforms():
            if platform.id == skip:
                continue
            url = await self.directory.endpoint(
                platform.id, ModuleId.HUB_CLIENT_INFO, InterfaceRole.RECEIVER
            )
            if url is not None:
                sends += [
                    self._to_party(platform, url, info)
                    for info in infos
                    if platform.rules.sees(info.party)
                ]
        if network:
            sends += [self._to_node(url, info) for url in await self._node_urls() for info in infos]
        await asyncio.gather(*sends)

    async def _to_party(self, platform: Platform, url: str, info: ClientInfo) -> None:
        # A configuration module: no routing headers.
        target = f"{url.rstrip('/')}/{info.party.country_code}/{info.party.party_id}"
        headers = {**self._party_headers(platform), "Content-Type": "application/json"}
        request = OutboundRequest("PUT", target, headers, info.encode())
        if await self._put(request, info, _names(platform)):
            self.heard(*(r.party for r in platform.roles))

    async def _to_node(self, node_url: str, info: ClientInfo) -> None:
        await self._put(self.peers.push_client_info(node_url, info), info, f"the node {node_url}")

    async def _put(
        self, sending: Awaitable[PartyResponse] | OutboundRequest, info: ClientInfo, to: str
    ) -> bool:
        if isinstance(sending, OutboundRequest):
            sending = self.transport.send(sending)
        try:
            response = await sending
        except ScpiError as error:
            log.warning("ClientInfo of %s not delivered to %s: %s", info.party, to, error.message)
            return False
        if response.status != 200:
            log.warning(
                "ClientInfo of %s not taken by %s: HTTP %d", info.party, to, response.status
            )
            return False
        return True

    def _party_headers(self, platform: Platform) -> dict[str, str]:
        return {
            "Authorization": authorization(platform.token_b or "", platform.token_form),
            REQUEST_ID: self.new_id(),
            CORRELATION_ID: self.new_id(),
        }

    async def _node_urls(self) -> Sequence[str]:
        try:
            return await self.nodes()
        except ScpiError as error:
            log.warning("ClientInfo not sent to other nodes: %s", error.message)
            return []

    def _in_order(self, party: PartyId, job: Job) -> None:
        """Run `job` in the background once the push before it about `party` has ended."""
        before = self._latest.get(party)

        async def after_before() -> None:
            if before is not None:
                await asyncio.wait([before])
            await job()

        task = self._spawn(after_before())
        self._latest[party] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._latest.get(party) is done:
                del self._latest[party]

        task.add_done_callback(forget)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(_report)
        task.add_done_callback(self._tasks.discard)
        return task


async def _every(seconds: float, job: Job, name: str) -> None:
    while True:
        try:
            await job()
        except ScpiError as error:  # the database or the registry is away: try next time
            log.warning("HubClientInfo %s failed: %s", name, error.message)
        except Exception:
            log.exception("HubClientInfo %s failed", name)
        await asyncio.sleep(seconds)


def _report(task: asyncio.Task[None]) -> None:
    """Background work never raises to a party; what went wrong is logged."""
    if task.cancelled():
        return
    error = task.exception()
    if isinstance(error, ScpiError):
        log.warning("HubClientInfo push failed: %s", error.message)
    elif error is not None:
        log.error("HubClientInfo push failed", exc_info=error)


def _names(platform: Platform) -> str:
    return ", ".join(dict.fromkeys(str(r.party) for r in platform.roles)) or "a platform"
