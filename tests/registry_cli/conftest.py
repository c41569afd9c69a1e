"""The `scn-registry` CLI driven through click's runner against an in-process chain.

One eth-tester chain serves the session; the CLI reaches it through `ctx.obj["make_web3"]`, so each
command runs its own event loop exactly as the installed script does, with no RPC server. The
set-up stages (`chain`: no registry yet, `deployed`, `node`, `listed`) are each made once, through
the CLI, and snapshotted; a test starts by rewinding the chain to the snapshot of the stage it asks
for, so it sees exactly the chain that making the stage afresh would give it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner, Result
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester
from web3 import AsyncWeb3

from registry_cli.cli import cli
from scn_node.registry.networks import LOCAL_REGISTRY
from tests.chain import TesterProvider, new_tester

T = TypeVar("T")
# Variables the CLI reads; cleared for every invocation so the developer's shell cannot leak in.
CLI_ENV = ("SIGNER", "SPENDER", "SCN_RPC_URL", "SCN_REGISTRY_ADDRESS", "SCN_NETWORKS_FILE")
SENT = re.compile(r"^(?P<label>.+): sent (?P<hash>0x[0-9a-f]{64}), waiting for the receipt", re.M)
MINED = re.compile(r"^(?P<label>.+): mined in block (?P<block>\d+), gas used (?P<gas>\d+)$", re.M)


def key_of(account: LocalAccount) -> str:
    """The private key as a user pastes it: 0x + 64 hex digits."""
    raw = account.key.hex()
    return raw if raw.startswith("0x") else "0x" + raw


class ClosableTesterProvider(TesterProvider):
    """The CLI closes its provider after every command; an in-process chain has nothing to close.

    (web3's base provider raises NotImplementedError from `disconnect`; the HTTP provider the CLI
    uses in production implements it.)
    """

    async def disconnect(self) -> None:
        return None


@dataclass
class Chain:
    """The session's chain, as one test sees it, and a way to run `scn-registry` against it."""

    tester: EthereumTester
    w3: AsyncWeb3[Any]
    home: Path
    rpc_urls: list[str] = field(default_factory=list)
    """Every RPC URL the CLI asked to connect to in this test, in order."""

    def _make_web3(self, rpc_url: str) -> AsyncWeb3[Any]:
        self.rpc_urls.append(rpc_url)
        return self.w3

    def invoke(
        self,
        *args: str,
        signer: LocalAccount | str | None = None,
        spender: LocalAccount | str | None = None,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
    ) -> Result:
        environment: dict[str, str | None] = dict.fromkeys(CLI_ENV)
        environment["HOME"] = str(self.home)  # no ~/.config/scn/networks.json of the developer
        if signer is not None:
            environment["SIGNER"] = signer if isinstance(signer, str) else key_of(signer)
        if spender is not None:
            environment["SPENDER"] = spender if isinstance(spender, str) else key_of(spender)
        environment.update(env or {})
        return CliRunner().invoke(
            cli,
            list(args),
            obj={"make_web3": self._make_web3},
            env=environment,
            input=input,
            catch_exceptions=True,
        )

    def ok(self, *args: str, **kwargs: Any) -> Result:
        """Invoke and insist on success, showing everything the CLI said when it fails."""
        result = self.invoke(*args, **kwargs)
        assert result.exit_code == 0, describe(result)
        return result

    def json(self, *args: str, **kwargs: Any) -> Any:
        """Invoke with --json and return the parsed stdout (which must be JSON and only JSON)."""
        return json.loads(self.ok("--json", *args, **kwargs).stdout)

    def party(self, *lookup: str) -> Any:
        """`--json get-party` LOOKUP: the listing, or None when the CLI says it is not listed
        (exit 1, JSON null on stdout)."""
        result = self.invoke("--json", "get-party", *lookup)
        if result.exit_code == 1 and result.stdout == "null\n":
            assert "listed in the registry" in result.stderr, describe(result)
            return None
        assert result.exit_code == 0, describe(result)
        return json.loads(result.stdout)

    # Direct reads from the chain, to check what a command did (or did not do).
    def block_number(self) -> int:
        return int(self.tester.get_block_by_number("latest")["number"])

    def balance(self, account: LocalAccount | str) -> int:
        return int(self.tester.get_balance(_address(account)))

    def nonce(self, account: LocalAccount | str) -> int:
        return int(self.tester.get_nonce(_address(account)))

    def receipt(self, tx_hash: str) -> dict[str, Any]:
        return dict(self.tester.get_transaction_receipt(tx_hash))


