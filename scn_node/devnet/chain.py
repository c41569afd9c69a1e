"""Ganache from the npm package, with the tutorial's settings, and the local contracts' deploy."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import AsyncHTTPProvider, AsyncWeb3

from scn_node.registry import RegistryContract, TransactionReceipt
from scn_node.registry.networks import LOCAL_CHAIN_ID
from scn_node.registry.permissions import PermissionsContract

MNEMONIC = "candy maple cake sugar pudding cream honey rich smooth crumble sweet treat"
ACCOUNTS = 20
BALANCE_ETH = 100
DEFAULT_PORT = 8544
# Account 0 deploys the registry at this nonce and the permissions contract at the next, so both
# land where OCN tools' `local` network expects them.
DEPLOY_NONCE = 2
REPO_ROOT = Path(__file__).resolve().parents[2]


def dev_account(index: int) -> LocalAccount:
    """Account `index` of the tutorial mnemonic (m/44'/60'/0'/0/index), as ganache derives it."""
    Account.enable_unaudited_hdwallet_features()
    account: LocalAccount = Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return account


class ChainFailed(RuntimeError):
    """Ganache is missing or did not start; the message says which, in one line."""


def ganache_binary() -> str:
    """$SCN_GANACHE, the repository's node_modules, or ganache on PATH."""
    candidates = [
        os.environ.get("SCN_GANACHE"),
        str(Path.cwd() / "node_modules" / ".bin" / "ganache"),
        str(REPO_ROOT / "node_modules" / ".bin" / "ganache"),
        shutil.which("ganache"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    raise ChainFailed("ganache not found: run scripts/setup (or `npm ci`) in the repository first")


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def stop_on_signals() -> None:
    """Make SIGINT and SIGTERM raise KeyboardInterrupt.

    Set both explicitly: a background job of a non-interactive shell starts with SIGINT ignored,
    and Python keeps an inherited SIG_IGN, so Ctrl-C (or a test's SIGINT) would do nothing.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)


def wait_for_stop_signal(announce: str = "") -> None:
    """Print `announce`, then block until Ctrl-C (SIGINT) or SIGTERM, so callers can stop what
    they started. A signal right after the announcement counts too: it is printed inside."""
    stop_on_signals()
    with contextlib.suppress(KeyboardInterrupt):
        if announce:
            print(announce, flush=True)
        while True:
            signal.pause()
    # A second Ctrl-C must not cut the teardown short and leave processes behind.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def start_process(
    keep: Callable[[subprocess.Popen[Any]], None], args: list[str], **options: Any
) -> None:
    """Popen in a helper thread, handing the process to `keep` there.

    A Ctrl-C raises KeyboardInterrupt in the main thread only, so it cannot land between the
    fork and `keep`: whoever cleans up after it always finds the process to stop.
    """
    failed: list[BaseException] = []

    def start() -> None:
        try:
            keep(subprocess.Popen(args, **options))
        except BaseException as error:  # handed to the caller below
            failed.append(error)

    starter = threading.Thread(target=start)
    starter.start()
    try:
        starter.join()
    finally:
        starter.join()  # after a Ctrl-C too: the process is kept before the caller cleans up
    if failed:
        raise failed[0]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something listens on `host`:`port` (a bind with SO_REUSEADDR, as servers do, fails)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Ganache:
    """A ganache process on 127.0.0.1:`port` (0 picks a free port)."""

    port: int = DEFAULT_PORT
    host: str = "127.0.0.1"
    chain_id: int = LOCAL_CHAIN_ID
    log: IO[Any] | int = subprocess.DEVNULL
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, *, timeout: float = 60.0) -> Ganache:
        if self.port == 0:
            self.port = free_port()
        # Both ids: --chain.networkId alone leaves eth_chainId at 1337.
        args = [
            ganache_binary(),
            f"--server.host={self.host}",
            f"--server.port={self.port}",
            f"--wallet.mnemonic={MNEMONIC}",
            f"--wallet.totalAccounts={ACCOUNTS}",
            f"--wallet.defaultBalance={BALANCE_ETH}",
            f"--chain.networkId={self.chain_id}",
            f"--chain.chainId={self.chain_id}",
            "--logging.quiet",
        ]
        try:
            try:
                start_process(self._keep, args, stdout=self.log, stderr=self.log)
            except OSError as error:
                raise ChainFailed(f"ganache could not be started: {error}") from None
            self._wait_ready(timeout)
        except BaseException:
            # Also on Ctrl-C during the wait: nothing is left running.
            self.stop()
            raise
        return self

    def _keep(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        payload = b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'
        # The URL is our own http://127.0.0.1 one, never a file: or another scheme.
        request = urllib.request.Request(  # noqa: S310
            self.rpc_url, data=payload, headers={"Content-Type": "application/json"}
        )
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ChainFailed(
                    f"ganache exited with code {self.process.returncode} "
                    f"(is port {self.port} already in use?)"
                )
            try:
                with urllib.request.urlopen(request, timeout=2.0) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except OSError:  # refused, reset or timed out (URLError is an OSError)
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise ChainFailed(f"ganache did not answer on {self.rpc_url} in {timeout:.0f} s")
            time.sleep(0.1)  # polling interval of the readiness check, not a readiness guess

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Ganache:
        return self.start() if self.process is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class LocalContracts:
    registry: str
    registry_receipt: TransactionReceipt
    permissions: str
    permissions_receipt: TransactionReceipt


async def deploy_contracts(rpc_url: str) -> LocalContracts:
    """Deploy the registry and then the permissions contract from account 0, at the
    deterministic local addresses (LOCAL_REGISTRY, LOCAL_PERMISSIONS)."""
    w3 = AsyncWeb3(AsyncHTTPProvider(rpc_url))
    account = dev_account(0)
    try:
        registry, receipt = await RegistryContract.deploy(w3, account, at_nonce=DEPLOY_NONCE)
        permissions, permissions_receipt = await PermissionsContract.deploy(
            w3, account, registry.address, at_nonce=DEPLOY_NONCE + 1
        )
    finally:
        await w3.provider.disconnect()
    return LocalContracts(registry.address, receipt, permissions.address, permissions_receipt)


async def deploy_registry(rpc_url: str) -> tuple[str, TransactionReceipt]:
    """The local deploy (both contracts), for callers that need only the registry's address."""
    deployed = await deploy_contracts(rpc_url)
    return deployed.registry, deployed.registry_receipt
