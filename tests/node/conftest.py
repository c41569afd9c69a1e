"""A node on a loopback port, real FakeParty backoffices, and the registry in-process.

The node runs on SQLite: the database is the subject of tests/store, which also runs one
end-to-end pass through a node on each database (tests/store/test_end_to_end.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web
from eth_account.signers.local import LocalAccount

from scn_node.app import create_app
from scn_node.devnet import joining
from scn_node.devnet.serving import base_url_of, listening_socket
from scn_node.registry import RegistryContract
from scn_node.scpi.party import PartyId, Role
from scn_node.settings import Settings
from scn_node.web import server
from tests.node.parties import FakeParty, request_headers

ADMIN_KEY = "test-admin-key"
NODE_ACCOUNT = 14
PEER_NODE_ACCOUNT = 2
PARTY_ACCOUNTS = [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19]


@dataclass
class Node:
    settings: Settings
    runner: web.AppRunner
    client: httpx.AsyncClient  # what tests talk to the node with
    session: aiohttp.ClientSession  # what parties join the node with (scn_node.devnet.joining)

    @property
    def url(self) -> str:
        return self.settings.node_url

    async def stop(self) -> None:
        await self.client.aclose()
        await self.session.close()
        await self.runner.cleanup()


@dataclass
class Network:
    """One node, the parties connected to it, and helpers to talk to the node as they do."""

    registry: RegistryContract
    accounts: list[LocalAccount]
    database_url: str
    node_index: int = NODE_ACCOUNT
    node: Node | None = None
    parties: list[FakeParty] = field(default_factory=list)
    _next_account: int = 0
    _port: int = 0

    @property
    def node_account(self) -> LocalAccount:
        return self.accounts[self.node_index]

    @property
    def url(self) -> str:
        assert self.node is not None
        return self.node.url

    @property
    def client(self) -> httpx.AsyncClient:
        assert self.node is not None
        return self.node.client

    async def start_node(self, **overrides: Any) -> Node:
        """Start (or restart, on the same port and database) the node."""
        sock = listening_socket(port=self._port)  # bound first: the settings name its URL
        try:
            self._port = sock.getsockname()[1]
            settings = replace(
                Settings(
                    node_url=base_url_of(sock),
                    private_key="0x" + bytes(self.node_account.key).hex(),
                    admin_api_key=ADMIN_KEY,
                    database_url=self.database_url,
                    party_timeout=5.0,
                    registry_poll_seconds=0.1,  # registry events reach the node within a blink
                ),
                **overrides,
            )
            listing = await self.registry.get_node(self.node_account.address)
            if listing is None or listing.url != settings.node_url:
                await self.registry.set_node(self.node_account, settings.node_url)
            # Served as `scn-node serve` serves it: the same limits and deadlines, which
            # scn_node.devnet.serving.serve_on_socket does not set.
            runner = await server.start(
                create_app(settings, contract=self.registry), settings, sock
            )
        except BaseException:
            sock.close()
            raise
        client = httpx.AsyncClient(base_url=settings.node_url, timeout=30)
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self.node = Node(settings, runner, client, session)
        return self.node

    async def stop_node(self) -> None:
        if self.node is not None:
            await self.node.stop()
            self.node = None

    def new_account(self) -> LocalAccount:
        account = self.accounts[PARTY_ACCOUNTS[self._next_account]]
        self._next_account += 1
        return account

    async def start_party(
        self, country_code: str, party_id: str, role: Role = Role.CPO, **kwargs: Any
    ) -> FakeParty:
        party = FakeParty(
            PartyId(country_code, party_id), role, f"token-b-{uuid.uuid4()}", **kwargs
        )
        await party.start()
        self.parties.append(party)
        return party

    async def list_party(
        self, party: FakeParty, *, operator: str | None = None, roles: list[Role] | None = None
    ) -> None:
        party.account = self.new_account()
        await joining.list_party(
            self.registry,
            party.account,
            party.party,
            roles or [party.role],
            operator or self.node_account.address,
        )

    async def token_a(self, roles: list[dict[str, str]] | None = None) -> str:
        token, _ = await self._registration_token(roles)
        return token

    async def _registration_token(
        self, roles: list[dict[str, str]] | None = None
    ) -> tuple[str, str]:
        assert self.node is not None
        return await joining.registration_token(self.node.session, self.url, ADMIN_KEY, roles)

    async def post_credentials(
        self, party: FakeParty, token_a: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        """POST credentials straight away (no versions read first), to test what the node
        answers to any body."""
        return await self.client.post(
            "/scpi/2.2/credentials",
            headers={"Authorization": f"Token {party.present(token_a)}"},
            content=json.dumps(body or party.credentials()),
        )

    async def connect(
        self, country_code: str, party_id: str, role: Role = Role.CPO, **kwargs: Any
    ) -> FakeParty:
        """A party started, listed in the registry and registered: ready to send and receive.
        It joins as every party does (scn_node.devnet.joining)."""
        party = await self.start_party(country_code, party_id, role, **kwargs)
        await self.list_party(party)
        token_a, versions_url = await self._registration_token()
        assert self.node is not None
        joined = await joining.handshake(
            self.node.session,
            versions_url,
            party.present(token_a),
            party.credentials(),
            label=str(party.party),
            version=party.version,  # the node's paths of the version this party speaks
        )
        party.token_c = joined.token_c
        return party

    def headers(
        self,
        sender: FakeParty,
        receiver: FakeParty | PartyId,
        *,
        family: str = "SCPI",
        request_id: str = "req-1",
        correlation_id: str = "corr-1",
    ) -> dict[str, str]:
        return request_headers(
            sender, receiver, family=family, request_id=request_id, correlation_id=correlation_id
        )

    async def send(
        self,
        sender: FakeParty,
        method: str,
        path: str,
        *,
        to: FakeParty | PartyId,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = self.headers(sender, to)
        all_headers.update(headers or {})
        if isinstance(body, str):
            body = body.encode()
        if body is not None:
            all_headers.setdefault("Content-Type", "application/json")
        return await self.client.request(method, path, headers=all_headers, content=body)

    async def close(self) -> None:
        await self.stop_node()
        for party in self.parties:
            await party.stop()


@pytest.fixture
async def network(
    registry: RegistryContract, accounts: list[LocalAccount], database_url: str
) -> AsyncIterator[Network]:
    net = Network(registry, accounts, database_url)
    await net.start_node()
    try:
        yield net
    finally:
        await net.close()


@pytest.fixture
async def peers(
    registry: RegistryContract,
    accounts: list[LocalAccount],
    network: Network,
    tmp_path: Path,
) -> AsyncIterator[tuple[Network, Network]]:
    """Two nodes on one registry: `network` (account 14) and a peer (account 2, SQLite)."""
    peer = Network(
        registry, accounts, f"sqlite+aiosqlite:///{tmp_path / 'peer.db'}", PEER_NODE_ACCOUNT
    )
    peer._next_account = len(PARTY_ACCOUNTS) // 2  # party accounts apart from network's
    await peer.start_node()
    try:
        yield network, peer
    finally:
        await peer.close()
