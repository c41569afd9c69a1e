"""Fixtures for the SCN Registry and SCN Permissions contract tests.

One in-process py-evm chain serves the whole session. The Registry artifact is deployed once from
account 0, then Permissions reading it, and a snapshot is taken; every test starts by reverting to
that snapshot, so each test sees freshly deployed contracts and no state left behind by another.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.datastructures import SignedMessage
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed
from eth_utils import keccak
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD
from web3.types import TxReceipt

ARTIFACT = Path(__file__).resolve().parents[2] / "scn_node" / "registry" / "Registry.json"
PERMISSIONS_ARTIFACT = ARTIFACT.with_name("Permissions.json")
MNEMONIC = "candy maple cake sugar pudding cream honey rich smooth crumble sweet treat"
HD_PATH = "m/44'/60'/0'/0"
ZERO_ADDRESS = "0x" + "00" * 20
# Enough for any successful registry call; passing it skips web3's gas estimate (twice as fast).
TX_GAS = 1_500_000

# The EIP-712 struct types, copied from the contract's *_TYPEHASH preimages.
TYPE_STRINGS = {
    "SetNode": "SetNode(address operator,string domain,uint256 nonce,uint256 deadline)",
    "DeleteNode": "DeleteNode(address operator,uint256 nonce,uint256 deadline)",
    "SetParty": (
        "SetParty(address party,bytes2 countryCode,bytes3 partyId,uint8[] roles,"
        "address operator,uint256 nonce,uint256 deadline)"
    ),
    "SetPartyModules": (
        "SetPartyModules(address party,uint8[] sender,uint8[] receiver,uint256 nonce,"
        "uint256 deadline)"
    ),
    "DeleteParty": "DeleteParty(address party,uint256 nonce,uint256 deadline)",
    "SetService": (
        "SetService(address provider,string name,string url,uint32 permissions,uint256 nonce,"
        "uint256 deadline)"
    ),
    "DeleteService": "DeleteService(address provider,uint256 nonce,uint256 deadline)",
    "CreateAgreement": (
        "CreateAgreement(address user,address provider,uint256 nonce,uint256 deadline)"
    ),
    "RevokeAgreement": (
        "RevokeAgreement(address user,address provider,uint256 nonce,uint256 deadline)"
    ),
}
EIP712_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
DOMAIN_NAME = "SCN Registry"
PERMISSIONS_DOMAIN_NAME = "SCN Permissions"
DOMAIN_VERSION = "1"


def struct_fields(type_string: str) -> list[dict[str, str]]:
    """Turn "Name(type a,type b)" into eth-account's [{"name": "a", "type": "type"}, ...]."""
    match = re.fullmatch(r"\w+\((.*)\)", type_string)
    assert match, type_string
    fields = []
    for member in match.group(1).split(","):
        kind, name = member.split(" ")
        fields.append({"name": name, "type": kind})
    return fields


def load_artifact(path: Path = ARTIFACT) -> dict[str, Any]:
    return json.loads(path.read_text())


# ---------------------------------------------------------------- chain


@dataclass
class Chain:
    tester: EthereumTester
    w3: Web3
    accounts: list[str]
    keys: dict[str, bytes]
    artifact: dict[str, Any]
    registry_address: str
    deploy_receipt: TxReceipt
    permissions_artifact: dict[str, Any]
    permissions_address: str
    snapshot: int


def deploy(
    w3: Web3, artifact: dict[str, Any], sender: str, *args: Any
) -> tuple[Contract, TxReceipt]:
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = w3.eth.wait_for_transaction_receipt(
        factory.constructor(*args).transact({"from": sender, "gas": 6_000_000})
    )
    assert receipt["status"] == 1
    contract = w3.eth.contract(address=receipt["contractAddress"], abi=artifact["abi"])
    return contract, receipt


@pytest.fixture(scope="session")
def chain() -> Chain:
    backend = PyEVMBackend.from_mnemonic(MNEMONIC, num_accounts=20, hd_path=HD_PATH)
    tester = EthereumTester(backend)
    w3 = Web3(EthereumTesterProvider(tester))
    keys = {key.public_key.to_checksum_address(): key.to_bytes() for key in backend.account_keys}
    accounts = [Web3.to_checksum_address(a) for a in w3.eth.accounts]
    assert set(accounts) == set(keys)
    artifact = load_artifact()
    registry, receipt = deploy(w3, artifact, accounts[0])
    permissions_artifact = load_artifact(PERMISSIONS_ARTIFACT)
    permissions, _ = deploy(w3, permissions_artifact, accounts[0], registry.address)
    return Chain(
        tester=tester,
        w3=w3,
        accounts=accounts,
        keys=keys,
        artifact=artifact,
        registry_address=registry.address,
        deploy_receipt=receipt,
        permissions_artifact=permissions_artifact,
        permissions_address=permissions.address,
        snapshot=tester.take_snapshot(),
    )


