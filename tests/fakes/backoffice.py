"""FakeBackoffice: an SCPI backoffice in memory (the FakeParty of tests/node without a socket).

It serves its versions, the details of each (`versions=["2.2.1"]` makes a 2.2.1-only party,
whose endpoints are under 2.2.1 paths) and every module endpoint under its own base URL; every
request is recorded in `received` and answered by a responder set with `on()`, else with an
echo of what arrived.
"""

from __future__ import annotations

import base64
import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount

from scn_node.hub.model import OutboundRequest, PartyResponse
from scn_node.scpi.party import PartyId, Role
from tests.fakes.transport import response

ALL_MODULES = ("cdrs", "chargingprofiles", "commands", "locations", "sessions", "tariffs", "tokens")
Responder = Callable[["Received"], PartyResponse | Awaitable[PartyResponse]]


@dataclass(frozen=True)
class Received:
    method: str
    path: str  # raw, below the host
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


def answer(
    data: Any = None,
    *,
    status: int = 200,
    status_code: int = 1000,
    headers: dict[str, str] | None = None,
) -> PartyResponse:
    """An SCPI answer: `data` in a success envelope (or another `status_code`)."""
    body = json.dumps(ok(data, status_code)).encode()
    return response(status, body, {"Content-Type": "application/json", **(headers or {})})


@dataclass
class FakeBackoffice:
    party: PartyId
    role: Role
    token_b: str
    modules: tuple[str, ...] = ALL_MODULES
    custom_modules: tuple[str, ...] = ()
    versions: list[str] = field(default_factory=lambda: ["2.2"])
    base64_tokens: bool = False  # expects TOKEN_B Base64-encoded, as OCPI 2.2.1 parties do
    account: LocalAccount | None = None  # its registry account: its signing key
    token_c: str = ""
    received: list[Received] = field(default_factory=list)
    _responders: list[tuple[str, str, Responder]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://{self.party.country_code}-{self.party.party_id}.party.test".lower()

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/scpi/versions"

    @property
    def version(self) -> str:
        """The version the node picks from `versions` (2.2.1 before 2.2): its endpoints' paths."""
        return "2.2.1" if "2.2.1" in self.versions else "2.2"

    def endpoint(self, module: str, interface: str) -> str:
        role = self.role.value.lower()
        return f"{self.base_url}/scpi/{role}/{self.version}/{module}/{interface.lower()}"

    def endpoint_path(self, module: str, interface: str) -> str:
        return self.endpoint(module, interface)[len(self.base_url) :]

    def on(self, method: str, path_prefix: str, responder: Responder) -> None:
        """Answer `method` ("*": any) requests whose path starts with `path_prefix`."""
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

    def authorization(self) -> str:
        """How this party presents its TOKEN_C to the node."""
        token = self.token_c
        if self.base64_tokens:
            token = base64.b64encode(token.encode()).decode()
        return f"Token {token}"

    def module_requests(self) -> list[Received]:
        """What arrived at module endpoints (not the handshake's calls)."""
        return [r for r in self.received if not r.path.startswith(("/scpi/versions", "/scpi/2.2"))]

    async def handle(self, request: OutboundRequest) -> PartyResponse:
        """The backoffice's whole HTTP surface (FakeNetwork serves it at `base_url`)."""
        rest = request.url[len(self.base_url) :]
        path, _, query = rest.partition("?")
        received = Received(request.method, path, query, dict(request.headers), request.body)
        self.received.append(received)
        if not self._authorised(request.headers.get("Authorization", "")):
            return response(401, json.dumps(ok(status_code=2000)).encode())
        for method, prefix, responder in self._responders:
            if method in (request.method, "*") and path.startswith(prefix):
                answered = responder(received)
                return await answered if inspect.isawaitable(answered) else answered
        if path == f"/scpi/{self.version}/credentials":
            if request.method in ("POST", "PUT"):  # the node's own handshake or rotation
                self.token_c = json.loads(request.body)["token"]
            return answer(self.credentials())
        if path == "/scpi/versions":
            return answer([{"version": v, "url": self._details_url(v)} for v in self.versions])
        if path == f"/scpi/{self.version}":
            return answer({"version": self.version, "endpoints": self._endpoints()})
        return answer({"method": request.method, "path": path, "query": query})

    def _authorised(self, presented: str) -> bool:
        expected = self.token_b
        if self.base64_tokens:
            expected = base64.b64encode(expected.encode()).decode()
        return presented == f"Token {expected}"

    def _details_url(self, version: str) -> str:
        # Only 2.2.1 has details of its own; any other version listed points at 2.2's.
        return f"{self.base_url}/scpi/{'2.2.1' if version == '2.2.1' else '2.2'}"

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
