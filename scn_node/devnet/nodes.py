"""`scn-node serve` as a child process: the one node-process class of the devnet, the network
tests and the benchmarks.

Readiness is read, never slept for: a node prints "SCN node <url> (wallet <address>) is
listening …" on stdout once it serves. Its logs (stderr) go to `node<n>.log` in `workdir`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from eth_account.signers.local import LocalAccount

ADMIN_API_KEY = "randomkey"  # the tutorial's admin key for both nodes
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
REPO_ROOT = Path(__file__).resolve().parents[2]


class NodeFailed(RuntimeError):
    """A node did not start; the message says why and where its log is."""


def key_of(account: LocalAccount) -> str:
    return "0x" + bytes(account.key).hex()


def remove_databases(workdir: Path, numbers: tuple[int, ...]) -> list[str]:
    """Delete the nodes' SQLite files in `workdir` (the chain is new each run, so they must be
    too); the names of the files removed."""
    removed = []
    for number in numbers:
        for suffix in ("", "-wal", "-shm", "-journal"):
            path = workdir / f"node{number}.db{suffix}"
            if path.exists():
                path.unlink()
                removed.append(path.name)
    return removed


@dataclass
class NodeProcess:
    """One `scn-node serve` on 127.0.0.1:`port`, advertised as http://`host`:`port`.

    `env` adds or overrides `SCN_*` settings; other `SCN_*` variables of this process are not
    passed on unless `inherit_settings` (the devnet lets a user's settings through)."""

    number: int
    account: LocalAccount
    port: int
    rpc_url: str
    registry_address: str
    workdir: Path
    database_url: str = ""  # default: node<number>.db in workdir
    admin_api_key: str = ADMIN_API_KEY
    host: str = "127.0.0.1"  # the devnet advertises localhost, as the tutorial does
    log_format: str | None = "json"  # None: the node's default
    env: dict[str, str] = field(default_factory=dict)
    inherit_settings: bool = False
    process: asyncio.subprocess.Process | None = None
    stdout_lines: list[str] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)
    _drain: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.workdir / f'node{self.number}.db'}"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

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
        inherited = {
            k: v for k, v in os.environ.items() if self.inherit_settings or not k.startswith("SCN_")
        }
        return {
            **inherited,
            "SCN_NODE_URL": self.url,
            "SCN_HOST": "127.0.0.1",
            "SCN_PORT": str(self.port),
            "SCN_PRIVATE_KEY": key_of(self.account),
            "SCN_ADMIN_API_KEY": self.admin_api_key,
            "SCN_RPC_URL": self.rpc_url,
            "SCN_REGISTRY_ADDRESS": self.registry_address,
            "SCN_DATABASE_URL": self.database_url,
            **({"SCN_LOG_FORMAT": self.log_format} if self.log_format else {}),
            **self.env,
        }

    async def start(self, ready_within: float = READY_TIMEOUT) -> NodeProcess:
        """Start the process and return once it says it is listening."""
        assert not self.running, f"node {self.number} is already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Spawned in a task of its own: a cancellation (Ctrl-C) while it starts cannot lose the
        # process, as it is kept before anyone cleans up.
        spawn = asyncio.create_task(self._spawn())
        try:
            await asyncio.shield(spawn)
        except asyncio.CancelledError:
            with contextlib.suppress(BaseException):
                await spawn
            await self.kill()
            raise
        assert self.process is not None and self.process.stdout is not None
        expected = f"SCN node {self.url} (wallet {self.address}) is listening"
        try:
            async with asyncio.timeout(ready_within):
                while True:
                    line = (await self.process.stdout.readline()).decode()
                    if not line:
                        code = await self.process.wait()
                        self.exit_codes.append(code)
                        self.process = None
                        raise NodeFailed(self._failure("no output", f"exit code {code}"))
                    self.stdout_lines.append(line.rstrip("\n"))
                    if expected in line:
                        break
        except TimeoutError:
            await self.kill()
            raise NodeFailed(
                self._failure(f"not listening within {ready_within:g} s", "killed")
            ) from None
        except BaseException:
            await self.kill()  # Ctrl-C while it starts: leave nothing behind
            raise
        self._drain = asyncio.create_task(self._read_stdout(self.process))
        return self

    def _failure(self, reason: str, outcome: str) -> str:
        """One line for a person (the devnet shows only that), then the log for a test."""
        return (
            f"node {self.number} did not start ({reason}); see {self.log_path}\n"
            f"{outcome}; its log:\n{self.logs()}"
        )

    async def healthy(self) -> bool:
        """Whether the node answers GET /health with OK."""
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
                session.get(f"{self.url}/health") as response,
            ):
                return response.status == 200 and await response.text() == "OK"
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def _spawn(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "scn_node", "serve",
                env=self.full_env(), cwd=REPO_ROOT,
                stdout=asyncio.subprocess.PIPE, stderr=log,
                start_new_session=True,  # Ctrl-C in a terminal reaches the caller, not the node
            )  # fmt: skip

    async def _read_stdout(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            self.stdout_lines.append(line.decode().rstrip("\n"))

    async def stop(self, grace: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, then wait (SIGKILL after `grace` seconds): the exit code (None if not running)."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), grace)
            except TimeoutError:
                process.kill()
                await process.wait()
                await self._drained()
                self.exit_codes.append(-9)
                return -9
        await self._drained()
        assert process.returncode is not None
        self.exit_codes.append(process.returncode)
        return process.returncode

    async def kill(self) -> None:
        """SIGKILL: a node that crashes or a machine that goes away."""
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()
        await self._drained()
        self.process = None

    async def _drained(self) -> None:
        if self._drain is not None:
            await self._drain
            self._drain = None

    def logs(self) -> str:
        """Everything the node wrote to stderr (its logs), over all its runs."""
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
