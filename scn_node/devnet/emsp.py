"""DemoEmsp: an eMSP that receives async command results and CDRs.

    {base}/scpi/emsp/2.2/commands       commands SENDER: async results, POST /{COMMAND}/{uid}
    {base}/scpi/emsp/2.2/cdrs           cdrs RECEIVER: POST stores (Location), GET /{n} returns
    {base}/scpi/emsp/received           demo only, not SCPI: what the eMSP has received so far
                                        (async command results and CDRs), for Postman and curl

Whoever registers it with a node sets its `token_c` (the tutorial's user does it by hand).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from scn_node.devnet.party_server import VERSION, DemoParty, compact, reply, sender_of
from scn_node.scpi.party import PartyId, Role
from scn_node.scpi.status import ScpiStatus

log = logging.getLogger("scn_node.devnet.demo")


class DemoEmsp(DemoParty):
    """An eMSP that receives async command results and CDRs. Whoever registers it sets token_c."""

    role = Role.EMSP

    def __init__(
        self, party: PartyId, node_url: str, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__(party, node_url, host=host, port=port)
        self.command_results: list[dict[str, Any]] = []
        self.cdrs: list[dict[str, Any]] = []
        self._response_ids = 0

    def modules(self) -> list[tuple[str, str]]:
        return [("commands", "SENDER"), ("cdrs", "RECEIVER")]

    def routes(self) -> list[web.RouteDef]:
        base = f"{self.prefix}/{VERSION}"
        return [
            web.post(f"{base}/commands/{{command}}/{{uid}}", self._command_result),
            web.post(f"{base}/cdrs", self._post_cdr),
            web.get(f"{base}/cdrs/{{number}}", self._get_cdr),
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

    async def _received(self, request: web.Request) -> web.Response:
        """A debug view for the demo, not an SCPI module: the async command results and CDRs
        this eMSP has received, oldest first, so Postman and curl users can see them arrive."""
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
        return reply({"command_results": results, "cdrs": cdrs})

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


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode(errors="replace"))
    except ValueError:
        return None
