"""DemoParty: the aiohttp server, token check and request log every demo backoffice shares.

Each demo party serves only its own role's tree under `/scpi/{role}` (versions, 2.2 details,
credentials) plus the module routes its subclass adds. Every request must carry
`Authorization: Token <its TOKEN_B>` (plain, or Base64 as OCPI 2.2.1 platforms send it);
anything else gets HTTP 401 / 2000. Each request is logged in the tutorial's words
(`EMSP [DE MSP] -- POST /scpi/emsp/2.2/cdrs 200 59 - 0.487 ms`) and recorded.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from scn_node.devnet.recorder import Event, Recorder
from scn_node.devnet.serving import serve_on_socket
from scn_node.scpi import envelope as scpi_envelope
from scn_node.scpi.errors import InvalidHeader
from scn_node.scpi.headers import (
    CORRELATION_ID,
    FAMILIES,
    FROM_COUNTRY_CODE,
    FROM_PARTY_ID,
    REQUEST_ID,
    read_party,
    routing_header,
    routing_pair,
)
from scn_node.scpi.party import PartyId, Role
from scn_node.scpi.status import ScpiStatus

log = logging.getLogger("scn_node.devnet.demo")
VERSION = "2.2"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def reply(
    data: Any = None,
    *,
    status: ScpiStatus = ScpiStatus.SUCCESS,
    message: str | None = None,
    http_status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An SCPI answer: the envelope around `data`."""
    body = scpi_envelope.encode(scpi_envelope.envelope(data, status, message))
    return web.Response(
        body=body, status=http_status, headers=headers, content_type="application/json"
    )


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def sender_of(request: web.Request) -> PartyId | None:
    """The party named in the SCPI-from-* (or OCPI-from-*) headers, if they name one."""
    try:
        return read_party(request.headers, FROM_COUNTRY_CODE, FROM_PARTY_ID)
    except InvalidHeader:
        return None


