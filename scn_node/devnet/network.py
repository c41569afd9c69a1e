"""Two `scn-node serve` processes on a ganache chain of their own: the network the network tests,
scripts/two-nodes and anyone wanting two real nodes use.

`Chain` starts ganache on a free port, deploys the SCN Registry with the `scn-registry` CLI and
lists node 1 (dev account 14) and node 2 (dev account 2) with `scn-registry set-node`.
`TwoNodes` starts both nodes (`NodeProcess`) on their listed ports and stops them again,
checking that each exited with 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from eth_account.signers.local import LocalAccount

from scn_node.devnet.chain import Ganache, dev_account, free_port
from scn_node.devnet.nodes import REPO_ROOT, NodeFailed, NodeProcess, key_of
from scn_node.devnet.processes import stop
from scn_node.registry import RegistryContract

ADMIN_KEY = "network-admin-key"
NODE_ACCOUNTS = {1: 14, 2: 2}  # node number -> dev account: the tutorial's node 1, OCN's node 2
# Dev accounts parties list themselves with: not 0 (registry owner), 2 or 14 (the nodes).
PARTY_ACCOUNTS = (1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19)
STOP_TIMEOUT = 30.0
CLI_TIMEOUT = 120.0


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
        cwd=REPO_ROOT,
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
                    cwd=REPO_ROOT,
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


class TwoNodes:
    """Both nodes of a chain, started as processes.

    Nodes are numbered 1 and 2 (`nodes[1]`, `nodes[2]`), each on its listed port, with a
    SQLite file in `workdir` unless `database_urls` names another database.
    """

    def __init__(
        self,
        chain: Chain,
        workdir: Path,
        *,
        env: Mapping[str, str] | None = None,
        node_env: Mapping[int, Mapping[str, str]] | None = None,
        database_urls: Mapping[int, str] | None = None,
        admin_key: str = ADMIN_KEY,
    ) -> None:
        self.chain = chain
        self.workdir = workdir
        self.admin_key = admin_key
        self.nodes: dict[int, NodeProcess] = {}
        for number, index in NODE_ACCOUNTS.items():
            self.nodes[number] = NodeProcess(
                number=number,
                account=dev_account(index),
                port=chain.node_ports[number],
                rpc_url=chain.rpc_url,
                registry_address=chain.registry_address,
                workdir=workdir,
                database_url=(database_urls or {}).get(number, ""),
                admin_api_key=admin_key,
                env={**(env or {}), **((node_env or {}).get(number) or {})},
            )
        self._registry: RegistryContract | None = None

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
        except NodeFailed as error:
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

    async def stop_nodes(self) -> list[str]:
        """Stop both nodes (SIGTERM); a line and the end of its log for each node that did not
        always exit with 0."""
        problems = []
        codes = await asyncio.gather(*(node.stop() for node in self.nodes.values()))
        for node, code in zip(self.nodes.values(), codes, strict=True):
            bad = [c for c in node.exit_codes if c != 0]
            if code not in (None, 0) or bad:
                tail = "\n".join(node.logs().splitlines()[-40:])
                problems.append(f"node {node.number} exited with {bad or code}:\n{tail}")
        return problems

    async def close_registry(self) -> None:
        if self._registry is not None:
            await self._registry.close()
            self._registry = None

    async def close(self, *, check: bool = True) -> None:
        """Stop both nodes; then fail if one did not exit with 0, showing the end of its log."""
        try:
            problems = await self.stop_nodes()
        finally:
            await self.close_registry()
        if problems and check:
            raise AssertionError("\n".join(problems))

    def describe(self) -> dict[str, Any]:
        return {
            "rpc_url": self.chain.rpc_url,
            "registry": self.chain.registry_address,
            "admin_key": self.admin_key,
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
