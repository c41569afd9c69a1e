"""The operator's view of the platforms on this node (admin API): who is connected, in which
roles, when each was last heard from, and disconnecting one. No token ever leaves here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from scn_node.hub.ports import ConnectionEvents, Platform, PlatformList
from scn_node.scpi.errors import ResourceNotFound
from scn_node.scpi.hubclientinfo import ConnectionStatus
from scn_node.scpi.party import PartyId
from scn_node.scpi.versions import Endpoint


@dataclass(frozen=True, slots=True)
class PlatformView:
    platform: Platform
    version: str | None  # the SCPI version it registered with (None: it never did)
    endpoint_count: int
    last_heard: datetime
    endpoints: tuple[Endpoint, ...] = ()  # filled in for one platform only


class Platforms:
    """`heard` tells when a party was last heard from, if that is newer than the directory
    knows yet (HubClientInfo writes it there in batches)."""

    def __init__(
        self,
        directory: PlatformList,
        events: ConnectionEvents,
        heard: Callable[[PartyId], datetime | None],
    ) -> None:
        self.directory = directory
        self.events = events
        self.heard = heard

    async def page(self, offset: int, limit: int) -> tuple[list[PlatformView], int]:
        platforms, total = await self.directory.platforms(offset, limit)
        counts = await self.directory.endpoint_counts([p.id for p in platforms])
        return [self._view(p, counts.get(p.id, 0)) for p in platforms], total

    async def show(self, platform_id: int) -> PlatformView:
        platform = await self._platform(platform_id)
        endpoints = tuple(await self.directory.endpoints(platform.id))
        view = self._view(platform, len(endpoints))
        return PlatformView(view.platform, view.version, len(endpoints), view.last_heard, endpoints)

    async def disconnect(self, platform_id: int) -> PlatformView:
        """SUSPENDED: its tokens stop working, its endpoints are forgotten, and the others are
        told. It may register again with a new TOKEN_A."""
        platform = await self._platform(platform_id)
        if platform.status is not ConnectionStatus.SUSPENDED:  # else there is no news
            left = await self.directory.unregister(platform_id)
            if left is None:
                raise ResourceNotFound(f"No platform {platform_id} on this node")
            platform = left
            self.events.status_changed(platform)
        return self._view(platform, 0)

    async def _platform(self, platform_id: int) -> Platform:
        platform = await self.directory.platform(platform_id)
        if platform is None or not platform.roles:  # an unused TOKEN_A is no platform yet
            raise ResourceNotFound(f"No platform {platform_id} on this node")
        return platform

    def _view(self, platform: Platform, endpoint_count: int) -> PlatformView:
        heard = [h for r in platform.roles if (h := self.heard(r.party)) is not None]
        last_heard = max([platform.last_updated, *heard])
        return PlatformView(platform, platform.version, endpoint_count, last_heard)
