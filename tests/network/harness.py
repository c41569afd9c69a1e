"""Two real `scn-node serve` processes on a real ganache chain, and fake parties around them.

The chain, the node processes and the network of two nodes come from `scn_node.devnet.network`
(scripts/two-nodes runs the same). This module adds what tests need: parties (`Party`, a
FakeParty with a node and a registry account), `TwoNodes` with helpers to connect parties and
talk as they do, and OCN's integration topology (`ocn_parties`).

Readiness is read, never slept for: ganache answers RPC calls, a node prints
"SCN node <url> (wallet <address>) is listening …" on stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import httpx
from aiohttp import web
from eth_account.signers.local import LocalAccount

from scn_node.devnet import network as devnet
from scn_node.devnet.chain import dev_account
from scn_node.devnet.joining import handshake, registration_token
from scn_node.devnet.network import ADMIN_KEY, NODE_ACCOUNTS, Chain, registry_cli
from scn_node.devnet.nodes import NodeProcess, key_of
from scn_node.devnet.serving import serve_on_socket
from scn_node.registry import RegistryError
from scn_node.scpi.party import PartyId, Role
from tests.node.parties import FakeParty, Received

T = TypeVar("T")
# The devnet's pieces the network tests import from here, next to the test-only ones.
__all__ = ["ADMIN_KEY", "NODE_ACCOUNTS", "Chain", "NodeProcess", "key_of", "registry_cli"]


async def eventually(
    check: Callable[[], T | Awaitable[T]],
    *,
    within: float = 5.0,
    interval: float = 0.05,
    what: str = "the condition",
) -> T:
    """Poll `check` until it returns something truthy; fail after `within` seconds."""
    deadline = time.monotonic() + within
    last: Any = None
    while True:
        result = check()
        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        last = result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {within:g} s (last: {last!r})")
        await asyncio.sleep(interval)  # the polling interval, not a readiness guess


# ---------------------------------------------------------------------------------------- parties


@dataclass(eq=False)
class Party(FakeParty):
    """A FakeParty that knows its node and registry account, keeps its port across restarts,
    and also offers the hubclientinfo receiver interface."""

    node: int = 0
    account: LocalAccount | None = None
    port: int = 0
    hub_client_info: bool = True
    _arrival: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    async def heard(
        self, check: Callable[[], T], *, within: float = 5.0, what: str = "the condition"
    ) -> T:
        """Wait until `check` (about what this party received) returns something truthy; it is
        checked again at each arrival, not polled."""
        try:
            async with asyncio.timeout(within):
                while True:
                    self._arrival.clear()  # before the check: an arrival after it wakes us
                    if result := check():
                        return result
                    await self._arrival.wait()
        except TimeoutError:
            raise AssertionError(
                f"{self.party} did not hear {what} within {within:g} s (last: {check()!r})"
            ) from None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await super()._handle(request)
        finally:
            self._arrival.set()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner, self.base_url = await serve_on_socket(app, "127.0.0.1", self.port)
        self.port = int(self.base_url.rsplit(":", 1)[1])

    @property
    def running(self) -> bool:
        return self._runner is not None

    def _endpoints(self) -> list[dict[str, str]]:
        endpoints = super()._endpoints()
        if self.hub_client_info:
            endpoints.append(
                {
                    "identifier": "hubclientinfo",
                    "role": "RECEIVER",
                    "url": self.endpoint("hubclientinfo", "RECEIVER"),
                }
            )
        return endpoints

    def client_infos(self) -> list[dict[str, Any]]:
        """The ClientInfo objects the node pushed to this party, in order."""
        prefix = self.endpoint_path("hubclientinfo", "RECEIVER")
        found = []
        for r in self.received:
            if r.method == "PUT" and r.path.startswith(prefix):
                with contextlib.suppress(ValueError):
                    found.append(r.json())
        return found

    def statuses_of(self, party: PartyId | FakeParty) -> list[str]:
        """The statuses pushed to this party about `party`, in order."""
        who = party.party if isinstance(party, FakeParty) else party
        return [
            str(info.get("status"))
            for info in self.client_infos()
            if (info.get("country_code"), info.get("party_id")) == (who.country_code, who.party_id)
        ]

    def requests_to(self, module: str, interface: str = "") -> list[Received]:
        """What arrived at one module endpoint (both interfaces unless one is given)."""
        interfaces = [interface] if interface else ["SENDER", "RECEIVER"]
        prefixes = tuple(self.endpoint_path(module, i) for i in interfaces)
        return [r for r in self.received if r.path.startswith(prefixes)]


# ---------------------------------------------------------------------------------------- network


class TwoNodes(devnet.TwoNodes):
    """Both nodes of a chain, started as processes, and the parties around them.

    Nodes are numbered 1 and 2 (`nodes[1]`, `nodes[2]`). Parties' listings are deleted again on
    close, so the next test on the same chain starts from an empty party list.
    """

    def __init__(
        self,
        chain: Chain,
        workdir: Path,
        *,
        env: Mapping[str, str] | None = None,
        node_env: Mapping[int, Mapping[str, str]] | None = None,
        database_urls: Mapping[int, str] | None = None,
    ) -> None:
        super().__init__(chain, workdir, env=env, node_env=node_env, database_urls=database_urls)
        self.parties: list[Party] = []
        self.client = httpx.AsyncClient(timeout=60)
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        self._request_ids = 0

    async def close(self, *, check: bool = True) -> None:
        """Stop both nodes (SIGTERM) and the parties, delete the listings; then fail if a node
        did not exit with 0, showing the end of its log."""
        problems = []
        try:
            problems = await self.stop_nodes()
            await self._delete_listings()
        finally:
            for party in self.parties:
                await party.stop()
            await self.client.aclose()
            await self.session.close()
            await self.close_registry()
        if problems and check:
            raise AssertionError("\n".join(problems))

    async def _delete_listings(self) -> None:
        if self._registry is None:
            return
        registry = self.registry

        async def delete(account: LocalAccount) -> None:
            try:
                await registry.delete_party(account)
            except RegistryError:
                listed = None
                with contextlib.suppress(RegistryError):
                    listed = await registry.get_party_by_address(account.address)
                if listed is not None:
                    return  # still listed: never hand this account out again on this chain
            self.chain.give_back(account.address)

        accounts = []
        for party in self.parties:
            if party.account is not None:
                accounts.append(party.account)
                party.account = None
        if self.chain.alive:  # else the chain is gone, and every listing with it
            await asyncio.gather(*(delete(a) for a in accounts), return_exceptions=True)

    # ------------------------------------------------------------------ parties

    async def start_party(
        self, country_code: str, party_id: str, role: Role = Role.CPO, **kwargs: Any
    ) -> Party:
        """A party backoffice listening on a loopback port; not listed, not registered."""
        kwargs.setdefault("token_b", f"token-b-{uuid.uuid4()}")
        party = Party(PartyId(country_code, party_id), role, **kwargs)
        await party.start()
        self.parties.append(party)
        return party

    async def list_party(
        self, party: Party, node: int, *, roles: Sequence[Role] | None = None
    ) -> None:
        """List (or re-list) the party in the registry with node `node`'s operator."""
        if party.account is None:
            party.account = self.chain.take_account()
            held = await self.registry.get_party(party.party)
            if held is not None and held.address != party.account.address:
                # Left behind by a test that could not clean up: the registry owner frees it.
                await self.registry.admin_delete_party(dev_account(0), party.party)
                self.chain.give_back(held.address)
        await self.registry.set_party(
            party.account, party.party, list(roles or [party.role]), self.nodes[node].address
        )

    async def token_a(self, node: int, roles: list[dict[str, str]] | None = None) -> str:
        token, _ = await registration_token(self.session, self.url(node), ADMIN_KEY, roles)
        return token

    async def post_credentials(
        self, party: Party, node: int, token_a: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.client.post(
            f"{self.url(node)}/scpi/2.2/credentials",
            headers={"Authorization": f"Token {token_a}"},
            content=json.dumps(body or party.credentials()),
        )

    async def register(self, party: Party, node: int) -> None:
        """The credentials handshake with node `node`: a TOKEN_A, then the devnet's handshake
        (versions and details with TOKEN_A, POST credentials)."""
        token_a, versions = await registration_token(self.session, self.url(node), ADMIN_KEY)
        joined = await handshake(
            self.session, versions, token_a, party.credentials(), version=party.version
        )
        party.token_c = joined.token_c
        party.node = node

    async def unregister(self, party: Party) -> httpx.Response:
        """DELETE credentials: the party disconnects from its node."""
        return await self.client.delete(
            f"{self.url(party.node)}/scpi/2.2/credentials",
            headers={"Authorization": party.authorization()},
        )

    async def connect(
        self, node: int, country_code: str, party_id: str, role: Role = Role.CPO, **kwargs: Any
    ) -> Party:
        """A party started, listed with node `node` and registered there: ready to talk."""
        party = await self.start_party(country_code, party_id, role, **kwargs)
        await self.list_party(party, node)
        await self.register(party, node)
        return party

    async def move(self, party: Party, node: int, *, new_token_b: str | None = None) -> None:
        """Re-list the party with node `node`'s operator and register it there.

        With `new_token_b` the party gives the new node another TOKEN_B and from then on
        refuses the old one, so which node a request came through can be told apart.
        """
        await self.list_party(party, node)
        if new_token_b is not None:
            party.token_b = new_token_b
        await self.register(party, node)

    # ------------------------------------------------------------------ talking as a party

    def next_request_id(self) -> str:
        self._request_ids += 1
        return f"req-{self._request_ids}"

    def headers(
        self,
        sender: FakeParty,
        receiver: FakeParty | PartyId | None,
        *,
        family: str = "SCPI",
        request_id: str | None = None,
        correlation_id: str | None = None,
    ) -> dict[str, str]:
        """A routed request's headers; `receiver=None` leaves SCPI-to-* out (open routing)."""
        request_id = request_id or self.next_request_id()
        headers = {
            "Authorization": sender.authorization(),
            "X-Request-ID": request_id,
            "X-Correlation-ID": correlation_id or f"corr-{request_id}",
            f"{family}-from-country-code": sender.party.country_code,
            f"{family}-from-party-id": sender.party.party_id,
        }
        if receiver is not None:
            to = receiver.party if isinstance(receiver, FakeParty) else receiver
            headers[f"{family}-to-country-code"] = to.country_code
            headers[f"{family}-to-party-id"] = to.party_id
        return headers

    async def send(
        self,
        sender: Party,
        method: str,
        path: str,
        *,
        to: FakeParty | PartyId | None,
        body: bytes | str | dict[str, Any] | list[Any] | None = None,
        headers: Mapping[str, str] | None = None,
        node: int | None = None,
    ) -> httpx.Response:
        """A request from `sender` to its node (or `node`); `path` may be a full node URL."""
        all_headers = self.headers(sender, to)
        all_headers.update(headers or {})
        content: bytes | None
        if isinstance(body, dict | list):
            content = json.dumps(body).encode()
        elif isinstance(body, str):
            content = body.encode()
        else:
            content = body
        if content is not None:
            all_headers.setdefault("Content-Type", "application/json")
        url = path if path.startswith("http") else self.url(node or sender.node) + path
        return await self.client.request(method, url, headers=all_headers, content=content)


# ---------------------------------------------------------------------------------------- OCN's parties

# What the OCN integration tests' backoffices answer (ocn-node.md §9.1), as SCPI parties.
EXAMPLE_LOCATION: dict[str, Any] = {
    "country_code": "CH",
    "party_id": "CPO",
    "id": "LOC1",
    "publish": True,
    "address": "Bahnhofstrasse 1",
    "city": "Zürich",
    "country": "CHE",
    "coordinates": {"latitude": "47.377000", "longitude": "8.540000"},
    "time_zone": "Europe/Zurich",
    "last_updated": "2026-11-23T10:00:00Z",
}
EXAMPLE_CDR: dict[str, Any] = {
    "country_code": "CH",
    "party_id": "CPO",
    "id": "CDR1",
    "start_date_time": "2026-11-23T09:00:00Z",
    "end_date_time": "2026-11-23T10:00:00Z",
    "currency": "CHF",
    "total_cost": {"excl_vat": 4.5},
    "total_energy": 15.0,
    "total_time": 1.0,
    "last_updated": "2026-11-23T10:00:01Z",
}
LITE_LOCATIONS = [
    {
        "id": "999",
        "overall_free": True,
        "evses": {"free": 1, "total": 2},
        "coordinates": ["50.387", "1.651"],
    }
]
TOTAL_LOCATIONS = 50
PAGE_LIMIT = 5


def _envelope(data: Any = None, status_code: int = 1000) -> dict[str, Any]:
    body: dict[str, Any] = {"status_code": status_code, "timestamp": "2026-11-23T10:00:00Z"}
    if data is not None:
        body["data"] = data
    return body


def scpi(response: httpx.Response, status_code: int = 1000) -> Any:
    """The `data` of an SCPI answer, checked for HTTP 200 and `status_code`."""
    assert response.status_code == 200, f"HTTP {response.status_code}: {response.text}"
    body = response.json()
    assert body["status_code"] == status_code, body
    return body.get("data")


def act_as_cpo(party: Party, client: httpx.AsyncClient) -> list[httpx.Response]:
    """Answer as OCN's CPO: a location, paginated location lists, START_SESSION (posting the
    CommandResult to the response_url first, through the party's own node), and the custom
    module `lite-locations` (if the party offers it). Returns the answers to its results."""
    results: list[httpx.Response] = []
    locations = party.endpoint("locations", "SENDER")

    async def location(request: web.Request, received: Received) -> web.StreamResponse:
        if request.path.rstrip("/") != party.endpoint_path("locations", "SENDER"):
            return web.json_response(_envelope(EXAMPLE_LOCATION))
        limit = int(request.query.get("limit", PAGE_LIMIT))
        offset = int(request.query.get("offset", 0))
        headers = {"X-Limit": str(PAGE_LIMIT), "X-Total-Count": str(TOTAL_LOCATIONS)}
        if offset + limit < TOTAL_LOCATIONS:
            next_page = f"{locations}?offset={offset + limit}&limit={PAGE_LIMIT}"
            headers["Link"] = f'<{next_page}>; rel="next"'
        page = [dict(EXAMPLE_LOCATION, id=f"LOC{offset + i + 1}") for i in range(limit)]
        return web.json_response(_envelope(page), headers=headers)

    async def start_session(request: web.Request, received: Received) -> web.StreamResponse:
        response_url = json.loads(received.body)["response_url"]
        result = await client.post(
            response_url,
            headers={
                "Authorization": party.authorization(),
                "X-Request-ID": str(uuid.uuid4()),
                "X-Correlation-ID": request.headers["X-Correlation-ID"],
                "SCPI-from-country-code": party.party.country_code,
                "SCPI-from-party-id": party.party.party_id,
                "SCPI-to-country-code": request.headers["SCPI-from-country-code"],
                "SCPI-to-party-id": request.headers["SCPI-from-party-id"],
            },
            json={"result": "ACCEPTED"},
        )
        results.append(result)
        return web.json_response(_envelope({"result": "ACCEPTED", "timeout": 10}))

    async def lite_locations(request: web.Request, received: Received) -> web.StreamResponse:
        if request.method == "GET":
            return web.json_response(_envelope(LITE_LOCATIONS))
        text = received.body.decode()
        return web.json_response(_envelope(text or None))

    party.on("GET", party.endpoint_path("locations", "SENDER"), location)
    party.on("POST", party.endpoint_path("commands", "RECEIVER") + "/START_SESSION", start_session)
    if "lite-locations" in party.custom_modules:
        party.on("*", party.endpoint_path("lite-locations", "SENDER"), lite_locations)
    return results


def act_as_msp(party: Party) -> None:
    """Answer as OCN's eMSP: POST cdrs gets a Location, GET of it the CDR; command results
    (POSTs to its commands SENDER endpoint) are answered 1000 and recorded."""
    cdrs = party.endpoint_path("cdrs", "RECEIVER")

    async def cdr(request: web.Request, received: Received) -> web.StreamResponse:
        if request.method == "POST":
            location = party.endpoint("cdrs", "RECEIVER") + "/1"
            return web.json_response(_envelope(), headers={"Location": location})
        return web.json_response(_envelope(EXAMPLE_CDR))

    party.on("*", cdrs, cdr)


@dataclass
class OcnParties:
    """OCN's integration topology: CPO CH/CPA on node 1, CPO CH/CPB on node 2, eMSP DE/MSP on 1."""

    cpa: Party
    cpb: Party
    msp: Party
    results: dict[str, list[httpx.Response]]  # CommandResult answers per CPO party id

    def cpo(self, where: str) -> Party:
        """The CPO on the eMSP's node ("local") or on the other node ("remote")."""
        return {"local": self.cpa, "remote": self.cpb}[where]


async def ocn_parties(network: TwoNodes) -> OcnParties:
    cpa, cpb, msp = await asyncio.gather(
        network.connect(1, "CH", "CPA", Role.CPO, custom_modules=("lite-locations",)),
        network.connect(2, "CH", "CPB", Role.CPO, custom_modules=("lite-locations",)),
        network.connect(1, "DE", "MSP", Role.EMSP),
    )
    act_as_msp(msp)
    results = {p.party.party_id: act_as_cpo(p, network.client) for p in (cpa, cpb)}
    return OcnParties(cpa, cpb, msp, results)
