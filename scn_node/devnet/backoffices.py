"""The demo backoffices of the local SCN network: CPOs and an eMSP that act out the tutorial.

Each one is a small SCPI 2.2 platform on its own aiohttp server that logs what it does in the
tutorial's words (logger `scn_node.devnet.demo`), e.g.::

    CPO [DE CPO] sending async STOP_SESSION response
    EMSP [DE MSP] received async command response: {"result":"ACCEPTED"}
    EMSP [DE MSP] -- POST /scpi/emsp/2.2/cdrs 200 59 - 0.487 ms
    CPO [DE CPO] acknowledges cdr correctly stored on EMSP system

URL layout (each party serves only its own role's tree)::

    {base}/scpi/cpo/versions            versions (2.2 only)
    {base}/scpi/cpo/2.2                 version details
    {base}/scpi/cpo/2.2/credentials     credentials (GET; the CPO registers itself, so no POST)
    {base}/scpi/cpo/2.2/locations       locations SENDER: list, /LOC1, /LOC1/1234, /LOC1/1234/1
    {base}/scpi/cpo/2.2/tariffs         tariffs SENDER: xxx-123 and xyz-456
    {base}/scpi/cpo/2.2/sessions        sessions SENDER: "not implemented" (see below)
    {base}/scpi/cpo/2.2/commands        commands RECEIVER: POST /START_SESSION, /STOP_SESSION

    {base}/scpi/emsp/versions, /scpi/emsp/2.2, /scpi/emsp/2.2/credentials
    {base}/scpi/emsp/2.2/commands       commands SENDER: async results, POST /{COMMAND}/{uid}
    {base}/scpi/emsp/2.2/cdrs           cdrs RECEIVER: POST stores (Location), GET /{n} returns
    {base}/scpi/emsp/received           demo only, not SCPI: what the eMSP has received so far
                                        (async command results and CDRs), for Postman and curl

Sessions: the tutorial says a sessions request to the CPO tells the user that the CPO has not
implemented the module. The demo CPO answers HTTP 501 Not Implemented with the SCPI envelope
`{"status_code": 2000, "status_message": "Sessions are not implemented by this demo CPO"}`: the
node passes a receiver's HTTP status and body through unchanged, so Postman/curl show both "501"
and the message.

Every request to a demo party must carry `Authorization: Token <its TOKEN_B>` (plain, or Base64
as OCPI 2.2.1 platforms send it); anything else gets HTTP 401 / 2000.

Both classes keep a record (`events`) that tests and the tour inspect, and `wait_for(kind)` lets a
caller wait for an event without sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from eth_account.signers.local import LocalAccount

from scn_node.registry import RegistryContract
from scn_node.scpi.party import PartyId, Role

log = logging.getLogger("scn_node.devnet.demo")

LAST_UPDATED = "2019-08-13T14:44:25.561Z"  # the tutorial's timestamps
COMMAND_TIMEOUT = 30
SUPPORTED_COMMANDS = ("START_SESSION", "STOP_SESSION")
SESSIONS_NOT_IMPLEMENTED = "Sessions are not implemented by this demo CPO"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def envelope(
    data: Any = None, status_code: int = 1000, message: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"status_code": status_code}
    if data is not None:
        body["data"] = data
    if message is not None:
        body["status_message"] = message
    body["timestamp"] = now()
    return body


def reply(
    data: Any = None,
    *,
    status_code: int = 1000,
    message: str | None = None,
    http_status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    return web.json_response(
        envelope(data, status_code, message), status=http_status, headers=headers
    )


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


# ---------------------------------------------------------------------------- the tutorial's data


def demo_location(party: PartyId) -> dict[str, Any]:
    """The tutorial's LOC1, owned by `party`: EVSE 1234 AVAILABLE, EVSE 4567 RESERVED."""

    def evse(uid: str, status: str, tariff_id: str) -> dict[str, Any]:
        return {
            "uid": uid,
            "evse_id": f"{party.country_code}*{party.party_id}*E{uid}",
            "status": status,
            "connectors": [
                {
                    "id": "1",
                    "standard": "IEC_62196_T2",
                    "format": "SOCKET",
                    "power_type": "AC_3_PHASE",
                    "max_voltage": 400,
                    "max_amperage": 32,
                    "tariff_ids": [tariff_id],
                    "last_updated": LAST_UPDATED,
                }
            ],
            "last_updated": LAST_UPDATED,
        }

    return {
        "country_code": party.country_code,
        "party_id": party.party_id,
        "id": "LOC1",
        "publish": True,
        "address": "somestreet 1",
        "city": "Essen",
        "postal_code": "45127",
        "country": "DEU",
        "coordinates": {"latitude": "52.232", "longitude": "0.809"},
        "evses": [evse("1234", "AVAILABLE", "xxx-123"), evse("4567", "RESERVED", "xyz-456")],
        "time_zone": "Europe/Berlin",
        "last_updated": LAST_UPDATED,
    }


