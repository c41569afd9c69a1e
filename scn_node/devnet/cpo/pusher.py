"""The demo CPO's own SCPI client: what it sends to its node on its own initiative (a command
result to the eMSP's response_url, a CDR to the eMSP's cdrs receiver, and the CDR fetched back;
its locations, tariffs and EVSE status changes broadcast TO the hub, DE SCN)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from scn_node.devnet.joining import json_or_none
from scn_node.devnet.party_server import DemoParty, compact
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.errors import InvalidHeader
from scn_node.scpi.headers import FROM_COUNTRY_CODE, FROM_PARTY_ID, read_party
from scn_node.scpi.party import PartyId


@dataclass(frozen=True)
class Answer:
    """What the node answered: HTTP status, the parsed body (None if not JSON), the raw text."""

    status: int
    body: Any
    text: str
    location: str | None = None
    sender: PartyId | None = None  # who answered: the SCPI-from-* of the answer

    @property
    def status_code(self) -> Any:
        return self.body.get("status_code") if isinstance(self.body, dict) else None

    @property
    def ok(self) -> bool:
        return (
            self.status == 200
            and isinstance(self.body, dict)
            and self.body.get("status_code") == 1000
        )


class Pusher:
    """Requests from `party` (with its current TOKEN_C) to its node."""

    def __init__(self, party: DemoParty, session: aiohttp.ClientSession) -> None:
        self.party = party
        self.session = session

    async def send(self, method: str, url: str, to: PartyId | None, body: Any = None) -> Answer:
        headers = self.party.routing_headers(to)
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = compact(body)
        async with self.session.request(method, url, headers=headers, data=data) as response:
            text = await response.text()
            location = response.headers.get("Location")
            try:
                sender = read_party(response.headers, FROM_COUNTRY_CODE, FROM_PARTY_ID)
            except InvalidHeader:
                sender = None
        return Answer(response.status, json_or_none(text), text, location, sender)

    async def broadcast(self, method: str, module: str, path: str, body: Any) -> Answer:
        """`method` on the RECEIVER interface of `module` at `path` (`{cc}/{pid}/{id}…`, the
        owner in the URL), TO the hub: every connected eMSP on every node gets it."""
        url = f"{self.party.node_url}/scpi/receiver/2.2/{module}/{path}"
        return await self.send(method, url, NODE_PARTY, body)

    async def command_result(
        self, response_url: str, to: PartyId, result: dict[str, Any]
    ) -> Answer:
        return await self.send("POST", response_url, to, result)

    async def cdr(self, to: PartyId, cdr: dict[str, Any]) -> Answer:
        url = f"{self.party.node_url}/scpi/receiver/2.2/cdrs"
        return await self.send("POST", url, to, cdr)

    async def fetch(self, url: str, to: PartyId) -> Answer:
        return await self.send("GET", url, to)