@pytest.fixture
def w3(chain: Chain) -> Web3:
    """The chain, rewound to just after the Registry deployment."""
    chain.tester.revert_to_snapshot(chain.snapshot)
    return chain.w3


@pytest.fixture
def tester(chain: Chain, w3: Web3) -> EthereumTester:
    return chain.tester


@pytest.fixture
def artifact(chain: Chain) -> dict[str, Any]:
    return chain.artifact


@pytest.fixture
def registry(chain: Chain, w3: Web3) -> Contract:
    return w3.eth.contract(address=chain.registry_address, abi=chain.artifact["abi"])


@pytest.fixture
def permissions(chain: Chain, w3: Web3) -> Contract:
    """SCN Permissions reading the `registry` fixture's contract."""
    return w3.eth.contract(address=chain.permissions_address, abi=chain.permissions_artifact["abi"])


@pytest.fixture
def deploy_permissions(chain: Chain, w3: Web3) -> Callable[[str], Contract]:
    """Deploys another Permissions reading `registry` from account 0 (undone by the next rewind)."""

    def _deploy(registry: str) -> Contract:
        contract, _ = deploy(w3, chain.permissions_artifact, chain.accounts[0], registry)
        return contract

    return _deploy


@pytest.fixture
def deploy_receipt(chain: Chain, registry: Contract) -> TxReceipt:
    return chain.deploy_receipt


@pytest.fixture
def deploy_registry(chain: Chain, w3: Web3) -> Callable[[], Contract]:
    """Deploys another Registry from account 0 (undone by the next test's rewind)."""

    def _deploy() -> Contract:
        contract, _ = deploy(w3, chain.artifact, chain.accounts[0])
        return contract

    return _deploy


@pytest.fixture
def accounts(chain: Chain) -> list[str]:
    """The 20 ganache candy accounts; account 0 deployed the registry."""
    return chain.accounts


@pytest.fixture
def owner(accounts: list[str]) -> str:
    return accounts[0]


@pytest.fixture
def keys(chain: Chain) -> dict[str, bytes]:
    """Private key of each funded account, by checksum address."""
    return chain.keys


@pytest.fixture
def wallets() -> list[LocalAccount]:
    """Unfunded, deterministic signers: their actions reach the chain through a relayer."""
    return [Account.from_key(keccak(f"scn registry test wallet {i}".encode())) for i in range(6)]


# ---------------------------------------------------------------- transactions


@pytest.fixture
def tx(w3: Web3) -> Callable[..., TxReceipt]:
    """Sends a contract call that must succeed and returns its receipt."""

    def _tx(call: ContractFunction, sender: str) -> TxReceipt:
        receipt = w3.eth.wait_for_transaction_receipt(
            call.transact({"from": sender, "gas": TX_GAS})
        )
        if receipt["status"] != 1:
            reason = "?"
            try:
                call.call({"from": sender})
            except (TransactionFailed, ContractLogicError) as error:
                reason = str(error)
            pytest.fail(f"{call.fn_name} from {sender} failed: {reason}")
        return receipt

    return _tx


def revert_reason(error: BaseException) -> str:
    if isinstance(error, ContractLogicError) and error.message:
        message = error.message
    else:
        message = str(error.args[0]) if error.args else str(error)
    prefix = "execution reverted: "
    return message[len(prefix) :] if message.startswith(prefix) else message


@contextlib.contextmanager
def reverts_with(reason: str) -> Iterator[None]:
    """Asserts that the block raises a revert whose reason is exactly `reason`.

    eth-tester raises TransactionFailed for both eth_call and eth_estimateGas; a web3 provider
    backed by a node raises ContractLogicError instead. Both carry "execution reverted: <reason>".
    """
    try:
        yield
    except (TransactionFailed, ContractLogicError) as error:
        actual = revert_reason(error)
        assert actual == reason, f"reverted with {actual!r}, expected {reason!r}"
    else:
        raise AssertionError(f"did not revert (expected {reason!r})")


@pytest.fixture
def reverts() -> Callable[[str], contextlib.AbstractContextManager[None]]:
    return reverts_with


@pytest.fixture
def events(registry: Contract) -> Callable[[TxReceipt, str], list[dict[str, Any]]]:
    """Decoded `name` events of the registry in a receipt (their args)."""

    def _events(receipt: TxReceipt, name: str) -> list[dict[str, Any]]:
        decoded = registry.events[name]().process_receipt(receipt, errors=DISCARD)
        return [dict(event["args"]) for event in decoded]

    return _events


# ---------------------------------------------------------------- time


@pytest.fixture
def now(w3: Web3) -> Callable[[], int]:
    """Timestamp of the latest block."""
    return lambda: int(w3.eth.get_block("latest")["timestamp"])


@pytest.fixture
def deadline(now: Callable[[], int]) -> int:
    """A deadline one hour after the rewound chain's head."""
    return now() + 3600