class DemoParty:
    """A demo backoffice: one party with one role on its own aiohttp server."""

    role: Role

    def __init__(self, party: PartyId, node_url: str, *, host: str, port: int) -> None:
        self.party = party
        self.node_url = node_url.rstrip("/")
        self.host = host
        self.port = port
        self.token_b = str(uuid.uuid4())
        self.token_c = ""
        self.base_url = ""
        self.record = Recorder()
        self._runner: web.AppRunner | None = None

    # -- identity and URLs

    @property
    def label(self) -> str:
        return f"{self.role.value} [{self.party}]"

    @property
    def prefix(self) -> str:
        return f"/scpi/{self.role.value.lower()}"

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}{self.prefix}/versions"

    @property
    def tutorial_versions_url(self) -> str:
        """The versions URL as the tutorial (and the Postman environment) spells it."""
        return f"http://localhost:{self.port}{self.prefix}/versions"

    @property
    def details_url(self) -> str:
        return f"{self.base_url}{self.prefix}/{VERSION}"

    def module_url(self, module: str) -> str:
        return f"{self.details_url}/{module}"

    @property
    def events(self) -> list[Event]:
        return self.record.events

    async def wait_for(self, kind: str, count: int = 1, within: float = 30.0) -> Event:
        return await self.record.wait_for(kind, count, within)

    def credentials(self, token_b: str | None = None) -> dict[str, Any]:
        """The Credentials body this party presents (with its TOKEN_B unless told otherwise)."""
        name = "Demo CPO" if self.role is Role.CPO else "Demo eMSP"
        return {
            "token": token_b or self.token_b,
            "url": self.versions_url,
            "roles": [
                {
                    "role": self.role.value,
                    "business_details": {"name": f"{name} {self.party}"},
                    "party_id": self.party.party_id,
                    "country_code": self.party.country_code,
                }
            ],
        }

    def routing_headers(self, to: PartyId | None) -> dict[str, str]:
        """Headers for a request to the node on this party's behalf, with its TOKEN_C. With
        `to` None, no SCPI-to-* at all: open routing, the hub finds the receiver."""
        if to is None:
            routing = {
                routing_header(family, name): value
                for family in FAMILIES
                for name, value in (
                    (FROM_COUNTRY_CODE, self.party.country_code),
                    (FROM_PARTY_ID, self.party.party_id),
                )
            }
        else:
            routing = routing_pair(self.party, to)
        return {
            "Authorization": f"Token {self.token_c}",
            REQUEST_ID: str(uuid.uuid4()),
            CORRELATION_ID: str(uuid.uuid4()),
            **routing,
        }

    def endpoints(self) -> list[dict[str, str]]:
        endpoints = [
            {"identifier": "credentials", "role": "SENDER", "url": self.module_url("credentials")}
        ]
        for module, interface in self.modules():
            endpoints.append(
                {"identifier": module, "role": interface, "url": self.module_url(module)}
            )
        return endpoints

    def modules(self) -> list[tuple[str, str]]:
        """The (module, interface) pairs this party offers."""
        raise NotImplementedError

    def routes(self) -> list[web.RouteDef]:
        """The module routes under `{prefix}/2.2`."""
        raise NotImplementedError

    # -- lifecycle

    async def start(self) -> None:
        app = web.Application(middlewares=[self._request_log, self._authorisation])
        app.router.add_routes(
            [
                web.get(f"{self.prefix}/versions", self._versions),
                web.get(f"{self.prefix}/{VERSION}", self._details),
                web.get(f"{self.prefix}/{VERSION}/credentials", self._get_credentials),
                web.route("*", f"{self.prefix}/{VERSION}/credentials", self._other_credentials),
                *self.routes(),
                web.route("*", "/{path:.*}", self._unknown),
            ]
        )
        self._runner, self.base_url = await serve_on_socket(app, self.host, self.port)
        self.port = int(self.base_url.rsplit(":", 1)[1])
        log.info("%s listening on %s (versions: %s)", self.label, self.base_url, self.versions_url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- middleware

    @web.middleware
    async def _request_log(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        response = await handler(request)
        elapsed = (time.perf_counter() - started) * 1000
        body = response.body if isinstance(response, web.Response) else None
        length = str(len(body)) if isinstance(body, bytes) else "-"
        log.info(
            "%s -- %s %s %d %s - %.3f ms",
            self.label,
            request.method,
            request.path,
            response.status,
            length,
            elapsed,
        )
        self.record.record(
            "request", method=request.method, path=request.path, status=response.status
        )
        return response

    @web.middleware
    async def _authorisation(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get("Authorization", "")
        encoded = base64.b64encode(self.token_b.encode()).decode()
        if given not in (f"Token {self.token_b}", f"Token {encoded}"):
            log.warning(
                "%s refused %s %s: no valid Authorization token",
                self.label,
                request.method,
                request.path,
            )
            return reply(status=ScpiStatus.CLIENT_ERROR, message="Unauthorized", http_status=401)
        return await handler(request)

    # -- versions, details, credentials

    async def _versions(self, request: web.Request) -> web.Response:
        return reply([{"version": VERSION, "url": self.details_url}])

    async def _details(self, request: web.Request) -> web.Response:
        return reply({"version": VERSION, "endpoints": self.endpoints()})

    async def _get_credentials(self, request: web.Request) -> web.Response:
        return reply(self.credentials())

    async def _other_credentials(self, request: web.Request) -> web.Response:
        if request.method == "PUT":  # authorised with our TOKEN_B: the node
            return await self._rotated(request)
        return reply(
            status=ScpiStatus.CLIENT_ERROR,
            message=f"This demo {self.role.value} registers with its node as a client; "
            "it does not accept registrations",
            http_status=405,
        )

    async def _rotated(self, request: web.Request) -> web.Response:
        """The node's credentials update (`scn-node platforms rotate`): it hands over a new
        TOKEN_C, and this party answers with its own credentials, TOKEN_B unchanged."""
        try:
            body = await request.json()
            token = body["token"]
        except (ValueError, KeyError, TypeError):
            token = None
        if not isinstance(token, str) or not token:
            return reply(
                status=ScpiStatus.INVALID_PARAMETERS, message="Credentials with a token expected"
            )
        self.token_c = token
        log.info("%s the node rotated our TOKEN_C: new one saved", self.label)
        self.record.record("rotated")
        return reply(self.credentials())

    async def _unknown(self, request: web.Request) -> web.Response:
        return reply(
            status=ScpiStatus.CLIENT_ERROR,
            message=f"This demo {self.role.value} has no endpoint {request.method} {request.path}",
            http_status=404,
        )
