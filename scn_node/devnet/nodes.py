"""The local network's nodes: `scn-node serve` processes with the tutorial's settings."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from scn_node.devnet.chain import dev_account, start_process

ADMIN_API_KEY = "randomkey"  # the tutorial's admin key for both nodes


class NodeFailed(RuntimeError):
    """A node did not start or did not answer /health; the message says where to look."""


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
    """One `scn-node serve` on 127.0.0.1:`port`, advertised as http://localhost:`port`."""

    number: int
    account_index: int
    port: int
    rpc_url: str
    registry: str
    workdir: Path
    admin_api_key: str = ADMIN_API_KEY
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[str] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def address(self) -> str:
        address: str = dev_account(self.account_index).address
        return address

    @property
    def log_path(self) -> Path:
        return self.workdir / f"node{self.number}.log"

    def start(self, *, timeout: float = 60.0) -> NodeProcess:
        key = "0x" + bytes(dev_account(self.account_index).key).hex()
        env = {
            **os.environ,
            "SCN_NODE_URL": self.url,
            "SCN_HOST": "127.0.0.1",
            "SCN_PORT": str(self.port),
            "SCN_PRIVATE_KEY": key,
            "SCN_ADMIN_API_KEY": self.admin_api_key,
            "SCN_RPC_URL": self.rpc_url,
            "SCN_REGISTRY_ADDRESS": self.registry,
            "SCN_DATABASE_URL": f"sqlite:///{self.workdir / f'node{self.number}.db'}",
            "SCN_LOG_FORMAT": "text",
            **self.extra_env,
        }
        with self.log_path.open("a") as log:
            start_process(
                self._keep, [sys.executable, "-m", "scn_node", "serve"],
                env=env, stdout=subprocess.PIPE, stderr=log, text=True,
            )  # fmt: skip
        assert self.process is not None
        try:
            line = _first_line(self.process, timeout)
        except BaseException:
            self.stop()  # Ctrl-C while it starts: leave nothing behind
            raise
        if "is listening" not in line:
            self.stop()
            raise NodeFailed(
                f"node {self.number} did not start ({line.strip() or 'no output'}); "
                f"see {self.log_path}"
            )
        try:
            health = httpx.get(f"{self.url}/health", timeout=10)
        except httpx.HTTPError as error:
            self.stop()
            raise NodeFailed(
                f"node {self.number} did not answer {self.url}/health ({error}); "
                f"see {self.log_path}"
            ) from None
        if health.status_code != 200 or health.text != "OK":
            self.stop()
            raise NodeFailed(
                f"node {self.number}: /health answered {health.status_code}; see {self.log_path}"
            )
        return self

    def _keep(self, process: subprocess.Popen[str]) -> None:
        self.process = process

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The node's readiness line (or '' if it exits or stays silent for `timeout`)."""
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""
