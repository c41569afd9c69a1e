"""The RECEIVER side of the client-owned modules a demo party takes pushes on: the eMSP gets
the CPOs' locations and tariffs, the CPOs get the eMSP's tokens, each FROM the hub when the
owner broadcast them TO the hub. A push is recorded and accepted; nothing else is done with it.

    PUT|PATCH|DELETE {base}/{module}/{country_code}/{party_id}/{id}[/{evse_uid}[/{connector}]]
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from scn_node.devnet.party_server import reply, sender_of
from scn_node.devnet.recorder import Recorder
from scn_node.scpi.errors import InvalidHeader
from scn_node.scpi.headers import TO_COUNTRY_CODE, TO_PARTY_ID, read_party
from scn_node.scpi.status import ScpiStatus

log = logging.getLogger("scn_node.devnet.demo")


class ReceivedPushes:
    """The pushes one demo party received, oldest first, also recorded as "push" events."""

    def __init__(self, label: str, record: Recorder, modules: Sequence[str]) -> None:
        self.label = label
        self.record = record
        self.modules = tuple(modules)
        self.entries: list[dict[str, Any]] = []

    def routes(self, base: str) -> list[web.RouteDef]:
        """The routes below `base` (`{prefix}/2.2`) of every module this party receives."""
        owner = f"{base}/{{module:{'|'.join(self.modules)}}}/{{country_code}}/{{party_id}}"
        return [
            web.route(method, f"{owner}/{{object_path:.+}}", self._received)
            for method in ("PUT", "PATCH", "DELETE")
        ]

    def view(self) -> list[dict[str, Any]]:
        """The entries as JSON: parties as "CC PID"."""
        return [
            {**entry, "sender": _text(entry["sender"]), "receiver": _text(entry["receiver"])}
            for entry in self.entries
        ]

    async def _received(self, request: web.Request) -> web.Response:
        info = request.match_info
        raw = await request.read()
        body = _json_or_none(raw) if raw else None
        if request.method != "DELETE" and not isinstance(body, dict):
            return reply(
                status=ScpiStatus.INVALID_PARAMETERS,
                message="The body is not a JSON object",
                http_status=400,
            )
        try:
            receiver = read_party(request.headers, TO_COUNTRY_CODE, TO_PARTY_ID)
        except InvalidHeader:
            receiver = None
        entry = {
            "method": request.method,
            "module": info["module"],
            "path": f"{info['country_code']}/{info['party_id']}/{info['object_path']}",
            "sender": sender_of(request),
            "receiver": receiver,
            "body": body,
        }
        self.entries.append(entry)
        log.info(
            "%s received %s %s/%s from %s",
            self.label, request.method, entry["module"], entry["path"], entry["sender"],
        )  # fmt: skip
        self.record.record("push", **entry)
        return reply()


def _text(value: object) -> str | None:
    return str(value) if value is not None else None


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode(errors="replace"))
    except ValueError:
        return None