def _address(account: LocalAccount | str) -> str:
    return account if isinstance(account, str) else account.address


def describe(result: Result) -> str:
    return (
        f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}\n"
        f"exception: {result.exception!r}"
    )


class Stages:
    """The session's chain and a snapshot of it at each set-up stage, taken when a test first asks
    for that stage. A stage is made on top of the one its fixture depends on, so its name stands
    for the whole way there; two fixtures never share a name."""

    def __init__(self) -> None:
        self.tester = new_tester()
        self.w3: AsyncWeb3[Any] = AsyncWeb3(ClosableTesterProvider(self.tester))
        self._made: dict[str, tuple[int, Any]] = {}

    def enter(self, stage: str, make: Callable[[], T]) -> T:
        """Rewind to `stage` and give what making it gave. The first time, `make` it (the chain is
        at the stage below, which the fixture has just entered) and snapshot the result."""
        if stage in self._made:
            snapshot, value = self._made[stage]
            self.tester.revert_to_snapshot(snapshot)
            made: T = value
            return made
        value = make()
        self._made[stage] = (self.tester.take_snapshot(), value)
        return value


@pytest.fixture(scope="session")
def stages() -> Stages:
    return Stages()


@pytest.fixture
def chain(stages: Stages, tmp_path: Path) -> Chain:
    """The chain with the tutorial's 20 funded accounts and no registry yet."""
    stages.enter("fresh", lambda: None)  # the genesis block is the stage
    return Chain(stages.tester, stages.w3, tmp_path)


@pytest.fixture
def deployed(chain: Chain, stages: Stages, accounts: list[LocalAccount]) -> Chain:
    """The chain with a registry deployed by account 0 through the CLI, at the `local` address."""

    def deploy() -> None:
        result = chain.ok("deploy", "--at-nonce", "2", signer=accounts[0])
        assert LOCAL_REGISTRY in result.stdout

    stages.enter("deployed", deploy)
    return chain


@pytest.fixture
def operator(accounts: list[LocalAccount]) -> LocalAccount:
    """Account 14: node 1 of the tutorial."""
    return accounts[14]


@pytest.fixture
def party(accounts: list[LocalAccount]) -> LocalAccount:
    """Account 19: DE MSP of the tutorial."""
    return accounts[19]


@pytest.fixture
def node(deployed: Chain, stages: Stages, operator: LocalAccount) -> Chain:
    """The registry with the operator's node listed at http://localhost:8080."""
    stages.enter("node", lambda: deployed.ok("set-node", "http://localhost:8080", signer=operator))
    return deployed


@pytest.fixture
def listed(node: Chain, stages: Stages, operator: LocalAccount, party: LocalAccount) -> Chain:
    """The registry with the node and DE MSP (EMSP) using it."""
    stages.enter(
        "listed",
        lambda: node.ok(
            "set-party", "-c", "DE", "MSP", "-r", "EMSP", "-o", operator.address, signer=party
        ),
    )
    return node


def assert_fails(result: Result, exit_code: int, *messages: str) -> None:
    """A clean refusal: the exit code, each message on stderr, nothing on stdout, no traceback."""
    assert result.exit_code == exit_code, describe(result)
    assert isinstance(result.exception, SystemExit), describe(result)
    assert result.stdout == "", describe(result)
    for message in messages:
        assert message in result.stderr, describe(result)