# ---------------------------------------------------------------- EIP-712


class Signer:
    """Signs a contract's EIP-712 actions the way a wallet or the CLI would."""

    def __init__(self, w3: Web3, registry: Contract, domain_name: str = DOMAIN_NAME) -> None:
        self.w3 = w3
        self.registry = registry  # the verifying contract, whose nonces are read
        self.domain_name = domain_name

    def domain(
        self,
        *,
        chain_id: int | None = None,
        verifying_contract: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        return {
            "name": name or self.domain_name,
            "version": DOMAIN_VERSION,
            "chainId": self.w3.eth.chain_id if chain_id is None else chain_id,
            "verifyingContract": verifying_contract or self.registry.address,
        }

    def typed_data(
        self, primary_type: str, message: dict[str, Any], **domain: Any
    ) -> dict[str, Any]:
        return {
            "types": {
                "EIP712Domain": EIP712_DOMAIN_FIELDS,
                primary_type: struct_fields(TYPE_STRINGS[primary_type]),
            },
            "primaryType": primary_type,
            "domain": self.domain(**domain),
            "message": message,
        }

    def sign(
        self,
        primary_type: str,
        key: bytes,
        subject: str,
        fields: dict[str, Any],
        deadline: int,
        nonce: int | None,
        **domain: Any,
    ) -> SignedMessage:
        if nonce is None:
            nonce = self.registry.functions.nonces(subject).call()
        message = {**fields, "nonce": nonce, "deadline": deadline}
        full = self.typed_data(primary_type, message, **domain)
        return Account.sign_message(encode_typed_data(full_message=full), key)

    def set_node(
        self,
        key: bytes,
        operator: str,
        domain_name: str,
        deadline: int,
        nonce: int | None = None,
        **domain: Any,
    ) -> bytes:
        fields = {"operator": operator, "domain": domain_name}
        return self.sign("SetNode", key, operator, fields, deadline, nonce, **domain).signature

    def delete_node(
        self, key: bytes, operator: str, deadline: int, nonce: int | None = None, **domain: Any
    ) -> bytes:
        fields = {"operator": operator}
        return self.sign("DeleteNode", key, operator, fields, deadline, nonce, **domain).signature

    def set_party(
        self,
        key: bytes,
        party: str,
        country_code: bytes,
        party_id: bytes,
        roles: list[int],
        operator: str,
        deadline: int,
        nonce: int | None = None,
        **domain: Any,
    ) -> bytes:
        fields = {
            "party": party,
            "countryCode": country_code,
            "partyId": party_id,
            "roles": roles,
            "operator": operator,
        }
        return self.sign("SetParty", key, party, fields, deadline, nonce, **domain).signature

    def set_party_modules(
        self,
        key: bytes,
        party: str,
        sender: list[int],
        receiver: list[int],
        deadline: int,
        nonce: int | None = None,
        **domain: Any,
    ) -> bytes:
        fields = {"party": party, "sender": sender, "receiver": receiver}
        return self.sign("SetPartyModules", key, party, fields, deadline, nonce, **domain).signature

    def delete_party(
        self, key: bytes, party: str, deadline: int, nonce: int | None = None, **domain: Any
    ) -> bytes:
        fields = {"party": party}
        return self.sign("DeleteParty", key, party, fields, deadline, nonce, **domain).signature

    def set_service(
        self,
        key: bytes,
        provider: str,
        name: str,
        url: str,
        permissions: int,
        deadline: int,
        nonce: int | None = None,
        **domain: Any,
    ) -> bytes:
        fields = {"provider": provider, "name": name, "url": url, "permissions": permissions}
        return self.sign("SetService", key, provider, fields, deadline, nonce, **domain).signature

    def delete_service(
        self, key: bytes, provider: str, deadline: int, nonce: int | None = None, **domain: Any
    ) -> bytes:
        fields = {"provider": provider}
        return self.sign(
            "DeleteService", key, provider, fields, deadline, nonce, **domain
        ).signature

    def agreement(
        self,
        action: str,
        key: bytes,
        user: str,
        provider: str,
        deadline: int,
        nonce: int | None = None,
        **domain: Any,
    ) -> bytes:
        """CreateAgreement or RevokeAgreement: the same fields, different struct types."""
        fields = {"user": user, "provider": provider}
        return self.sign(action, key, user, fields, deadline, nonce, **domain).signature


@pytest.fixture
def type_strings() -> dict[str, str]:
    """The EIP-712 struct type of each signed action, as the contract spells it."""
    return dict(TYPE_STRINGS)


@pytest.fixture
def sign(w3: Web3, registry: Contract) -> Signer:
    return Signer(w3, registry)


@pytest.fixture
def sign_permissions(w3: Web3, permissions: Contract) -> Signer:
    return Signer(w3, permissions, PERMISSIONS_DOMAIN_NAME)
