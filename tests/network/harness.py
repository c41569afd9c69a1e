"""Two real `scn-node serve` processes on a real ganache chain, and fake parties around them.

    .venv/bin/python -m tests.network.harness [--database sqlite|postgresql] [--env KEY=VALUE]…
    scripts/two-nodes …                                   (the same)

starts ganache on a free port, deploys the SCN Registry with the `scn-registry` CLI, lists node 1
(dev account 14) and node 2 (dev account 2) with `scn-registry set-node`, starts both nodes and
prints their URLs; Ctrl-C or SIGTERM stops it all. The pytest fixtures in conftest.py use the same
classes: `Chain` (ganache, the registry and the two listings), `NodeProcess` (one `scn-node serve`)
and `TwoNodes` (both nodes, the parties connected to them and helpers to talk as the parties do).

Readiness is read, never slept for: ganache answers RPC calls, a node prints
"SCN node <url> (wallet <address>) is listening …" on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx
from aiohttp import web
from eth_account.signers.local import LocalAccount

from scn_node.devnet.chain import Ganache, dev_account, free_port
from scn_node.registry import RegistryContract, RegistryError
from scn_node.scpi.party import PartyId, Role
from tests.node.parties import FakeParty, Received
from tests.process_stop import stop, stop_async

ROOT = Path(__file__).resolve().parents[2]
ADMIN_KEY = "network-admin-key"
NODE_ACCOUNTS = {1: 14, 2: 2}  # node number -> dev account: the tutorial's node 1, OCN's node 2
# Dev accounts parties list themselves with: not 0 (registry owner), 2 or 14 (the nodes).
PARTY_ACCOUNTS = (1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19)
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
CLI_TIMEOUT = 120.0
T = TypeVar("T")


def key_of(account: LocalAccount) -> str:
    return "0x" + bytes(account.key).hex()


def quiet_port() -> int:
    """A free loopback port below the kernel's ephemeral range.

    Node ports stay listed in the registry while a node is down between tests; a port the kernel
    hands out for port-0 binds or outgoing connections could be taken in that gap.
    """
    low = 32768
    with contextlib.suppress(OSError, ValueError):
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(200):
        port = random.randint(20000, max(20001, low - 1))  # noqa: S311 - not a secret
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return free_port()


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


# ---------------------------------------------------------------------------------------- chain


def registry_cli(
    rpc_url: str, *args: str, signer: LocalAccount | None = None, registry: str | None = None
) -> subprocess.CompletedProcess[str]:
    """One `scn-registry` command as a real process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCN_", "SIGNER"))}
    env["SCN_RPC_URL"] = rpc_url
    if registry:
        env["SCN_REGISTRY_ADDRESS"] = registry
    if signer is not None:
        env["SIGNER"] = key_of(signer)
    return subprocess.run(
        [sys.executable, "-m", "registry_cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )


@dataclass
class Chain:
    """Ganache on a free port, the registry deployed by account 0 at nonce 2, both nodes listed.

    It also hands out the dev accounts that parties list themselves with, so tests sharing one
    chain never reuse an account whose listing is still in place.
    """

    ganache: Ganache
    registry_address: str
    node_ports: dict[int, int]
    workdir: Path
    free_accounts: list[int] = field(default_factory=lambda: list(PARTY_ACCOUNTS))

    @property
    def rpc_url(self) -> str:
        return self.ganache.rpc_url

    @classmethod
    def start(
        cls, workdir: Path | None = None, node_ports: Mapping[int, int] | None = None
    ) -> Chain:
        workdir = workdir or Path(tempfile.mkdtemp(prefix="scn-network-"))
        workdir.mkdir(parents=True, exist_ok=True)
        log = (workdir / "ganache.log").open("ab")
        ganache = Ganache(port=free_port(), log=log)
        try:
            ganache.start()
        finally:
            log.close()  # the child has its own descriptor
        try:
            deployed = registry_cli(
                ganache.rpc_url, "deploy", "--at-nonce", "2", signer=dev_account(0)
            )
            if deployed.returncode != 0:
                raise RuntimeError(f"scn-registry deploy failed:\n{deployed.stderr}")
            found = re.search(r"registry (0x[0-9a-fA-F]{40})", deployed.stdout)
            if found is None:
                raise RuntimeError(f"scn-registry deploy printed no address:\n{deployed.stdout}")
            ports = dict(node_ports or {n: quiet_port() for n in NODE_ACCOUNTS})
            chain = cls(ganache, found.group(1), ports, workdir)
            chain.list_nodes()
        except BaseException:
            ganache.stop()
            raise
        return chain

    def list_nodes(self) -> None:
        """`scn-registry set-node http://127.0.0.1:<port>` for both nodes, side by side."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SCN_", "SIGNER"))}
        running = []
        for number, index in NODE_ACCOUNTS.items():
            url = f"http://127.0.0.1:{self.node_ports[number]}"
            running.append(
                subprocess.Popen(
                    [sys.executable, "-m", "registry_cli", "set-node", url],
                    env={
                        **env,
                        "SCN_RPC_URL": self.rpc_url,
                        "SCN_REGISTRY_ADDRESS": self.registry_address,
                        "SIGNER": key_of(dev_account(index)),
                    },
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        try:
            for process in running:
                out, err = process.communicate(timeout=CLI_TIMEOUT)
                if process.returncode != 0:
                    raise RuntimeError(f"scn-registry set-node failed:\n{out}{err}")
        finally:
            for process in running:  # none is left running, whatever failed
                stop(process)

    @property
    def alive(self) -> bool:
        process = self.ganache.process
        return process is not None and process.poll() is None

    def kill_rpc(self) -> None:
        """Stop the chain hard, as an RPC provider that goes away does."""
        process = self.ganache.process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)

    def freeze(self) -> None:
        """SIGSTOP the chain: an RPC provider that hangs, accepting connections but answering
        nothing."""
        process = self.ganache.process
        assert process is not None and process.poll() is None, "the chain is not running"
        os.kill(process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        process = self.ganache.process
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)

    def stop(self) -> None:
        self.thaw()  # a stopped process would sit on SIGTERM until it is killed
        self.ganache.stop()

    def take_account(self) -> LocalAccount:
        if not self.free_accounts:
            raise RuntimeError("all party accounts are in use: delete some party listings first")
        return dev_account(self.free_accounts.pop(0))

    def give_back(self, address: str) -> None:
        for index in PARTY_ACCOUNTS:
            if dev_account(index).address == address and index not in self.free_accounts:
                self.free_accounts.append(index)


# ---------------------------------------------------------------------------------------- nodes


class NodeStartError(RuntimeError):
    pass


@dataclass
class NodeProcess:
    """One `scn-node serve` process: started, checked for readiness, stopped with SIGTERM."""

    number: int
    account: LocalAccount
    port: int
    rpc_url: str
    registry_address: str
    database_url: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    process: asyncio.subprocess.Process | None = None
    stdout_lines: list[str] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)
    _drain: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        return str(self.account.address)

    @property
    def log_path(self) -> Path:
        return self.workdir / f"node{self.number}.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def full_env(self) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("SCN_")}
        return {
            **inherited,
            "SCN_NODE_URL": self.url,
            "SCN_HOST": "127.0.0.1",
            "SCN_PORT": str(self.port),
            "SCN_PRIVATE_KEY": key_of(self.account),
            "SCN_ADMIN_API_KEY": ADMIN_KEY,
            "SCN_RPC_URL": self.rpc_url,
            "SCN_REGISTRY_ADDRESS": self.registry_address,
            "SCN_DATABASE_URL": self.database_url,
            "SCN_LOG_FORMAT": "json",
            **self.env,
        }

    async def start(self) -> None:
        """Start the process and return once it says it is listening."""
        assert not self.running, f"node {self.number} is already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "scn_node", "serve",
                env=self.full_env(), cwd=ROOT,
                stdout=asyncio.subprocess.PIPE, stderr=log,
                start_new_session=True,  # Ctrl-C in a terminal reaches the harness, not the nodes
            )  # fmt: skip
        assert self.process.stdout is not None
        expected = f"SCN node {self.url} (wallet {self.address}) is listening"
        try:
            async with asyncio.timeout(READY_TIMEOUT):
                while True:
                    line = (await self.process.stdout.readline()).decode()
                    if not line:
                        code = await self.process.wait()
                        self.exit_codes.append(code)
                        raise NodeStartError(
                            f"node {self.number} exited with code {code} before it was ready:\n"
                            + self.logs()
                        )
                    self.stdout_lines.append(line.rstrip("\n"))
                    if expected in line:
                        break
        except TimeoutError:
            await stop_async(self.process)
            self.process = None
            raise NodeStartError(
                f"node {self.number} did not say it was listening within {READY_TIMEOUT:g} s:\n"
                + self.logs()
            ) from None
        self._drain = asyncio.create_task(self._read_stdout(self.process))

    async def _read_stdout(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            self.stdout_lines.append(line.decode().rstrip("\n"))

    async def stop(self) -> int | None:
        """SIGTERM, then wait: the exit code (None if it was not running)."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                process.kill()
                await process.wait()
                self.exit_codes.append(-9)
                return -9
        if self._drain is not None:
            await self._drain
            self._drain = None
        assert process.returncode is not None
        self.exit_codes.append(process.returncode)
        return process.returncode

    async def kill(self) -> None:
        """SIGKILL: a node that crashes or a machine that goes away."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        if self._drain is not None:
            await self._drain
            self._drain = None
        self.process = None

    def logs(self) -> str:
        """Everything the node wrote to stderr (its logs), over all its runs in this test."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_entries(self) -> list[dict[str, Any]]:
        """The JSON log lines, parsed."""
        entries = []
        for line in self.logs().splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    entries.append(json.loads(line))
        return entries


# ---------------------------------------------------------------------------------------- parties


@dataclass(eq=False)
class Party(FakeParty):
    """A FakeParty that knows its node and registry account, keeps its port across restarts,
    and also offers the hubclientinfo receiver interface."""

    node: int = 0
    account: LocalAccount | None = None
    port: int = 0
    hub_client_info: bool = True

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://127.0.0.1:{self.port}"

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


class TwoNodes:
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
        self.chain = chain
        self.workdir = workdir
        self.nodes: dict[int, NodeProcess] = {}
        for number, index in NODE_ACCOUNTS.items():
            database = (database_urls or {}).get(number) or (
                f"sqlite:///{workdir / f'node{number}.db'}"
            )
            self.nodes[number] = NodeProcess(
                number=number,
                account=dev_account(index),
                port=chain.node_ports[number],
                rpc_url=chain.rpc_url,
                registry_address=chain.registry_address,
                database_url=database,
                workdir=workdir,
                env={**(env or {}), **((node_env or {}).get(number) or {})},
            )
        self.parties: list[Party] = []
        self._registry: RegistryContract | None = None
        self.client = httpx.AsyncClient(timeout=60)
        self._request_ids = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> TwoNodes:
        self._registry = await RegistryContract.connect(
            self.chain.rpc_url, self.chain.registry_address
        )
        await asyncio.gather(*(self.start_node(n) for n in self.nodes))
        return self

    async def __aenter__(self) -> TwoNodes:
        try:
            return await self.start()
        except BaseException:
            await self.close(check=False)
            raise

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close(check=kind is None)

    @property
    def registry(self) -> RegistryContract:
        assert self._registry is not None, "the network is not started"
        return self._registry

    def node(self, number: int) -> NodeProcess:
        return self.nodes[number]

    def url(self, number: int) -> str:
        return self.nodes[number].url

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes.values()]

    def logs(self, number: int) -> str:
        return self.nodes[number].logs()

    def log_entries(self, number: int) -> list[dict[str, Any]]:
        return self.nodes[number].log_entries()

    async def start_node(self, number: int) -> NodeProcess:
        """Start (or restart, on the same port and database) node `number`."""
        node = self.nodes[number]
        try:
            await node.start()
        except NodeStartError as error:
            if "cannot listen" not in str(error):
                raise
            # Someone took the listed port while the node was down: list it on another one.
            node.exit_codes.pop()
            node.port = quiet_port()
            self.chain.node_ports[number] = node.port
            await self.registry.set_node(node.account, node.url)
            await node.start()
        return node

    async def stop_node(self, number: int) -> int | None:
        """Stop node `number` with SIGTERM; its exit code (checked again on close)."""
        return await self.nodes[number].stop()

    async def kill_node(self, number: int) -> None:
        await self.nodes[number].kill()

    async def restart_node(self, number: int) -> NodeProcess:
        code = await self.stop_node(number)
        assert code == 0, f"node {number} exited with {code}:\n{self.logs(number)}"
        return await self.start_node(number)

    async def close(self, *, check: bool = True) -> None:
        """Stop both nodes (SIGTERM) and the parties, delete the listings; then fail if a node
        did not exit with 0, showing the end of its log."""
        problems = []
        try:
            codes = await asyncio.gather(*(node.stop() for node in self.nodes.values()))
            for node, code in zip(self.nodes.values(), codes, strict=True):
                bad = [c for c in node.exit_codes if c != 0]
                if code not in (None, 0) or bad:
                    tail = "\n".join(node.logs().splitlines()[-40:])
                    problems.append(f"node {node.number} exited with {bad or code}:\n{tail}")
            await self._delete_listings()
        finally:
            for party in self.parties:
                await party.stop()
            await self.client.aclose()
            if self._registry is not None:
                await self._registry.close()
                self._registry = None
        if problems and check:
            raise AssertionError("\n".join(problems))

    async def _delete_listings(self) -> None:
        if self._registry is None:
            return
        registry = self._registry

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
        response = await self.client.post(
            f"{self.url(node)}/admin/generate-registration-token",
            headers={"Authorization": f"Token {ADMIN_KEY}"},
            json=roles,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    async def post_credentials(
        self, party: Party, node: int, token_a: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.client.post(
            f"{self.url(node)}/scpi/2.2/credentials",
            headers={"Authorization": f"Token {token_a}"},
            content=json.dumps(body or party.credentials()),
        )

    async def register(self, party: Party, node: int) -> None:
        """The credentials handshake with node `node`: a TOKEN_A, then POST credentials."""
        response = await self.post_credentials(party, node, await self.token_a(node))
        assert response.status_code == 200, response.text
        assert response.json()["status_code"] == 1000, response.text
        party.token_c = response.json()["data"]["token"]
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
        receiver: FakeParty | PartyId,
        *,
        family: str = "SCPI",
        request_id: str | None = None,
        correlation_id: str | None = None,
    ) -> dict[str, str]:
        to = receiver.party if isinstance(receiver, FakeParty) else receiver
        request_id = request_id or self.next_request_id()
        return {
            "Authorization": sender.authorization(),
            "X-Request-ID": request_id,
            "X-Correlation-ID": correlation_id or f"corr-{request_id}",
            f"{family}-from-country-code": sender.party.country_code,
            f"{family}-from-party-id": sender.party.party_id,
            f"{family}-to-country-code": to.country_code,
            f"{family}-to-party-id": to.party_id,
        }

    async def send(
        self,
        sender: Party,
        method: str,
        path: str,
        *,
        to: FakeParty | PartyId,
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

    def describe(self) -> dict[str, Any]:
        return {
            "rpc_url": self.chain.rpc_url,
            "registry": self.chain.registry_address,
            "admin_key": ADMIN_KEY,
            "nodes": [
                {
                    "number": node.number,
                    "url": node.url,
                    "address": node.address,
                    "database": node.database_url,
                    "log": str(node.log_path),
                }
                for node in self.nodes.values()
            ],
        }


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


# ---------------------------------------------------------------------------------------- script


def _parse_env(pairs: Iterable[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.startswith("SCN_"):
            raise SystemExit(f"--env takes SCN_NAME=VALUE, not {pair!r}")
        env[name] = value
    return env


async def _run(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="scn-two-nodes-"))
    env = _parse_env(args.env)
    postgres = None
    chain = await asyncio.to_thread(Chain.start, workdir)
    try:
        databases: dict[int, str] = {}
        if args.database == "postgresql":
            from tests.postgres import PostgresServer, server_binaries

            bin_dir = server_binaries()
            if bin_dir is None:
                print("two-nodes: PostgreSQL server binaries not found", file=sys.stderr)
                return 2
            postgres = await asyncio.to_thread(PostgresServer.start, bin_dir)
            databases = {n: await postgres.new_database() for n in NODE_ACCOUNTS}
        network = TwoNodes(chain, workdir, env=env, database_urls=databases)
        async with network:
            if args.json:
                print(json.dumps(network.describe()), flush=True)
            else:
                print(f"ganache   {chain.rpc_url}   registry {chain.registry_address}")
                for node in network.nodes.values():
                    print(f"node {node.number}    {node.url}   wallet {node.address}")
                    print(f"          database {node.database_url}   logs {node.log_path}")
                print(f"admin API key {ADMIN_KEY}")
                print("two nodes are up; press Ctrl-C to stop", flush=True)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            await stop.wait()
            print("two-nodes: stopping", file=sys.stderr)
    finally:
        await asyncio.to_thread(chain.stop)
        if postgres is not None:
            await asyncio.to_thread(postgres.stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/two-nodes",
        description="ganache, the SCN Registry and two `scn-node serve` processes on free ports",
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="SCN_NAME=VALUE",
        help="an extra setting for both nodes (repeatable)",
    )
    parser.add_argument("--workdir", help="where databases and logs go (default: a new temp dir)")
    parser.add_argument("--json", action="store_true", help="print the URLs as one JSON line")
    args = parser.parse_args(argv)
    return asyncio.run(_run(args))


if __name__ == "__main__":
    sys.exit(main())
