"""DemoEmsp: an eMSP that receives async command results, CDRs and broadcast pushes, and syncs
every CPO's locations with one GET All.

    {base}/scpi/emsp/2.2/commands       commands SENDER: async results, POST /{COMMAND}/{uid}
    {base}/scpi/emsp/2.2/cdrs           cdrs RECEIVER: POST stores (Location), GET /{n} returns
    {base}/scpi/emsp/2.2/locations      locations RECEIVER: PUT/PATCH /{cc}/{pid}/{id}[/{evse}…]
    {base}/scpi/emsp/2.2/tariffs        tariffs RECEIVER: PUT/PATCH/DELETE /{cc}/{pid}/{id}
    {base}/scpi/emsp/2.2/tokens         tokens SENDER: POST /{uid}/authorize (real-time
                                        authorization of its driver's token 012345678)
    {base}/scpi/emsp/received           demo only, not SCPI: what the eMSP has received so far
                                        (async command results, CDRs, pushes), for Postman and curl

The CPOs broadcast their pushes TO the hub, so they reach this eMSP FROM the hub (DE SCN) with
the owner in the URL. `sync` is the other half: a GET All TO the hub, Link after Link.
`broadcast_token` pushes the driver's token TO the hub, so every CPO knows it, and the hub
learns whose it is: a CPO's authorization request without SCPI-to-* then finds this eMSP.

Whoever registers it with a node sets its `token_c` (the tutorial's user does it by hand).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from scn_node.devnet.data import demo_token
from scn_node.devnet.party_server import VERSION, DemoParty, compact, reply, sender_of
from scn_node.devnet.pushes import ReceivedPushes
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.errors import InvalidHeader
from scn_node.scpi.headers import (
    FROM_COUNTRY_CODE,
    FROM_PARTY_ID,
    TO_COUNTRY_CODE,
    TO_PARTY_ID,
    read_party,
)
from scn_node.scpi.party import PartyId, Role
from scn_node.scpi.status import ScpiStatus

log = logging.getLogger("scn_node.devnet.demo")
PUSHED_MODULES = ("locations", "tariffs")  # what CPOs broadcast that this eMSP receives
MAX_PAGES = 1000  # a sync that never ends is a bug in the hub: stop and say so


@dataclass(frozen=True)
class Page:
    """One page of a GET All as the node answered it."""

    url: str
    status: int
    status_code: Any
    sender: PartyId | None  # SCPI-from-* of the answer: the hub, for a GET All
    total: int | None  # X-Total-Count
    next_url: str | None  # the Link rel="next", if any
    data: list[Any]


@dataclass
class Synced:
    """A GET All followed to its end (or to the first page that was not a success)."""

    module: str
    pages: list[Page] = field(default_factory=list)

    @property
    def objects(self) -> list[Any]:
        return [item for page in self.pages for item in page.data]

    @property
    def ok(self) -> bool:
        return bool(self.pages) and all(
            p.status == 200 and p.status_code == 1000 for p in self.pages
        )


class DemoEmsp(DemoParty):
    """An eMSP that receives async command results and CDRs. Whoever registers it sets token_c."""

    role = Role.EMSP

    def __init__(
        self, party: PartyId, node_url: str, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__(party, node_url, host=host, port=port)
        self.command_results: list[dict[str, Any]] = []
        self.cdrs: list[dict[str, Any]] = []
        self.pushes = ReceivedPushes(self.label, self.record, PUSHED_MODULES)
        self.token = demo_token(party)  # the driver's RFID card this eMSP issued
        self._response_ids = 0

    def modules(self) -> list[tuple[str, str]]:
        return [
            ("commands", "SENDER"),
            ("cdrs", "RECEIVER"),
            *((module, "RECEIVER") for module in PUSHED_MODULES),
            ("tokens", "SENDER"),
        ]

    def routes(self) -> list[web.RouteDef]:
        base = f"{self.prefix}/{VERSION}"
        return [
            web.post(f"{base}/commands/{{command}}/{{uid}}", self._command_result),
            web.post(f"{base}/cdrs", self._post_cdr),
            web.get(f"{base}/cdrs/{{number}}", self._get_cdr),
            web.post(f"{base}/tokens/{{uid}}/authorize", self._authorize),
            *self.pushes.routes(base),
            web.get(f"{self.prefix}/received", self._received),
        ]

    def response_url(self, command: str) -> str:
        """A fresh `response_url` for a command this eMSP sends (the tutorial's …/STOP_SESSION/2)."""
        self._response_ids += 1
        return f"{self.module_url('commands')}/{command}/{self._response_ids}"

    async def _command_result(self, request: web.Request) -> web.Response:
        result = _json_or_none(await request.read())
        if result is None:
            return reply(
                status=ScpiStatus.INVALID_PARAMETERS,
                message="The body is not JSON",
                http_status=400,
            )
        log.info("%s received async command response: %s", self.label, compact(result))
        entry = {
            "command": request.match_info["command"],
            "uid": request.match_info["uid"],
            "result": result,
            "sender": sender_of(request),
        }
        self.command_results.append(entry)
        self.record.record("command-result", **entry)
        return reply()

    async def _post_cdr(self, request: web.Request) -> web.Response:
        cdr = _json_or_none(await request.read())
        if not isinstance(cdr, dict):
            return reply(
                status=ScpiStatus.INVALID_PARAMETERS,
                message="The body is not a CDR object",
                http_status=400,
            )
        self.cdrs.append(cdr)
        number = len(self.cdrs)
        location = f"{self.module_url('cdrs')}/{number}"
        log.info("%s stored cdr %s as %s", self.label, cdr.get("id"), location)
        self.record.record("cdr-stored", number=number, cdr=cdr, sender=sender_of(request))
        return reply(headers={"Location": location})

    async def _authorize(self, request: web.Request) -> web.Response:
        """Real-time authorization: ALLOWED for this eMSP's driver's token, else unknown."""
        uid, kind = request.match_info["uid"], request.query.get("type", "RFID")
        try:
            receiver = read_party(request.headers, TO_COUNTRY_CODE, TO_PARTY_ID)
        except InvalidHeader:
            receiver = None
        known = uid == self.token["uid"] and kind == self.token["type"]
        log.info(
            "%s asked by %s to authorize token %s: %s",
            self.label, sender_of(request), uid, "ALLOWED" if known else "unknown",
        )  # fmt: skip
        self.record.record(
            "authorize", uid=uid, sender=sender_of(request), receiver=receiver, known=known
        )
        if not known:
            return reply(
                status=ScpiStatus.UNKNOWN_TOKEN, message=f"Unknown token {uid}", http_status=404
            )
        return reply({"allowed": "ALLOWED", "token": self.token})

    async def broadcast_token(
        self, session: aiohttp.ClientSession
    ) -> tuple[int, Any, PartyId | None]:
        """PUT the driver's token TO the hub: every CPO gets it. The HTTP status, the body and
        who answered (SCPI-from-*)."""
        token = self.token
        url = (
            f"{self.node_url}/scpi/receiver/{VERSION}/tokens/"
            f"{token['country_code']}/{token['party_id']}/{token['uid']}"
        )
        headers = {**self.routing_headers(NODE_PARTY), "Content-Type": "application/json"}
        async with session.put(url, headers=headers, data=compact(token)) as answer:
            body = _json_or_none(await answer.read())
            sender = _answered_by(answer)
        self.record.record("token-broadcast", status=answer.status, body=body, answered_by=sender)
        return answer.status, body, sender

    async def sync(
        self, session: aiohttp.ClientSession, module: str = "locations", *, limit: int = 0
    ) -> Synced:
        """A GET All of `module` TO the hub: the first page (of at most `limit` objects, when
        given), then every Link to the end."""
        synced = Synced(module)
        query = f"?limit={limit}" if limit else ""
        url: str | None = f"{self.node_url}/scpi/sender/{VERSION}/{module}{query}"
        while url is not None:
            if len(synced.pages) >= MAX_PAGES:
                raise RuntimeError(f"GET All of {module}: still a Link after {MAX_PAGES} pages")
            async with session.get(url, headers=self.routing_headers(NODE_PARTY)) as answer:
                body = _json_or_none(await answer.read())
                sender = _answered_by(answer)
                link = answer.links.get("next")
                total = answer.headers.get("X-Total-Count")
                page = Page(
                    url=url,
                    status=answer.status,
                    status_code=body.get("status_code") if isinstance(body, dict) else None,
                    sender=sender,
                    total=int(total) if total and total.isdigit() else None,
                    next_url=str(link["url"]) if link else None,
                    data=(body.get("data") if isinstance(body, dict) else None) or [],
                )
            synced.pages.append(page)
            self.record.record("sync-page", module=module, page=page)
            if page.status != 200 or page.status_code != 1000:
                log.warning("%s GET All %s: %s %s", self.label, module, page.status, body)
                break
            url = page.next_url
        log.info(
            "%s GET All %s: %d objects in %d page(s)",
            self.label, module, len(synced.objects), len(synced.pages),
        )  # fmt: skip
        return synced

    async def _received(self, request: web.Request) -> web.Response:
        """A debug view for the demo, not an SCPI module: the async command results, CDRs and
        pushes this eMSP has received, oldest first, so Postman and curl users see them arrive."""
        results = [
            {**entry, "sender": str(entry["sender"]) if entry["sender"] else None}
            for entry in self.command_results
        ]
        cdrs = [
            {
                "number": number,
                "location": f"{self.module_url('cdrs')}/{number}",
                **{key: cdr.get(key) for key in ("country_code", "party_id", "id", "session_id")},
            }
            for number, cdr in enumerate(self.cdrs, 1)
        ]
        return reply({"command_results": results, "cdrs": cdrs, "pushes": self.pushes.view()})

    async def _get_cdr(self, request: web.Request) -> web.Response:
        number = request.match_info["number"]
        if not number.isdigit() or not 1 <= int(number) <= len(self.cdrs):
            return reply(
                status=ScpiStatus.UNKNOWN_LOCATION,  # 2003 "unknown object", as the node's lookups
                message=f"Unknown cdr {number}",
                http_status=404,
            )
        cdr = self.cdrs[int(number) - 1]
        self.record.record("cdr-fetched", number=int(number), sender=sender_of(request))
        return reply(cdr)


def _answered_by(answer: aiohttp.ClientResponse) -> PartyId | None:
    """The SCPI-from-* of a node's answer: who answered."""
    try:
        return read_party(answer.headers, FROM_COUNTRY_CODE, FROM_PARTY_ID)
    except InvalidHeader:
        return None


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode(errors="replace"))
    except ValueError:
        return None
