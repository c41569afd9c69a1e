"""HubUnderTest: one node's hub services over fakes, driven as its parties and peers drive it.

The real hub (`scn_node.hub.node.Hub`) and the real store on a SQLite file; an InMemoryRegistry
for the chain, a FakeNetwork for HTTP, FakeBackoffices for the parties. `send` does what the web
adapter does with a party's request (read the routing headers, identify the caller, hand it to
the hub, add the ids and swapped headers) and gives back exactly what the party would see.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from multidict import CIMultiDict, CIMultiDictProxy

from scn_node.hub.callers import identify
from scn_node.hub.message import ScpiReply
from scn_node.hub.model import Caller, OutboundRequest, PartyResponse, TokenKind
from scn_node.hub.modules import Family
from scn_node.hub.node import Clock, Hub
from scn_node.hub.peer import CLIENT_INFO_PATH, MESSAGE_PATH
from scn_node.hub.platforms import Platforms
from scn_node.hub.registration import NodeIdentity
from scn_node.hub.rules import PartyRules
from scn_node.registry.wallet import NodeWallet
from scn_node.scpi.credentials import node_credentials
from scn_node.scpi.envelope import encode, envelope, error_envelope
from scn_node.scpi.errors import Codes, RegistrationState, ResourceNotFound, ScpiError
from scn_node.scpi.headers import CORRELATION_ID, NODE_SIGNATURE, REQUEST_ID, Routing, routing_pair
from scn_node.scpi.party import PartyId, Role
from scn_node.scpi.versions import FUNCTIONAL_MODULES, VERSIONS, InterfaceRole
from scn_node.store import Database, SqlDirectory, SqlSeenMessages
from scn_node.web.middlewares import codes_of
from tests.fakes.backoffice import FakeBackoffice
from tests.fakes.registry import InMemoryRegistry
from tests.fakes.transport import FakeNetwork, response


def key(index: int) -> str:
    """A fixed private key per index: node and party accounts that never change."""
    return f"0x{index:064x}"


@dataclass(frozen=True)
class Answer:
    """What a party (or a peer node) received: the HTTP status, the headers, the bytes."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def status_code(self) -> int:
        """The SCPI status_code of the envelope."""
        return int(self.json()["status_code"])


