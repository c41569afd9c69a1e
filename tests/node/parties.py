"""FakeParty: a real SCPI backoffice on a loopback port that records what it receives."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from scn_node.devnet.serving import serve_on_socket
from scn_node.scpi.headers import CORRELATION_ID, REQUEST_ID, routing_pair
from scn_node.scpi.party import PartyId, Role

Responder = Callable[[web.Request, "Received"], Awaitable[web.StreamResponse]]
ALL_MODULES = ("cdrs", "chargingprofiles", "commands", "locations", "sessions", "tariffs", "tokens")


@dataclass(frozen=True)
class Received:
    method: str
    path: str  # raw, as it arrived
    query: str  # raw
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def ok(data: Any = None, status_code: int = 1000) -> dict[str, Any]:
    body: dict[str, Any] = {"status_code": status_code, "timestamp": "2026-11-23T10:00:00Z"}
    if data is not None:
        body["data"] = data
    return body


@dataclass
class FakeParty:
    """One backoffice with one role, serving versions, version details and module endpoints.

    Module endpoints live at `{base}/scpi/{role}/2.2/{module}/{sender|receiver}`; every request
    to them is recorded in `received` and answered by the responder set with `on()`, else
    with an echo of what arrived.
    """

    party: PartyId
    role: Role
    token_b: str
    modules: tuple[str, ...] = ALL_MODULES
    base64_tokens: bool = False  # expect TOKEN_B Base64-encoded, as OCPI 2.2.1 parties do
    versions: list[str] = field(default_factory=lambda: ["2.2"])
    received: list[Received] = field(default_factory=list)
    custom_modules: tuple[str, ...] = ()
    token_c: str = ""
    account: Any = None  # the registry account it is listed with: its signing key
    # A node-initiated handshake: the TOKEN_A this party issued for the node (taken like
    # TOKEN_B), the TOKEN_B it answers the node's credentials with next (rotation), and the
    # HTTP status of the node's versions, read with the TOKEN_C the node sent, before answering.
    token_a: str = ""
    next_token_b: str = ""
    node_versions_status: int = 0
    _responders: list[tuple[str, str, Responder]] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    base_url: str = ""
    port: int = 0  # 0: a free port; after start, the port it listens on (a restart keeps it)

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/scpi/versions"

    @property
    def version(self) -> str:
        """The version whose paths this backoffice serves its endpoints at: its first."""
        return self.versions[0]

    def endpoint(self, module: str, interface: str) -> str:
        role, version = self.role.value.lower(), self.version
        return f"{self.base_url}/scpi/{role}/{version}/{module}/{interface.lower()}"

    def endpoint_path(self, module: str, interface: str) -> str:
        return self.endpoint(module, interface)[len(self.base_url) :]

    def on(self, method: str, path_prefix: str, responder: Responder) -> None:
        """Answer `method` requests whose path starts with `path_prefix` with `responder`."""
        self._responders.insert(0, (method, path_prefix, responder))

    def credentials(self, token: str | None = None) -> dict[str, Any]:
        return {
            "token": token or self.token_b,
            "url": self.versions_url,
            "roles": [
                {
                    "role": self.role.value,
                    "business_details": {"name": f"Test {self.party}"},
                    "party_id": self.party.party_id,
                    "country_code": self.party.country_code,
                }
            ],
        }

    def present(self, token: str) -> str:
        """A token as this party writes it in an Authorization header (OCPI 2.2.1 parties
        Base64-encode it)."""
        return base64.b64encode(token.encode()).decode() if self.base64_tokens else token

    def authorization(self) -> str:
        """How this party presents its TOKEN_C to the node."""
        return f"Token {self.present(self.token_c)}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner, self.base_url = await serve_on_socket(app, "127.0.0.1", self.port)
        self.port = int(self.base_url.rsplit(":", 1)[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _authorised(self, request: web.Request) -> bool:
        presented = request.headers.get("Authorization")
        return any(
            expected and presented == f"Token {self.present(expected)}"
            for expected in (self.token_b, self.token_a)
        )

    async def _credentials(self, request: web.Request) -> web.StreamResponse:
        """The node's POST (node-initiated handshake) or PUT (rotation) of its credentials:
        read the node's versions with the new TOKEN_C, as OCPI asks, then answer with ours."""
        if request.method == "DELETE":  # the node refused what we answered: kept to test with
            return web.json_response(ok())
        sent = json.loads(await request.read())
        self.token_c = sent["token"]
        async with (
            aiohttp.ClientSession() as session,
            session.get(sent["url"], headers={"Authorization": self.authorization()}) as answer,
        ):
            self.node_versions_status = answer.status
        if self.next_token_b:
            self.token_b, self.next_token_b = self.next_token_b, ""
        return web.json_response(ok(self.credentials()))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.raw_path.split("?", 1)[0]
        received = Received(
            request.method,
            raw_path,
            request.rel_url.raw_query_string,
            dict(request.headers),
            await request.read(),
        )
        self.received.append(received)
        if not self._authorised(request):
            return web.json_response(ok(status_code=2000), status=401)
        for method, prefix, responder in self._responders:
            if method in (request.method, "*") and raw_path.startswith(prefix):
                return await responder(request, received)
        if raw_path == f"/scpi/{self.version}/credentials":
            return await self._credentials(request)
        if raw_path == "/scpi/versions":
            listed = [{"version": v, "url": f"{self.base_url}/scpi/{v}"} for v in self.versions]
            return web.json_response(ok(listed))
        if raw_path.removeprefix("/scpi/") in self.versions:
            version = raw_path.removeprefix("/scpi/")
            return web.json_response(ok({"version": version, "endpoints": self._endpoints()}))
        return web.json_response(
            ok({"method": request.method, "path": raw_path, "query": received.query})
        )

    def _endpoints(self) -> list[dict[str, str]]:
        endpoints = [
            {
                "identifier": "credentials",
                "role": "SENDER",
                "url": f"{self.base_url}/scpi/{self.version}/credentials",
            }
        ]
        for module in (*self.modules, *self.custom_modules):
            for interface in ("SENDER", "RECEIVER"):
                endpoints.append(
                    {
                        "identifier": module,
                        "role": interface,
                        "url": self.endpoint(module, interface),
                    }
                )
        return endpoints

    def module_requests(self) -> list[Received]:
        """What arrived at module endpoints (not the handshake's versions calls)."""
        return [r for r in self.received if not r.path.startswith(("/scpi/versions", "/scpi/2.2"))]


def request_headers(
    sender: FakeParty,
    receiver: FakeParty | PartyId,
    *,
    family: str = "SCPI",
    request_id: str = "req-1",
    correlation_id: str = "corr-1",
) -> dict[str, str]:
    """The headers of a routed request `sender` makes to `receiver`: its TOKEN_C, the message
    ids, and the routing headers of one `family` only (SCPI or OCPI), so a test of one family
    is not helped by the other."""
    to = receiver.party if isinstance(receiver, FakeParty) else receiver
    prefix = f"{family}-"
    return {
        "Authorization": sender.authorization(),
        REQUEST_ID: request_id,
        CORRELATION_ID: correlation_id,
        **{k: v for k, v in routing_pair(sender.party, to).items() if k.startswith(prefix)},
    }
