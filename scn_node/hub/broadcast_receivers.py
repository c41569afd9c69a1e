"""Who a broadcast push goes to: the parties here on the other side of the module from the
sender, and (for a party's push here) the other nodes.

A party here receives it when it is CONNECTED (OFFLINE and SUSPENDED parties are skipped, not
queued), is not the sender, has the module's RECEIVER endpoint, holds a role opposite one of
the sender's (`COUNTERPARTS`: a CPO's push goes to eMSPs, NSPs and OTHER parties, theirs to
CPOs), and its rules let the sender through; a party whose rules ask for signed requests gets
only signed pushes. A platform with several such parties gets one leg per party.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from scn_node.hub.exchange import Exchange
from scn_node.hub.model import ListedNode, Platform
from scn_node.hub.modules import COUNTERPARTS
from scn_node.hub.ports import Platforms, Registry
from scn_node.scpi.errors import InvalidParameters, ScpiError, SenderBlocked
from scn_node.scpi.party import PartyId, Role
from scn_node.scpi.versions import InterfaceRole

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Leg:
    """One receiving party here, and the URL its leg goes to."""

    platform: Platform
    party: PartyId
    url: str  # the party's endpoint and the push's path tail


class Receivers:
    def __init__(self, platforms: Platforms, registry: Registry, *, node_address: str) -> None:
        self.platforms = platforms
        self.registry = registry
        self.node_address = node_address

    async def counterparts(self, exchange: Exchange) -> frozenset[Role]:
        """The roles that receive the sender's pushes (a sender in several roles: any of
        theirs); 2001 for a sender in a role the spec names no receivers for."""
        sender, caller = exchange.headers.sender, exchange.caller
        if caller is not None:
            roles = tuple(r.role for r in caller.platform.roles if r.party == sender)
        else:  # a peer's message: its node vouched for the sender, the registry lists it
            listed = await self.registry.party(sender)
            roles = listed.roles if listed is not None else ()
        found: set[Role] = set()
        for role in roles:
            found |= COUNTERPARTS.get(role, frozenset())
        if not found:
            named = ", ".join(sorted(roles)) or "no role"
            raise InvalidParameters(
                f"{sender} holds {named}: only a CPO's, an eMSP's, an NSP's or an OTHER "
                "party's pushes are broadcast (the spec names no receivers for other roles)"
            )
        return frozenset(found)

    async def parties(
        self, exchange: Exchange, counterparts: frozenset[Role], *, signed: bool
    ) -> list[Leg]:
        """Every party here that receives the push, in a fixed order (platform, role)."""
        request, sender = exchange.request, exchange.headers.sender
        legs: list[Leg] = []
        for platform in await self.platforms.connected_platforms():
            parties = [r.party for r in platform.roles if r.role in counterparts]
            parties = [p for p in dict.fromkeys(parties) if p != sender]
            if not parties:
                continue
            url = await self.platforms.endpoint(platform.id, request.module, InterfaceRole.RECEIVER)
            if url is None:
                continue
            for party in parties:
                try:
                    platform.rules.check(sender, request.module, party)
                except SenderBlocked:
                    continue  # as a HubClientInfo push: the rules decide who hears of whom
                if platform.rules.signatures and not signed:
                    log.info("broadcast %s not sent to %s: it wants signed requests",
                             exchange.headers.request_id, party)  # fmt: skip
                    continue
                legs.append(Leg(platform, party, url.rstrip("/") + request.tail))
        return legs

    async def other_nodes(self) -> tuple[ListedNode, ...]:
        """Every node in the registry but this one (none when the registry cannot be read:
        the parties here still get the push)."""
        try:
            nodes = await self.registry.nodes()
        except ScpiError as error:
            log.warning("broadcast not sent to other nodes: %s", error.message)
            return ()
        mine = self.node_address.lower()
        return tuple(node for node in nodes if node.operator.lower() != mine and node.url)