@dataclass
class HubUnderTest:
    hub: Hub
    database: Database
    directory: SqlDirectory
    registry: InMemoryRegistry
    network: FakeNetwork
    wallet: NodeWallet
    parties: list[FakeBackoffice] = field(default_factory=list)
    _accounts: int = 0

    @classmethod
    async def start(
        cls,
        tmp_path: Path,
        *,
        name: str = "node-a",
        registry: InMemoryRegistry | None = None,
        network: FakeNetwork | None = None,
        key_index: int = 1,
        signatures: bool = False,
        clock: Clock | None = None,
    ) -> HubUnderTest:
        """A node at http://{name}.node.test, listed in `registry` and served on `network`
        (new ones unless given: give both to a second node so the two can talk)."""
        registry = registry or InMemoryRegistry()
        network = network or FakeNetwork()
        wallet = NodeWallet(key(key_index))
        url = f"http://{name}.node.test"
        registry.set_node(wallet.address, url)
        database = Database("sqlite+aiosqlite://")  # in memory: no database file
        await database.create_tables()
        directory = SqlDirectory(database, cache_seconds=0)
        hub = Hub.build(
            NodeIdentity(url, wallet.address),
            directory=directory,
            registry=registry,
            listing=registry.listing(wallet.address),
            transport=network,
            wallet=wallet,
            seen=SqlSeenMessages(database),
            signatures=signatures,
            clock=clock,
        )
        node = cls(hub, database, directory, registry, network, wallet, _accounts=key_index * 100)
        network.serve(url, node.serve_peer)
        return node

    async def close(self) -> None:
        """Off the network first: a peer's pushes must not reach a closed database."""
        self.network.drop(self.url)
        await self.drain()
        await self.hub.close()
        await self.database.close()

    @property
    def url(self) -> str:
        return self.hub.node.url

    @property
    def address(self) -> str:
        return self.wallet.address

    async def drain(self) -> None:
        """Wait for the background work: service copies and ClientInfo pushes."""
        await self.hub.forwarder.drain()
        await self.hub.presence.drain()

    async def caller(self, party: FakeBackoffice, *kinds: TokenKind) -> Caller:
        """The party as the node identifies it by its TOKEN_C (or `kinds`)."""
        return await identify(self.directory, party.authorization(), *(kinds or (TokenKind.C,)))

    async def set_rules(self, party: FakeBackoffice, rules: PartyRules) -> None:
        """Replace the party's own rules (as its scnrules calls would)."""
        caller = await self.caller(party)
        assert await self.directory.set_rules(caller.platform.id, caller.token, rules) is not None

    @property
    def platforms(self) -> Platforms:
        """The operator's view (what the admin API shows and does)."""
        presence = self.hub.presence
        return Platforms(self.directory, presence, presence.last_heard)

    # ------------------------------------------------------------ parties

    def new_party(
        self, country_code: str, party_id: str, role: Role = Role.CPO, **kwargs: Any
    ) -> FakeBackoffice:
        """A backoffice on the network with its own registry account, not yet listed."""
        self._accounts += 1
        party = FakeBackoffice(
            PartyId(country_code, party_id),
            role,
            f"token-b-{uuid.uuid4()}",
            account=Account.from_key(key(self._accounts)),
            **kwargs,
        )
        self.network.serve(party.base_url, party.handle)
        self.parties.append(party)
        return party

    def list_party(self, party: FakeBackoffice, *, operator: str | None = None) -> None:
        assert party.account is not None
        self.registry.list_party(
            party.party, [party.role], operator or self.address, party.account.address
        )

    async def token_a(self, body: bytes = b"") -> str:
        return (await self.hub.handshake.issue_token_a(body))["token"]

    async def register(
        self, party: FakeBackoffice, token_a: str, body: bytes | None = None
    ) -> Answer:
        """The party's credentials POST with `token_a`; the node's answer as the party sees it."""
        try:
            caller = await identify(self.directory, f"Token {token_a}", TokenKind.A, TokenKind.C)
            token_c = await self.hub.handshake.register(
                caller, body or json.dumps(party.credentials()).encode()
            )
        except ScpiError as error:
            return _refused(error, "/scpi/2.2/credentials")
        data = node_credentials(token_c, self.hub.node.versions_url)
        return _answer(ScpiReply(200, encode(envelope(data)), {"Content-Type": "application/json"}))

    async def connect(
        self, country_code: str, party_id: str, role: Role = Role.CPO, **kwargs: Any
    ) -> FakeBackoffice:
        """A party listed with this node and registered through the real handshake."""
        party = self.new_party(country_code, party_id, role, **kwargs)
        self.list_party(party)
        registered = await self.register(party, await self.token_a())
        assert registered.status_code == 1000, registered.body
        party.token_c = registered.json()["data"]["token"]
        return party

    # ------------------------------------------------------------ requests

    def headers(
        self,
        sender: FakeBackoffice,
        to: FakeBackoffice | PartyId | None,
        *,
        family: str = "SCPI",
        request_id: str = "req-1",
        correlation_id: str = "corr-1",
    ) -> dict[str, str]:
        """The headers of a routed request; `to=None` leaves SCPI-to-* out (open routing),
        `to=NODE_PARTY` addresses the hub."""
        headers = {
            "Authorization": sender.authorization(),
            REQUEST_ID: request_id,
            CORRELATION_ID: correlation_id,
            f"{family}-from-country-code": sender.party.country_code,
            f"{family}-from-party-id": sender.party.party_id,
        }
        if to is not None:
            receiver = to.party if isinstance(to, FakeBackoffice) else to
            headers[f"{family}-to-country-code"] = receiver.country_code
            headers[f"{family}-to-party-id"] = receiver.party_id
        return headers

    async def send(
        self,
        sender: FakeBackoffice,
        method: str,
        path: str,
        *,
        to: FakeBackoffice | PartyId | None,
        body: bytes | str = b"",
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """A party's routed request to this node (`path` as on the node, or a full proxy URL
        it was given); what the party gets back."""
        raw = CIMultiDict(self.headers(sender, to))
        raw.update(headers or {})
        content = body.encode() if isinstance(body, str) else body
        reply = await self._route(
            method, path.removeprefix(self.url), CIMultiDictProxy(raw), content
        )
        return _answer(reply, raw)

    async def _route(
        self, method: str, target: str, headers: CIMultiDictProxy[str], body: bytes
    ) -> ScpiReply:
        path, _, query = target.partition("?")
        parts = path.split("/")  # "", dialect, …
        forwarder = self.hub.forwarder
        routing = Routing.read(headers)
        try:
            caller = await identify(self.directory, headers.get("Authorization"), TokenKind.C)
            if len(parts) == 5 and parts[2:4] == ["2.2", "proxy"]:
                return await forwarder.route_proxied(caller, routing, parts[4], method, body)
            custom = len(parts) >= 5 and parts[2] == "custom"
            interface, module = (
                (parts[3], parts[4]) if custom else (parts[2], parts[4] if len(parts) > 4 else "")
            )
            if not custom and (
                len(parts) < 5 or parts[3] not in VERSIONS or module not in FUNCTIONAL_MODULES
            ):
                raise ResourceNotFound(f"No endpoint at {path}")
            tail = "/" + "/".join(parts[5:]) if len(parts) > 5 else ""
            return await forwarder.route(
                caller,
                routing,
                method,
                module,
                InterfaceRole(interface.upper()),
                Family.CUSTOM if custom else Family.STANDARD,
                tail=tail,
                query=query,
                body=body,
            )
        except ScpiError as error:  # what the web adapter's middleware renders
            return forwarder.refusal(error, codes_of(path), routing)

    # ------------------------------------------------------------ as a peer node sees it

    async def serve_peer(self, request: OutboundRequest) -> PartyResponse:
        """This node's /scn/message and /scn/client-info, for the other nodes on the network."""
        signature = request.headers.get(NODE_SIGNATURE)
        if request.url == self.url + MESSAGE_PATH:
            reply = await self.hub.forwarder.receive(request.body, signature)
            return response(reply.status, reply.body, dict(reply.headers))
        if request.url == self.url + CLIENT_INFO_PATH:
            try:
                await self.hub.presence.receive(request.body, signature)
            except ScpiError as error:
                status, _, body = error_envelope(error, Codes.SCN)
                return response(status, body)
            return response(200, encode(envelope()))
        _, _, body = error_envelope(ResourceNotFound(f"No endpoint at {request.url}"), Codes.SCN)
        return response(404, body)

    async def send_as_is(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> Answer:
        """A party's request with exactly `headers`, none added: for requests that lack some."""
        raw = CIMultiDict(headers)
        reply = await self._route(method, path.removeprefix(self.url), CIMultiDictProxy(raw), body)
        return _answer(reply, raw)

    # ------------------------------------------------------------ the credentials module

    async def read_credentials(self, authorization: str) -> Answer:
        """GET credentials with `authorization` (as the party sends it): the node's credentials
        holding the caller's TOKEN_C, as the web adapter answers them."""
        try:
            caller = await identify(self.directory, authorization, TokenKind.A, TokenKind.C)
            if caller.kind is not TokenKind.C:
                raise RegistrationState(
                    "Not registered yet; POST your credentials with TOKEN_A first"
                )
        except ScpiError as error:
            return _refused(error, "/scpi/2.2/credentials")
        return self._credentials_answer(caller.token)

    async def update(self, party: FakeBackoffice, body: bytes | None = None) -> Answer:
        """The party's credentials PUT with its TOKEN_C (new endpoints, a new TOKEN_C)."""
        try:
            caller = await identify(self.directory, party.authorization(), TokenKind.C)
            token_c = await self.hub.handshake.update(
                caller, body or json.dumps(party.credentials()).encode()
            )
        except ScpiError as error:
            return _refused(error, "/scpi/2.2/credentials")
        return self._credentials_answer(token_c)

    async def unregister(self, party: FakeBackoffice) -> Answer:
        """The party's credentials DELETE with its TOKEN_C."""
        try:
            caller = await identify(self.directory, party.authorization(), TokenKind.C)
            await self.hub.handshake.unregister(caller)
        except ScpiError as error:
            return _refused(error, "/scpi/2.2/credentials")
        return _answer(ScpiReply(200, encode(envelope()), {"Content-Type": "application/json"}))

    def _credentials_answer(self, token_c: str) -> Answer:
        data = node_credentials(token_c, self.hub.node.versions_url)
        return _answer(ScpiReply(200, encode(envelope(data)), {"Content-Type": "application/json"}))


def _refused(error: ScpiError, path: str) -> Answer:
    status, _, body = error_envelope(error, codes_of(path))
    return _answer(ScpiReply(status, body, {"Content-Type": "application/json"}))


def _answer(reply: ScpiReply, request: CIMultiDict[str] | None = None) -> Answer:
    """The reply as the web adapter sends it: with the message ids and, for a request that
    named both parties, the routing headers swapped, unless the hub set them."""
    headers = CIMultiDict(reply.headers)
    request = request or CIMultiDict()
    request_id = request.get(REQUEST_ID) or str(uuid.uuid4())
    headers.setdefault(REQUEST_ID, request_id)
    headers.setdefault(CORRELATION_ID, request.get(CORRELATION_ID) or request_id)
    routing = Routing.read(request)
    if routing.sender is not None and routing.receiver is not None:
        for name, value in routing_pair(routing.receiver, routing.sender).items():
            headers.setdefault(name, value)
    return Answer(reply.status, CIMultiDictProxy(headers), reply.body)
