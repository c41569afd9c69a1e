"""GET All via the hub: one list from every source party, page by page.

A party's GET of a module's list with SCPI-to-* = the hub (`Scenario.GET_ALL`) is answered:

* for modules whose objects are broadcast to the hub (`GetAll.STORED`), from the kept objects
  (`StoredObjects`) when the node keeps any of that module;
* otherwise from the sources (`hub/sources.py`): every source's first page is asked for at once,
  for the totals (and relayed in its turn, when that comes within PROBED_SECONDS); the requester
  then gets one source's page per hub page, its body relayed byte for byte, in the sources'
  order. A hub page's `Link` is a cursor proxy (`hub/cursor.py`):
  following it continues that source (its own next link) and then moves to the next source; a
  source whose first page is empty is passed over. `X-Total-Count` is the sum of the sources'
  totals; `X-Limit` is the hub's `HUB_LIMIT`, and the requester's `limit` (at most that) is
  what each source is asked for.
* A source that cannot be reached, times out or answers anything but its list fails the whole
  page, naming it: a list answer means "everything else is gone", and an eMSP given a list
  without one CPO would delete that CPO's objects. A source's node that refuses the leg under its
  party's rules (the requester is blocked) leaves that source out instead.
* No source at all: 200/1000 with an empty list and X-Total-Count 0 (the truth).

Answers are FROM the hub, TO the requester. A signed source page stays signed: the node re-signs
it over the headers it changed (Link, X-Total-Count, X-Limit), keeping the source's values.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from urllib.parse import parse_qsl, urlencode

from scn_node.hub.copies import ServiceCopies
from scn_node.hub.cursor import Cursor, NotACursor
from scn_node.hub.delivery import Delivered, Delivery
from scn_node.hub.exchange import Exchange, LocalParty, RemoteParty, Target
from scn_node.hub.message import ScpiReply
from scn_node.hub.model import Proxy
from scn_node.hub.modules import GetAll
from scn_node.hub.ports import Platforms, Registry
from scn_node.hub.proxies import ProxyBook
from scn_node.hub.router import Router
from scn_node.hub.signing import LINK_PATH, X_LIMIT_PATH, X_TOTAL_COUNT_PATH, Signatures
from scn_node.hub.sources import SourcePage, Sources
from scn_node.hub.stored import StoredObjects
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.envelope import encode, envelope
from scn_node.scpi.errors import ConnectionProblem, HubError, ResourceNotFound
from scn_node.scpi.headers import (
    ANSWER_HEADER_NAMES,
    CORRELATION_ID,
    REQUEST_ID,
    routing_pair,
)
from scn_node.scpi.notary import response_values, sign_with
from scn_node.scpi.pagination import Page, link_header
from scn_node.scpi.party import PartyId

# The hub's X-Limit: the largest page it asks a source for (a source may send fewer, as the
# spec allows any server to). One hub page is one source's page, so it bounds a hub page too.
HUB_LIMIT = 1000
PROBES = 16  # sources asked for their first page at once
# A later source's first page, fetched for the totals, is relayed in its turn if that comes
# this soon (to this process): a source is not asked for the same page twice in one sync.
PROBED_SECONDS = 60.0
MAX_PROBED = 4096

ProbeKey = tuple[PartyId, str, PartyId, str]  # requester, module, source, query
_REWRITTEN = {"link": LINK_PATH, "x-total-count": X_TOTAL_COUNT_PATH, "x-limit": X_LIMIT_PATH}


class GetAllPages:
    def __init__(
        self,
        platforms: Platforms,
        registry: Registry,
        router: Router,
        delivery: Delivery,
        signing: Signatures,
        proxies: ProxyBook,
        *,
        copies: ServiceCopies,
        stored: StoredObjects,
        node_address: str,
        learn: Callable[[Exchange, Delivered], None] | None = None,
    ) -> None:
        self.sources = Sources(
            platforms, registry, delivery, signing, node_address=node_address, learn=learn
        )
        self.router = router
        self.proxies = proxies
        self.signing = signing
        self.copies = copies
        self.stored = stored
        self._probed: OrderedDict[ProbeKey, tuple[float, SourcePage]] = OrderedDict()

    async def page(self, exchange: Exchange) -> ScpiReply:
        """A GET All's page: the first (a list GET TO the hub) or the next (its cursor proxy)."""
        # The request's own signature (to the hub), as the node checks any: the legs are the
        # hub's requests and carry none (hub/sources.py).
        await self.signing.check_request(exchange.request, exchange.spec, exchange.policy)
        if exchange.proxy is not None:
            return await self._follow(exchange, exchange.proxy)
        if exchange.spec.get_all is GetAll.STORED:
            stored = await self.stored.page(exchange)
            if stored is not None:
                self.copies.send(exchange)
                return stored
        query = _passed_on(exchange.request.query)
        sources = await self.sources.of(exchange)
        self.copies.send(exchange)  # the one request the requester sent, never the legs
        firsts = await self._probe(exchange, sources, query)
        pages = [page for page in firsts if page is not None]  # blocked sources left out
        if not pages:
            return self._empty(exchange)
        start = next((i for i, page in enumerate(pages) if page.items), len(pages) - 1)
        for page in pages[start + 1 :]:
            self._keep_probed(exchange, page, query)
        totals = tuple(page.total for page in pages)
        cursor = Cursor(tuple(page.source for page in pages), start, None, None, totals, query)
        return await self._answer(exchange, cursor, pages[start])

    async def _probe(
        self, exchange: Exchange, sources: Sequence[PartyId], query: str
    ) -> list[SourcePage | None]:
        """Every source's first page, asked at once (at most PROBES in flight); the first
        failure in the sources' order fails them all."""
        bound = asyncio.Semaphore(PROBES)

        async def first(source: PartyId) -> SourcePage | None:
            async with bound:
                return await self.sources.page(
                    exchange, source, await self.router.find(source), query
                )

        results = await asyncio.gather(*(first(s) for s in sources), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [r for r in results if not isinstance(r, BaseException)]

    async def _follow(self, exchange: Exchange, proxy: Proxy) -> ScpiReply:
        """The page a cursor's Link stands for; sources whose first page is now empty are
        passed over, up to the last one."""
        try:
            cursor = Cursor.decode(proxy.url)
        except NotACursor:
            raise ResourceNotFound(f"No proxied resource {proxy.uid}") from None
        while True:
            target = await self._target(cursor)
            query = cursor.query if cursor.next_url is None else ""
            page = None if cursor.next_url else self._probed_page(exchange, cursor)
            page = page or await self.sources.page(exchange, cursor.source, target, query)
            if page is None:
                raise HubError(
                    f"GET All source {cursor.source} no longer lets {exchange.headers.sender} "
                    "read its list; start the GET All again"
                )
            last = cursor.index + 1 == len(cursor.sources)
            if page.items or cursor.next_url is not None or last:
                return await self._answer(exchange, cursor, page)
            cursor = cursor.at(cursor.index + 1)

    def _keep_probed(self, exchange: Exchange, page: SourcePage, query: str) -> None:
        key = (exchange.headers.sender, exchange.request.module, page.source, query)
        self._probed[key] = (time.monotonic() + PROBED_SECONDS, page)
        self._probed.move_to_end(key)
        while len(self._probed) > MAX_PROBED:
            self._probed.popitem(last=False)

    def _probed_page(self, exchange: Exchange, cursor: Cursor) -> SourcePage | None:
        """The source's first page as it was fetched for the totals, once, if still fresh."""
        key = (exchange.headers.sender, exchange.request.module, cursor.source, cursor.query)
        kept = self._probed.pop(key, None)
        if kept is None or kept[0] < time.monotonic():
            return None
        return kept[1]

    async def _target(self, cursor: Cursor) -> Target:
        """Where the cursor's page is: the source's module endpoint, or the next link it gave
        (a party URL here, or a proxy URL of the source's node). A source that moved between
        nodes since cannot go on: the link it gave is no longer where it is."""
        target = await self.router.find(cursor.source)
        node = target.node_url if isinstance(target, RemoteParty) else None
        if cursor.next_url is None:
            return target
        if node != cursor.node:
            raise ConnectionProblem(
                f"GET All source {cursor.source} moved to another node since the last page; "
                "start the GET All again"
            )
        if isinstance(target, LocalParty):
            return LocalParty(target.platform, cursor.next_url)
        prefix = self.proxies.url("", target.node_url)
        if not cursor.next_url.startswith(prefix):
            raise ConnectionProblem(
                f"GET All source {cursor.source}'s node gave a next page outside it"
            )
        uid = cursor.next_url[len(prefix) :]
        return RemoteParty(target.node_url, target.operator, uid, cursor.next_url)

    async def _answer(self, exchange: Exchange, cursor: Cursor, page: SourcePage) -> ScpiReply:
        """The source's page as the hub's: its body as it came, the hub's Link, X-Total-Count
        and X-Limit, re-signed over them if the source signed it."""
        response, headers = page.response, exchange.headers
        reply = {}
        if "content-type" in response.headers:
            reply[ANSWER_HEADER_NAMES["content-type"]] = response.headers["content-type"]
        reply["X-Total-Count"] = str(cursor.total)
        reply["X-Limit"] = str(HUB_LIMIT)
        following = cursor.following(page.next_url, page.node)
        if following is not None:
            url = await self.proxies.cursor_for(headers.sender, exchange.request.module, following)
            reply["Link"] = link_header(url)
        body = response.body
        if page.notary is not None:
            signed = {k.lower(): v for k, v in reply.items()}
            rewritten = {
                path: response.headers.get(name)
                for name, path in _REWRITTEN.items()
                if response.headers.get(name) != signed.get(name)
            }
            if rewritten:
                body = self.signing.resign_response(body, signed, page.notary, rewritten)
        return ScpiReply(response.status, body, {**reply, **_hub_to(exchange)})

    def _empty(self, exchange: Exchange) -> ScpiReply:
        """No source: the hub's own empty list (signed when the requester wants signed
        answers or the node requires them)."""
        body = envelope([])
        headers = {"X-Total-Count": "0", "X-Limit": str(HUB_LIMIT)}
        if exchange.policy.answer_required:
            values = response_values(envelope=body, limit=str(HUB_LIMIT), total_count="0")
            wallet = self.signing.wallet
            body["scn_signature"] = sign_with(values, wallet.sign, wallet.address).encode()
        headers["Content-Type"] = "application/json"
        return ScpiReply(200, encode(body), {**headers, **_hub_to(exchange)})


def _passed_on(query: str) -> str:
    """What each source's first page is asked with: the requester's date filters and its
    limit (at most the hub's). Its offset is into the hub's list, not a source's: the hub
    pages through each source by the source's own links instead."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    page = Page.parse(params, max_limit=HUB_LIMIT)  # refuses malformed values (2001)
    kept = {k: params[k] for k in ("date_from", "date_to") if params.get(k)}
    if params.get("limit"):
        kept["limit"] = str(page.limit)
    return urlencode(kept)


def _hub_to(exchange: Exchange) -> dict[str, str]:
    headers = exchange.headers
    return {
        REQUEST_ID: headers.request_id,
        CORRELATION_ID: headers.correlation_id,
        **routing_pair(NODE_PARTY, headers.sender),
    }
