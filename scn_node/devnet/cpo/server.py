"""DemoCpo: a CPO platform that serves OCPI from a CpoBackend and joins its node by itself.

    {base}/scpi/cpo/versions            versions (2.2 only)
    {base}/scpi/cpo/2.2                 version details
    {base}/scpi/cpo/2.2/credentials     credentials (GET; the CPO registers itself, so no POST)
    {base}/scpi/cpo/2.2/locations       locations SENDER: list, /LOC1, /LOC1/1234, /LOC1/1234/1
    {base}/scpi/cpo/2.2/tariffs         tariffs SENDER
    {base}/scpi/cpo/2.2/sessions        sessions SENDER: "not implemented" (see below)
    {base}/scpi/cpo/2.2/commands        commands RECEIVER: POST /START_SESSION, /STOP_SESSION
    {base}/scpi/cpo/2.2/tokens          tokens RECEIVER: PUT/PATCH /{cc}/{pid}/{uid} (recorded)

Commands are answered ACCEPTED at once; the backend carries them out and the result goes to the
eMSP's response_url through the node. What the backend reports afterwards (a CDR when a session
ends) is pushed through the node too, and a CDR is fetched back from the Location the eMSP gave.

Broadcast push: once connected, the CPO PUTs each of its locations and tariffs TO the hub
(SCPI-to-* = DE SCN), and PATCHes an EVSE TO the hub whenever its status changes, so every
connected eMSP on every node gets them without the CPO knowing who they are. Each push is
recorded as a "broadcast" event with the node's answer; a refused one is logged, never fatal
(4003 when nobody at all can receive it: no eMSP connected here and no other node).

Open routing: `authorize` asks for real-time authorization of a token with no SCPI-to-* at
all, as a charge point that does not know the token's eMSP does: the hub finds the eMSP.

Sessions: the tutorial says a sessions request to the CPO tells the user that the CPO has not
implemented the module. The demo CPO answers HTTP 501 Not Implemented with the SCPI envelope
`{"status_code": 2000, "status_message": "Sessions are not implemented by this demo CPO"}`: the
node passes a receiver's HTTP status and body through unchanged, so Postman/curl show both.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
from typing import Any

import aiohttp
from aiohttp import web
from eth_account.signers.local import LocalAccount

from scn_node.devnet.cpo.backend import (
    CdrReady,
    Command,
    CommandResult,
    CpoBackend,
    CpoEvent,
    EvseStatusChanged,
)
from scn_node.devnet.cpo.pusher import Answer, Pusher
from scn_node.devnet.cpo.static import StaticCpo
from scn_node.devnet.joining import join
from scn_node.devnet.party_server import VERSION, DemoParty, reply, sender_of
from scn_node.devnet.pushes import ReceivedPushes
from scn_node.registry import RegistryContract
from scn_node.scpi.party import PartyId, Role
from scn_node.scpi.status import ScpiStatus

log = logging.getLogger("scn_node.devnet.demo")
COMMAND_TIMEOUT = 30
SESSIONS_NOT_IMPLEMENTED = "Sessions are not implemented by this demo CPO"


class DemoCpo(DemoParty):
    """A CPO whose locations, tariffs and commands come from `backend` (by default the
    tutorial's StaticCpo: LOC1, two tariffs, results after `result_delay` seconds)."""

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
        backend: CpoBackend | None = None,
    ) -> None:
        super().__init__(party, node_url, host=host, port=port)
        self.admin_key = admin_key
        self.signer = signer
        self.registry = registry
        self.backend: CpoBackend = backend or StaticCpo(party, result_delay=result_delay)
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.pushes = ReceivedPushes(self.label, self.record, ("tokens",))

    def modules(self) -> list[tuple[str, str]]:
        return [
            ("locations", "SENDER"),
            ("tariffs", "SENDER"),
            ("sessions", "SENDER"),
            ("commands", "RECEIVER"),
            ("tokens", "RECEIVER"),
        ]

    def routes(self) -> list[web.RouteDef]:
        base = f"{self.prefix}/{VERSION}"
        locations = f"{base}/locations"
        return [
            web.get(locations, self._locations),
            web.get(f"{locations}/{{location_id}}", self._one),
            web.get(f"{locations}/{{location_id}}/{{evse_uid}}", self._one),
            web.get(f"{locations}/{{location_id}}/{{evse_uid}}/{{connector_id}}", self._one),
            web.get(f"{base}/tariffs", self._tariffs),
            web.route("*", f"{base}/sessions{{tail:.*}}", self._sessions),
            web.post(f"{base}/commands/{{command}}", self._command),
            *self.pushes.routes(base),
        ]

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        return self._session

    @property
    def pusher(self) -> Pusher:
        return Pusher(self, self.session)

    async def start(self) -> None:
        await super().start()
        self._spawn(self._push_events())

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.backend.close()
        await super().stop()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def register(self) -> None:
        """List this CPO in the registry, get a TOKEN_A and complete the credentials handshake."""
        joined = await join(
            self.session,
            self.node_url,
            credentials=self.credentials(),
            admin_key=self.admin_key,
            registry=self.registry,
            signer=self.signer,
            party=self.party,
            roles=[Role.CPO],
            label=self.label,
        )
        self.token_c = joined.token_c
        self.record.record("registered", node=self.node_url, credentials_url=joined.credentials_url)
        await self.announce()

    async def announce(self) -> None:
        """Broadcast every location and tariff TO the hub (a PUT each), as a CPO does once it is
        connected; the eMSPs that connect later sync with a GET All."""
        party = f"{self.party.country_code}/{self.party.party_id}"
        for location in self.backend.locations():
            await self._broadcast("PUT", "locations", f"{party}/{location['id']}", location)
        for tariff in self.backend.tariffs():
            await self._broadcast("PUT", "tariffs", f"{party}/{tariff['id']}", tariff)

    async def authorize(self, uid: str, location_id: str = "LOC1") -> Answer:
        """Real-time authorization of token `uid` at `location_id`, with no SCPI-to-*: the hub
        finds the token's eMSP (open routing); the answer says FROM whom."""
        url = f"{self.node_url}/scpi/sender/{VERSION}/tokens/{uid}/authorize"
        answer = await self.pusher.send("POST", url, None, {"location_id": location_id})
        log.info(
            "%s asked for authorization of token %s without SCPI-to-*: %s from %s",
            self.label, uid, answer.status, answer.sender,
        )  # fmt: skip
        self.record.record(
            "authorized", uid=uid, status=answer.status, status_code=answer.status_code,
            answered_by=answer.sender, body=answer.body,
        )  # fmt: skip
        return answer

    async def _broadcast(self, method: str, module: str, path: str, body: Any) -> Answer | None:
        """One push TO the hub, recorded; a refusal or a network error is logged, not raised."""
        body = copy.deepcopy(body)  # as sent: the backend's objects change later
        try:
            answer = await self.pusher.broadcast(method, module, path, body)
        except (aiohttp.ClientError, TimeoutError) as error:
            log.error(
                "%s could not broadcast %s %s %s: %s", self.label, method, module, path, error
            )
            self.record.record(
                "broadcast", method=method, module=module, path=path, body=body, status=None,
                status_code=None, answered_by=None, error=f"{type(error).__name__}: {error}",
            )  # fmt: skip
            return None
        self.record.record(
            "broadcast", method=method, module=module, path=path, body=body,
            status=answer.status, status_code=answer.status_code, answered_by=answer.sender,
            error="" if answer.ok else answer.text[:500],
        )  # fmt: skip
        if answer.ok:
            log.info("%s broadcast %s %s/%s TO the hub", self.label, method, module, path)
        elif answer.status_code == ScpiStatus.CONNECTION_PROBLEM:  # 4003: nobody receives it
            log.info(
                "%s broadcast %s %s/%s: no eMSP receives it yet (4003)",
                self.label, method, module, path,
            )  # fmt: skip
        else:
            log.warning(
                "%s broadcast %s %s/%s refused: %s %s",
                self.label, method, module, path, answer.status, answer.text[:300],
            )  # fmt: skip
        return answer

    # -- locations, tariffs, sessions

    async def _locations(self, request: web.Request) -> web.Response:
        found = self.backend.locations()
        return reply(found, headers={"X-Total-Count": str(len(found)), "X-Limit": "100"})

    async def _one(self, request: web.Request) -> web.Response:
        """A location, an EVSE of it or a connector of that, as the path names them."""
        info = request.match_info
        found: Any = self.backend.location(info["location_id"])
        where = info["location_id"]
        if found is None:
            return _unknown(f"Unknown location {where}")
        if "evse_uid" in info:
            found = next((e for e in found["evses"] if e["uid"] == info["evse_uid"]), None)
            if found is None:
                return _unknown(f"Unknown EVSE {info['evse_uid']} at {where}")
        if "connector_id" in info:
            found = next((c for c in found["connectors"] if c["id"] == info["connector_id"]), None)
            if found is None:
                return _unknown(
                    f"Unknown connector {info['connector_id']} at {where}/{info['evse_uid']}"
                )
        return reply(found)

    async def _tariffs(self, request: web.Request) -> web.Response:
        found = self.backend.tariffs()
        return reply(found, headers={"X-Total-Count": str(len(found)), "X-Limit": "100"})

    async def _sessions(self, request: web.Request) -> web.Response:
        log.info("%s answers sessions: not implemented", self.label)
        return reply(
            status=ScpiStatus.CLIENT_ERROR, message=SESSIONS_NOT_IMPLEMENTED, http_status=501
        )

    # -- commands

    async def _command(self, request: web.Request) -> web.Response:
        name = request.match_info["command"]
        if not self.backend.supports(name):
            log.info("%s received %s: not supported", self.label, name)
            return reply({"result": "NOT_SUPPORTED", "timeout": COMMAND_TIMEOUT})
        try:
            body = json.loads(await request.read())
        except ValueError:
            return reply(
                status=ScpiStatus.INVALID_PARAMETERS,
                message="The body is not JSON",
                http_status=400,
            )
        response_url = body.get("response_url") if isinstance(body, dict) else None
        sender = sender_of(request)
        if not isinstance(response_url, str) or sender is None:
            return reply(
                status=ScpiStatus.INVALID_PARAMETERS,
                message="A command needs a response_url and the SCPI-from-* headers",
                http_status=400,
            )
        log.info(
            "%s received %s from %s; answering ACCEPTED, the result follows",
            self.label,
            name,
            sender,
        )
        self.record.record("command", command=name, sender=sender, body=body)
        self._spawn(self._carry_out(Command(name, body, sender), response_url))
        return reply({"result": "ACCEPTED", "timeout": COMMAND_TIMEOUT})

    async def _carry_out(self, command: Command, response_url: str) -> None:
        ok = False
        error = ""
        try:
            if command.name == "STOP_SESSION":
                result = await self.backend.stop_session(command)
            else:
                result = await self.backend.start_session(command)
            await self._send_result(command, response_url, result)
            ok = True
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a demo reports, it does not crash
            error = f"{type(exc).__name__}: {exc}"
            log.error("%s could not finish %s: %s", self.label, command.name, error)
        self.record.record("command-done", command=command.name, ok=ok, error=error)

    async def _send_result(
        self, command: Command, response_url: str, result: CommandResult
    ) -> None:
        log.info("%s sending async %s response", self.label, command.name)
        answer = await self.pusher.command_result(response_url, command.sender, result.body())
        self.record.record(
            "result-sent",
            command=command.name,
            to=command.sender,
            result=result.body(),
            status=answer.status,
            answer=answer.body,
        )
        if not answer.ok:
            raise RuntimeError(
                f"the async {command.name} result was refused: {answer.status} {answer.text}"
            )

    # -- what the backend reports

    async def _push_events(self) -> None:
        async for event in self.backend.events():
            try:
                await self._push(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a demo reports, it does not crash
                log.error("%s could not push %s: %s", self.label, type(event).__name__, exc)
                self.record.record("push-failed", event=event, error=f"{type(exc).__name__}: {exc}")

    async def _push(self, event: CpoEvent) -> None:
        if isinstance(event, CdrReady):
            await self._send_cdr(event.emsp, event.cdr)
        elif isinstance(event, EvseStatusChanged) and self.token_c:  # not before it joined
            where = f"{self.party.country_code}/{self.party.party_id}"
            path = f"{where}/{event.location_id}/{event.evse_uid}"
            log.info("%s EVSE %s is %s now", self.label, event.evse_uid, event.status)
            await self._broadcast("PATCH", "locations", path, event.patch())

    async def _send_cdr(self, emsp: PartyId, cdr: dict[str, Any]) -> None:
        log.info("%s sending cdr after session end", self.label)
        answer = await self.pusher.cdr(emsp, cdr)
        self.record.record(
            "cdr-sent", to=emsp, cdr=cdr, status=answer.status, location=answer.location
        )
        if not answer.ok:
            raise RuntimeError(f"the EMSP did not accept the cdr: {answer.status} {answer.text}")
        if not answer.location:
            raise RuntimeError("the EMSP accepted the cdr but sent no Location header")

        stored = await self.pusher.fetch(answer.location, emsp)
        if (
            stored.status == 200
            and isinstance(stored.body, dict)
            and stored.body.get("data") == cdr
        ):
            log.info("%s acknowledges cdr correctly stored on EMSP system", self.label)
            self.record.record("cdr-acknowledged", to=emsp, location=answer.location, cdr=cdr)
            return
        log.error(
            "%s cdr NOT stored correctly on EMSP system: GET %s answered %s %s",
            self.label,
            answer.location,
            stored.status,
            stored.text[:500],
        )
        self.record.record("cdr-mismatch", to=emsp, location=answer.location, answer=stored.body)
        raise RuntimeError("the cdr fetched back from the EMSP differs from the one sent")


def _unknown(message: str) -> web.Response:
    return reply(status=ScpiStatus.UNKNOWN_LOCATION, message=message, http_status=404)
