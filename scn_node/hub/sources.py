"""GET All's sources, and one source's page: who is asked, how, and what counts as an answer.

A source is a party on the other side of the module from the requester (`COUNTERPARTS`), other
than the requester: CONNECTED here with the module's SENDER endpoint and rules that let the
requester through, or listed with another node (and, if its listing names the modules it sends,
this one among them); that node applies its party's rules. They are read in one fixed order,
by country code, then party id.

Each source is asked as the requester asks a party directly (FROM = the requester, TO = the
source), so a CPO answers with that eMSP's sessions and CDRs only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from scn_node.hub.delivery import Delivered, Delivery
from scn_node.hub.exchange import Exchange, RemoteParty, Target
from scn_node.hub.message import ScpiRequest
from scn_node.hub.model import PartyResponse
from scn_node.hub.modules import COUNTERPARTS, Family
from scn_node.hub.ports import Platforms, Registry
from scn_node.hub.proxies import target_of
from scn_node.hub.signing import Signatures
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.envelope import read_envelope
from scn_node.scpi.errors import HubError, InvalidParameters, SenderBlocked
from scn_node.scpi.headers import RoutingHeaders
from scn_node.scpi.notary import Notary
from scn_node.scpi.pagination import next_link
from scn_node.scpi.party import PartyId, Role
from scn_node.scpi.versions import InterfaceRole


@dataclass(frozen=True, slots=True)
class SourcePage:
    """One page of one source, as it came (checked, and its signature verified if any)."""

    source: PartyId
    response: PartyResponse
    items: int
    """How many objects its `data` holds."""
    next_url: str | None
    """Its own next link, read against the URL it answered at."""
    notary: Notary | None
    node: str | None = None
    """The URL of the source's node when it is on another one (`next_url` is its proxy URL)."""

    @property
    def total(self) -> int:
        """Its X-Total-Count; a source that sends none counts its first page's objects."""
        raw = self.response.headers.get("x-total-count", "").strip()
        return int(raw) if raw.isdigit() else self.items


class Sources:
    def __init__(
        self,
        platforms: Platforms,
        registry: Registry,
        delivery: Delivery,
        signing: Signatures,
        *,
        node_address: str,
        learn: Callable[[Exchange, Delivered], None] | None = None,
    ) -> None:
        self.platforms = platforms
        self.registry = registry
        self.delivery = delivery
        self.signing = signing
        self.node_address = node_address.lower()
        self.learn = learn  # open routing learns who owns what a source's page lists

    async def of(self, exchange: Exchange) -> tuple[PartyId, ...]:
        """Every source of the requester's GET All of the exchange's module, in order."""
        requester, module = exchange.headers.sender, exchange.request.module
        role = _role_of(exchange)
        roles = COUNTERPARTS.get(role) if role is not None else None
        if roles is None:
            raise InvalidParameters(
                f"GET All via the hub is for parties in the roles "
                f"{', '.join(sorted(COUNTERPARTS))}; {requester} is not one"
            )
        found: set[PartyId] = set()
        for platform in await self.platforms.connected_platforms():
            for held in platform.roles:
                party = held.party
                if held.role not in roles or party == requester or party in found:
                    continue
                try:
                    platform.rules.check(requester, module, party)
                except SenderBlocked:
                    continue  # its rules leave the requester out: not one of its sources
                if await self.platforms.endpoint(platform.id, module, InterfaceRole.SENDER):
                    found.add(party)
        for listed in await self.registry.parties():
            party = listed.party
            elsewhere = listed.node_url and listed.operator.lower() != self.node_address
            sends = not listed.modules_sender or module in listed.modules_sender
            if (
                elsewhere
                and sends
                and party not in found
                and party not in (requester, NODE_PARTY)
                and roles.intersection(listed.roles)
            ):
                found.add(party)
        return tuple(sorted(found, key=lambda p: (p.country_code, p.party_id)))

    async def page(
        self, exchange: Exchange, source: PartyId, target: Target, query: str
    ) -> SourcePage | None:
        """The source's page at `target` (with `query` on its first page), once it is a list;
        None when the source's node says its rules do not let the requester through. Any
        other failure raises, naming the source: the list is never given without it."""
        headers = exchange.headers
        leg = RoutingHeaders(headers.request_id, headers.correlation_id, headers.sender, source)
        request = ScpiRequest(
            "GET", exchange.request.module, InterfaceRole.SENDER, leg, query=query
        )
        delivered = await self.delivery.deliver(request, Family.STANDARD, target)
        response = delivered.response
        envelope = read_envelope(response.body)
        if isinstance(target, RemoteParty) and _blocked_at_its_node(response, envelope, source):
            return None
        data = envelope.get("data") if envelope is not None else None
        status = envelope.get("status_code") if envelope is not None else None
        failed = not isinstance(status, int) or isinstance(status, bool) or status >= 2000
        if not 200 <= response.status < 300 or failed or not isinstance(data, list):
            raise HubError(
                f"GET All source {source} did not answer with its list "
                f"({_what(response, envelope)}); the hub gives no list without it"
            )
        notary = await self.signing.check_response(
            response.body, response.headers, source, exchange.policy
        )
        next_url = None
        next_page = next_link(response.headers.get("link"))
        if next_page is not None:
            next_url = target_of(delivered.url, next_page, "Link", source)
        node = target.node_url if isinstance(target, RemoteParty) else None
        if self.learn is not None:
            self.learn(replace(exchange, request=request), delivered)
        return SourcePage(source, response, len(data), next_url, notary, node)


def _role_of(exchange: Exchange) -> Role | None:
    caller = exchange.caller
    sender = exchange.headers.sender
    if caller is None:
        return None
    return next((r.role for r in caller.platform.roles if r.party == sender), None)


def _blocked_at_its_node(
    response: PartyResponse, envelope: Mapping[str, Any] | None, source: PartyId
) -> bool:
    """The source's node refused the leg because its party's rules do not let the requester
    through: the node's own answer (its signature over the answer was checked on arrival),
    so without the routing headers of a relayed party answer, HTTP 200 and status_code 2000
    (on a standard route only SenderBlocked answers so), saying the source does not accept
    the request. A party's own 2000 comes relayed, with routing headers: a failure."""
    if response.status != 200 or envelope is None or envelope.get("status_code") != 2000:
        return False
    if any(f"{family}-from-country-code" in response.headers for family in ("scpi", "ocpi")):
        return False
    message = envelope.get("status_message")
    return isinstance(message, str) and message.startswith(f"Receiver {source} does not accept")


def _what(response: PartyResponse, envelope: Mapping[str, Any] | None) -> str:
    if envelope is None:
        return f"HTTP {response.status}, not an SCPI envelope"
    message = envelope.get("status_message")
    said = f": {str(message)[:200]}" if message else ""
    return f"HTTP {response.status}, status_code {envelope.get('status_code')}{said}"