def demo_tariffs(party: PartyId) -> list[dict[str, Any]]:
    """The tariffs the connectors of LOC1 name: xxx-123 (energy) and xyz-456 (time)."""

    def tariff(
        tariff_id: str, kind: str, price: float, step_size: int, text: str
    ) -> dict[str, Any]:
        return {
            "country_code": party.country_code,
            "party_id": party.party_id,
            "id": tariff_id,
            "currency": "EUR",
            "tariff_alt_text": [{"language": "en", "text": text}],
            "elements": [
                {"price_components": [{"type": kind, "price": price, "step_size": step_size}]}
            ],
            "last_updated": LAST_UPDATED,
        }

    return [
        tariff("xxx-123", "ENERGY", 0.25, 1, "0.25 EUR per kWh"),
        tariff("xyz-456", "TIME", 2.00, 300, "2.00 EUR per hour, billed per 5 minutes"),
    ]


def demo_cdr(cpo: PartyId, cdr_id: str, session_id: str | None) -> dict[str, Any]:
    """A CDR of one hour on LOC1, EVSE 1234, connector 1 (tariff xxx-123), ending now."""
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(hours=1)
    start_text = start.isoformat().replace("+00:00", "Z")
    end_text = end.isoformat().replace("+00:00", "Z")
    location = demo_location(cpo)
    cdr: dict[str, Any] = {
        "country_code": cpo.country_code,
        "party_id": cpo.party_id,
        "id": cdr_id,
        "start_date_time": start_text,
        "end_date_time": end_text,
        "cdr_token": {"uid": "DEMO-TOKEN-1", "type": "RFID", "contract_id": "DE-MSP-C12345678-X"},
        "auth_method": "COMMAND",
        "cdr_location": {
            "id": location["id"],
            "address": location["address"],
            "city": location["city"],
            "postal_code": location["postal_code"],
            "country": location["country"],
            "coordinates": location["coordinates"],
            "evse_uid": "1234",
            "evse_id": location["evses"][0]["evse_id"],
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": "EUR",
        "tariffs": [demo_tariffs(cpo)[0]],
        "charging_periods": [
            {
                "start_date_time": start_text,
                "dimensions": [{"type": "ENERGY", "volume": 11.0}],
                "tariff_id": "xxx-123",
            }
        ],
        "total_cost": {"excl_vat": 2.75, "incl_vat": 3.27},
        "total_energy": 11.0,
        "total_energy_cost": {"excl_vat": 2.75, "incl_vat": 3.27},
        "total_time": 1.0,
        "last_updated": end_text,
    }
    if session_id:
        cdr["session_id"] = session_id
    return cdr


# ---------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Event:
    """One thing a demo party did or saw. `kind` names it; `data` holds the details."""

    kind: str
    data: dict[str, Any]


class Recorder:
    """A list of events that callers can wait on (no sleeping, no polling)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._waiters: list[tuple[str, int, asyncio.Future[Event]]] = []

    def record(self, kind: str, **data: Any) -> Event:
        event = Event(kind, data)
        self.events.append(event)
        for waiter in list(self._waiters):
            self._settle(waiter)
        return event

    def _settle(self, waiter: tuple[str, int, asyncio.Future[Event]]) -> None:
        kind, count, future = waiter
        found = self.of(kind)
        if len(found) >= count:
            if not future.done():
                future.set_result(found[count - 1])
            self._waiters.remove(waiter)

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    async def wait_for(self, kind: str, count: int = 1, within: float = 30.0) -> Event:
        """The `count`-th event of `kind`, waiting for it (at most `within` seconds)."""
        waiter = (kind, count, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        self._settle(waiter)
        try:
            return await asyncio.wait_for(asyncio.shield(waiter[2]), within)
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)


class RegistrationFailed(RuntimeError):
    """The demo CPO could not join its node; the message says at which step."""


# ---------------------------------------------------------------------------- shared server


class DemoParty:
    """The aiohttp server, token check and request log both demo parties share."""

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
        return f"{self.base_url}{self.prefix}/2.2"

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

    def routing_headers(self, to: PartyId) -> dict[str, str]:
        """Headers for a request to the node on this party's behalf, with its TOKEN_C."""
        return {
            "Authorization": f"Token {self.token_c}",
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": str(uuid.uuid4()),
            "SCPI-from-country-code": self.party.country_code,
            "SCPI-from-party-id": self.party.party_id,
            "SCPI-to-country-code": to.country_code,
            "SCPI-to-party-id": to.party_id,
        }

    def endpoints(self) -> list[dict[str, str]]:
        endpoints = [
            {
                "identifier": "credentials",
                "role": "SENDER",
                "url": self.module_url("credentials"),
            }
        ]
        for module, interface in self.modules():
            endpoints.append(
                {"identifier": module, "role": interface, "url": self.module_url(module)}
            )
        return endpoints

    def modules(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    # -- lifecycle

    async def start(self) -> None:
        app = web.Application(middlewares=[self._request_log, self._authorisation])
        app.router.add_routes(
            [
                web.get(f"{self.prefix}/versions", self._versions),
                web.get(f"{self.prefix}/2.2", self._details),
                web.get(f"{self.prefix}/2.2/credentials", self._get_credentials),
                web.route("*", f"{self.prefix}/2.2/credentials", self._other_credentials),
                *self.routes(),
                web.route("*", "/{path:.*}", self._unknown),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        self.base_url = f"http://{host}:{self.port}"
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
            return reply(status_code=2000, message="Unauthorized", http_status=401)
        return await handler(request)

    # -- versions, details, credentials

    async def _versions(self, request: web.Request) -> web.Response:
        return reply([{"version": "2.2", "url": self.details_url}])

    async def _details(self, request: web.Request) -> web.Response:
        return reply({"version": "2.2", "endpoints": self.endpoints()})

    async def _get_credentials(self, request: web.Request) -> web.Response:
        return reply(self.credentials())

    async def _other_credentials(self, request: web.Request) -> web.Response:
        if request.method == "PUT":  # authorised with our TOKEN_B: the node
            return await self._rotated(request)
        return reply(
            status_code=2000,
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
            return reply(status_code=2001, message="Credentials with a token expected")
        if not isinstance(token, str) or not token:
            return reply(status_code=2001, message="Credentials with a token expected")
        self.token_c = token
        log.info("%s the node rotated our TOKEN_C: new one saved", self.label)
        self.record.record("rotated")
        return reply(self.credentials())

    async def _unknown(self, request: web.Request) -> web.Response:
        return reply(
            status_code=2000,
            message=f"This demo {self.role.value} has no endpoint {request.method} {request.path}",
            http_status=404,
        )


# ---------------------------------------------------------------------------- the CPO


class DemoCpo(DemoParty):
    """A CPO with LOC1, two tariffs and a commands receiver that answers asynchronously."""

    role = Role.CPO

    def __init__(
        self,
        party: PartyId,
        node_url: str,
        *,
        admin_key: str,
        signer: LocalAccount,
        registry: RegistryContract,
        host: str = "127.0.0.1",
        port: int = 0,
        result_delay: float = 5.0,
    ) -> None:
        super().__init__(party, node_url, host=host, port=port)
        self.admin_key = admin_key
        self.signer = signer
        self.registry = registry
        self.result_delay = result_delay
        self.location = demo_location(party)
        self.tariffs = demo_tariffs(party)
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._commands = 0

    def modules(self) -> list[tuple[str, str]]:
        return [
            ("locations", "SENDER"),
            ("tariffs", "SENDER"),
            ("sessions", "SENDER"),
            ("commands", "RECEIVER"),
        ]

    def routes(self) -> list[web.RouteDef]:
        base = f"{self.prefix}/2.2"
        return [
            web.get(f"{base}/locations", self._locations),
            web.get(f"{base}/locations/{{location_id}}", self._location),
            web.get(f"{base}/locations/{{location_id}}/{{evse_uid}}", self._evse),
            web.get(
                f"{base}/locations/{{location_id}}/{{evse_uid}}/{{connector_id}}", self._connector
            ),
            web.get(f"{base}/tariffs", self._tariffs),
            web.route("*", f"{base}/sessions{{tail:.*}}", self._sessions),
            web.post(f"{base}/commands/{{command}}", self._command),
        ]

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        return self._session

    async def start(self) -> None:
        await super().start()
        _ = self.session

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await super().stop()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- joining the network: registry, TOKEN_A, credentials handshake

    async def register(self) -> None:
        """List this CPO in the registry, get a TOKEN_A and complete the credentials handshake."""
        node = self.node_url
        log.info("%s asking %s for its node info", self.label, node)
        info = await self._get_json(f"{node}/scn/registry/node-info")
        operator = str(info["address"])
        log.info("%s node %s is operated by %s", self.label, info.get("url", node), operator)

        listed = await self.registry.get_party(self.party)
        if (
            listed is not None
            and listed.address.lower() == self.signer.address.lower()
            and listed.operator.lower() == operator.lower()
            and Role.CPO in listed.roles
        ):
            log.info("%s already listed in the SCN Registry with that node", self.label)
        else:
            log.info(
                "%s listing itself in the SCN Registry: set-party -c %s %s -r CPO -o %s "
                "(signer %s)",
                self.label,
                self.party.country_code,
                self.party.party_id,
                operator,
                self.signer.address,
            )
            receipt = await self.registry.set_party(self.signer, self.party, [Role.CPO], operator)
            log.info(
                "%s listed in the SCN Registry (transaction %s, block %d)",
                self.label,
                receipt.tx_hash,
                receipt.block_number,
            )
        self.record.record("listed", operator=operator)

        log.info("%s asking the node's admin API for a registration token (TOKEN_A)", self.label)
        async with self.session.post(
            f"{node}/admin/generate-registration-token",
            headers={"Authorization": f"Token {self.admin_key}"},
        ) as response:
            text = await response.text()
            if response.status != 200:
                raise RegistrationFailed(
                    f"{self.label}: generate-registration-token answered {response.status}: {text}"
                )
            generated = json.loads(text)
        token_a = str(generated["token"])
        versions_url = str(generated.get("versions") or f"{node}/scpi/versions")
        auth = {"Authorization": f"Token {token_a}"}

        log.info("%s GET %s (versions, with TOKEN_A)", self.label, versions_url)
        versions = await self._scpi_data(versions_url, auth)
        details_url = next(
            (str(v["url"]) for v in versions if v.get("version") == "2.2"),
            None,
        )
        if details_url is None:
            raise RegistrationFailed(f"{self.label}: the node offers no SCPI 2.2: {versions}")
        log.info("%s GET %s (version 2.2 details)", self.label, details_url)
        details = await self._scpi_data(details_url, auth)
        credentials_url = next(
            (str(e["url"]) for e in details["endpoints"] if e.get("identifier") == "credentials"),
            None,
        )
        if credentials_url is None:
            raise RegistrationFailed(f"{self.label}: the node has no credentials endpoint")

        log.info(
            "%s POST %s (our credentials; the node will now fetch our versions and details)",
            self.label,
            credentials_url,
        )
        async with self.session.post(
            credentials_url, headers=auth, json=self.credentials()
        ) as response:
            text = await response.text()
        answer = _json_or_none(text)
        if response.status != 200 or not answer or answer.get("status_code") != 1000:
            raise RegistrationFailed(
                f"{self.label}: credentials POST answered {response.status}: {text}"
            )
        self.token_c = str(answer["data"]["token"])
        self.record.record("registered", node=node, credentials_url=credentials_url)
        log.info("%s registered with the node %s: TOKEN_C saved", self.label, node)

    async def _get_json(self, url: str, headers: dict[str, str] | None = None) -> Any:
        async with self.session.get(url, headers=headers) as response:
            text = await response.text()
            if response.status != 200:
                raise RegistrationFailed(
                    f"{self.label}: GET {url} answered {response.status}: {text}"
                )
            return json.loads(text)

    async def _scpi_data(self, url: str, headers: dict[str, str]) -> Any:
        answer = await self._get_json(url, headers)
        if answer.get("status_code") != 1000:
            raise RegistrationFailed(f"{self.label}: GET {url} answered {answer}")
        return answer["data"]

    # -- locations, tariffs, sessions

    async def _locations(self, request: web.Request) -> web.Response:
        return reply([self.location], headers={"X-Total-Count": "1", "X-Limit": "100"})

    def _find(self, request: web.Request) -> tuple[Any, str]:
        info = request.match_info
        if info["location_id"] != self.location["id"]:
            return None, f"Unknown location {info['location_id']}"
        found: Any = self.location
        if "evse_uid" in info:
            found = next((e for e in found["evses"] if e["uid"] == info["evse_uid"]), None)
            if found is None:
                return None, f"Unknown EVSE {info['evse_uid']} at {info['location_id']}"
        if "connector_id" in info:
            found = next((c for c in found["connectors"] if c["id"] == info["connector_id"]), None)
            if found is None:
                return None, (
                    f"Unknown connector {info['connector_id']} "
                    f"at {info['location_id']}/{info['evse_uid']}"
                )
        return found, ""

    async def _one(self, request: web.Request) -> web.Response:
        found, message = self._find(request)
        if found is None:
            return reply(status_code=2003, message=message, http_status=404)
        return reply(found)

    async def _location(self, request: web.Request) -> web.Response:
        return await self._one(request)

    async def _evse(self, request: web.Request) -> web.Response:
        return await self._one(request)

    async def _connector(self, request: web.Request) -> web.Response:
        return await self._one(request)

    async def _tariffs(self, request: web.Request) -> web.Response:
        count = str(len(self.tariffs))
        return reply(self.tariffs, headers={"X-Total-Count": count, "X-Limit": "100"})

    async def _sessions(self, request: web.Request) -> web.Response:
        log.info("%s answers sessions: not implemented", self.label)
        return reply(status_code=2000, message=SESSIONS_NOT_IMPLEMENTED, http_status=501)

    # -- commands

    async def _command(self, request: web.Request) -> web.Response:
        command = request.match_info["command"]
        if command not in SUPPORTED_COMMANDS:
            log.info("%s received %s: not supported", self.label, command)
            return reply({"result": "NOT_SUPPORTED", "timeout": COMMAND_TIMEOUT})
        try:
            body = json.loads(await request.read())
        except ValueError:
            return reply(status_code=2001, message="The body is not JSON", http_status=400)
        response_url = body.get("response_url") if isinstance(body, dict) else None
        sender = _sender_of(request)
        if not isinstance(response_url, str) or sender is None:
            return reply(
                status_code=2001,
                message="A command needs a response_url and the SCPI-from-* headers",
                http_status=400,
            )
        self._commands += 1
        log.info(
            "%s received %s from %s; answering ACCEPTED, result follows in %s s",
            self.label,
            command,
            sender,
            self.result_delay,
        )
        self.record.record("command", command=command, sender=sender, body=body)
        task = asyncio.create_task(self._carry_out(command, body, response_url, sender))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return reply({"result": "ACCEPTED", "timeout": COMMAND_TIMEOUT})

    async def _carry_out(
        self, command: str, body: dict[str, Any], response_url: str, sender: PartyId
    ) -> None:
        ok = False
        error = ""
        try:
            await asyncio.sleep(self.result_delay)
            await self._send_result(command, response_url, sender)
            if command == "STOP_SESSION":
                await asyncio.sleep(self.result_delay)
                session_id = body.get("session_id")
                await self._send_cdr(sender, session_id if isinstance(session_id, str) else None)
            ok = True
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a demo reports, it does not crash
            error = f"{type(exc).__name__}: {exc}"
            log.error("%s could not finish %s: %s", self.label, command, error)
        self.record.record("command-done", command=command, ok=ok, error=error)

    async def _send_result(self, command: str, response_url: str, sender: PartyId) -> None:
        result = {"result": "ACCEPTED"}
        log.info("%s sending async %s response", self.label, command)
        async with self.session.post(
            response_url,
            headers=self.routing_headers(sender),
            data=compact(result),
        ) as response:
            text = await response.text()
        answer = _json_or_none(text)
        self.record.record(
            "result-sent",
            command=command,
            to=sender,
            result=result,
            status=response.status,
            answer=answer,
        )
        if response.status != 200 or not answer or answer.get("status_code") != 1000:
            raise RuntimeError(f"the async {command} result was refused: {response.status} {text}")

    async def _send_cdr(self, emsp: PartyId, session_id: str | None) -> None:
        cdr = demo_cdr(self.party, f"CDR-{uuid.uuid4().hex[:12].upper()}", session_id)
        log.info("%s sending cdr after session end", self.label)
        async with self.session.post(
            f"{self.node_url}/scpi/receiver/2.2/cdrs",
            headers={**self.routing_headers(emsp), "Content-Type": "application/json"},
            data=compact(cdr),
        ) as response:
            text = await response.text()
            location = response.headers.get("Location")
        answer = _json_or_none(text)
        self.record.record("cdr-sent", to=emsp, cdr=cdr, status=response.status, location=location)
        if response.status != 200 or not answer or answer.get("status_code") != 1000:
            raise RuntimeError(f"the EMSP did not accept the cdr: {response.status} {text}")
        if not location:
            raise RuntimeError("the EMSP accepted the cdr but sent no Location header")

        async with self.session.get(location, headers=self.routing_headers(emsp)) as response:
            text = await response.text()
        stored = _json_or_none(text)
        if response.status == 200 and stored and stored.get("data") == cdr:
            log.info("%s acknowledges cdr correctly stored on EMSP system", self.label)
            self.record.record("cdr-acknowledged", to=emsp, location=location, cdr=cdr)
            return
        log.error(
            "%s cdr NOT stored correctly on EMSP system: GET %s answered %s %s",
            self.label,
            location,
            response.status,
            text[:500],
        )
        self.record.record("cdr-mismatch", to=emsp, location=location, answer=stored)
        raise RuntimeError("the cdr fetched back from the EMSP differs from the one sent")


# ---------------------------------------------------------------------------- the eMSP


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
        base = f"{self.prefix}/2.2"
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
        raw = await request.read()
        result = _json_or_none(raw.decode(errors="replace"))
        if result is None:
            return reply(status_code=2001, message="The body is not JSON", http_status=400)
        log.info("%s received async command response: %s", self.label, compact(result))
        entry = {
            "command": request.match_info["command"],
            "uid": request.match_info["uid"],
            "result": result,
            "sender": _sender_of(request),
        }
        self.command_results.append(entry)
        self.record.record("command-result", **entry)
        return reply()

    async def _post_cdr(self, request: web.Request) -> web.Response:
        cdr = _json_or_none((await request.read()).decode(errors="replace"))
        if not isinstance(cdr, dict):
            return reply(status_code=2001, message="The body is not a CDR object", http_status=400)
        self.cdrs.append(cdr)
        number = len(self.cdrs)
        location = f"{self.module_url('cdrs')}/{number}"
        log.info("%s stored cdr %s as %s", self.label, cdr.get("id"), location)
        self.record.record("cdr-stored", number=number, cdr=cdr, sender=_sender_of(request))
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
            return reply(status_code=2003, message=f"Unknown cdr {number}", http_status=404)
        cdr = self.cdrs[int(number) - 1]
        self.record.record("cdr-fetched", number=int(number), sender=_sender_of(request))
        return reply(cdr)


# ---------------------------------------------------------------------------- helpers


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _sender_of(request: web.Request) -> PartyId | None:
    """The party named in the SCPI-from-* (or OCPI-from-*) headers."""
    for family in ("SCPI", "OCPI"):
        cc = request.headers.get(f"{family}-from-country-code")
        pid = request.headers.get(f"{family}-from-party-id")
        if cc and pid:
            return PartyId(cc.upper(), pid.upper())
    return None
