"""Service copies: a copy of a party's request to each service it agreed to (SCN Permissions).

One rule decides whether a request is copied: it came from a party on this node (a peer's
message was copied at the sender's node) and its module's spec says copies are made (custom
modules: no). Copies go after, never before or in the way of, the original; they wait for
nobody: over MAX_COPIES in flight, they are dropped (and logged) rather than queued
(`Background`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace

from scn_node.hub.background import Background
from scn_node.hub.delivery import Delivered
from scn_node.hub.exchange import Exchange, FromParty, LocalParty, Target
from scn_node.hub.message import ScpiRequest
from scn_node.hub.model import Service
from scn_node.hub.ports import Registry
from scn_node.hub.signing import TO_COUNTRY_CODE_PATH, TO_PARTY_ID_PATH, Signatures
from scn_node.scpi.errors import ScpiError
from scn_node.scpi.notary import Notary
from scn_node.scpi.party import PartyId

log = logging.getLogger(__name__)
MAX_COPIES = 256  # service copies in flight at once

Address = Callable[[PartyId], Awaitable[Target]]
Deliver = Callable[[Exchange, Target], Awaitable[Delivered]]


class ServiceCopies:
    def __init__(
        self,
        registry: Registry,
        signatures: Signatures,
        *,
        address: Address,
        deliver: Deliver,
        enabled: bool = True,
        new_request_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        shutdown_grace: float = 2.0,
    ) -> None:
        self.registry = registry
        self.background = Background(
            "service copies", limit=MAX_COPIES, shutdown_grace=shutdown_grace
        )
        self.signatures = signatures
        self.address = address
        self.deliver = deliver
        self.enabled = enabled
        self.new_request_id = new_request_id

    def wanted(self, exchange: Exchange) -> bool:
        """The one rule: a party's request here, of a module that is copied."""
        return self.enabled and isinstance(exchange.origin, FromParty) and exchange.spec.copies

    def send(self, exchange: Exchange) -> None:
        """Start the copies of `exchange` in the background, if any are due."""
        headers = exchange.headers
        if not self.wanted(exchange) or self.registry.known_services(headers.sender) == ():
            return  # the common case: no task for a sender known to have no services
        self.background.spawn(self._copies_of(exchange), headers.request_id)

    async def drain(self) -> None:
        """Wait for every copy in flight (tests: instead of polling for them)."""
        await self.background.drain()

    async def close(self) -> None:
        """Let the copies in flight finish (briefly), then cancel the rest."""
        await self.background.close()

    async def _copies_of(self, exchange: Exchange) -> None:
        headers, request = exchange.headers, exchange.request
        try:
            services = await self.registry.services_of(headers.sender)
        except ScpiError as error:
            log.warning("copies of %s to services not sent: %s", headers.request_id, error)
            return
        wanted = [
            service
            for service in services
            if service.party not in (headers.sender, headers.receiver)
            and service.wants(request.module, request.interface)
        ]
        await asyncio.gather(*(self._copy(exchange, service) for service in wanted))

    async def _copy(self, exchange: Exchange, service: Service) -> None:
        """One copy; whatever goes wrong with it is logged and touches no other copy."""
        headers = exchange.headers
        try:
            # Read now, not from a cache: a revoked agreement stops copies at once.
            if not await self.registry.agrees(headers.sender, service.provider):
                log.info(
                    "no copy of %s to service %s: %s has no standing agreement with it",
                    headers.request_id, service.party, headers.sender,
                )  # fmt: skip
                return
            copy = replace(exchange, request=self._addressed(exchange, service.party))
            target = await self.address(service.party)
            if isinstance(target, LocalParty):  # a peer node applies its party's rules itself
                target.platform.rules.check(headers.sender, copy.request.module, service.party)
            delivered = await self.deliver(copy, target)
        except ScpiError as error:
            log.warning(
                "copy of %s to service %s failed: %s", headers.request_id, service.party, error
            )
            return
        except Exception:  # a copy must never take the node down with it
            log.exception("copy of %s to service %s failed", headers.request_id, service.party)
            return
        log.info(
            "copied %s to service %s (HTTP %d)",
            headers.request_id, service.party, delivered.response.status,
        )  # fmt: skip

    def _addressed(self, exchange: Exchange, service: PartyId) -> ScpiRequest:
        """The request to `service`, re-signed over the new to-headers when it was signed."""
        request, headers = exchange.request, exchange.headers
        copy = replace(
            request, headers=replace(headers, receiver=service, request_id=self.new_request_id())
        )
        if headers.signature is None:
            return copy
        return self.signatures.resign_request(
            copy,
            exchange.spec,
            Notary.decode(headers.signature),
            {
                TO_COUNTRY_CODE_PATH: headers.receiver.country_code,
                TO_PARTY_ID_PATH: headers.receiver.party_id,
            },
        )
