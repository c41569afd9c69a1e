"""Behaviour of the SCN Registry contract: OCN scenarios, closed holes, events and ownership."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

ZERO = "0x" + "00" * 20
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

DOMAIN1 = "http://localhost:8080"
DOMAIN2 = "https://node2.example.com"
DOMAIN3 = "http://localhost:8083"

CPO, EMSP, HUB, NAP, NSP, OTHER, SCSP = range(7)
CDRS, CHARGINGPROFILES, COMMANDS, LOCATIONS, SESSIONS, TARIFFS, TOKENS = range(7)

EMPTY_BY_ADDRESS = [b"\x00\x00", b"\x00\x00\x00", [], [], [], ZERO, ""]
EMPTY_BY_OCPI = [ZERO, [], [], [], ZERO, ""]

EMPTY_DOMAIN = "Cannot set empty domain name. Use deleteNode method instead."
DOMAIN_TOO_LONG = "Domain name too long."
DOMAIN_NOT_URL = "Domain must be an http(s) URL without a trailing slash."
DOMAIN_TAKEN = "Domain name already registered."
NO_NODE = "Cannot delete node that does not exist."
EMPTY_CC = "Cannot set empty country_code. Use deleteParty method instead."
EMPTY_PID = "Cannot set empty party_id. Use deleteParty method instead."
BAD_CC = "country_code must be two upper-case letters."
BAD_PID = "party_id must be three upper-case letters or digits."
NO_ROLES = "No roles provided."
BAD_ROLE = "Unknown role: roles are 0 (CPO) to 6 (SCSP)."
EMPTY_OPERATOR = "Cannot set empty operator. Use deleteParty method instead."
OPERATOR_UNKNOWN = "Provided operator not registered."
CREDENTIALS_TAKEN = "Party with country_code/party_id already registered under different address."
PARTY_UNKNOWN = "Party not registered. Use setParty method first."
NO_PARTY = "Cannot delete party that does not exist. No operator found for given party."
BAD_MODULE = "Unknown module: modules are 0 (cdrs) to 6 (tokens)."
EXPIRED = "Signature expired."
INVALID_SIGNATURE = "Invalid signature."
NOT_OWNER = "Ownable: caller is not the owner"
NOT_PENDING_OWNER = "Ownable: caller is not the pending owner"
ZERO_OWNER = "Ownable: new owner is the zero address"

Tx = Callable[[ContractFunction, str], TxReceipt]
Events = Callable[[TxReceipt, str], list[dict[str, Any]]]


def topic_address(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


def topic_credentials(cc: bytes, pid: bytes) -> bytes:
    return (cc + pid).ljust(32, b"\x00")


class Signed:
    """Signed registry calls for one signer, ready to be sent by any relayer."""

    def __init__(self, registry: Contract, sign: Any, key: bytes, deadline: int) -> None:
        self.registry = registry
        self.sign = sign
        self.key = key
        self.address = Account.from_key(key).address
        self.deadline = deadline

    def set_node(self, domain: str = DOMAIN3, **options: Any) -> ContractFunction:
        deadline = options.pop("deadline", self.deadline)
        sig = self.sign.set_node(self.key, self.address, domain, deadline, **options)
        return self.registry.functions.setNodeSigned(self.address, domain, deadline, sig)

    def delete_node(self, **options: Any) -> ContractFunction:
        deadline = options.pop("deadline", self.deadline)
        sig = self.sign.delete_node(self.key, self.address, deadline, **options)
        return self.registry.functions.deleteNodeSigned(self.address, deadline, sig)

    def set_party(
        self,
        operator: str,
        cc: bytes = b"CH",
        pid: bytes = b"CPO",
        roles: tuple[int, ...] = (CPO,),
        **options: Any,
    ) -> ContractFunction:
        deadline = options.pop("deadline", self.deadline)
        sig = self.sign.set_party(
            self.key, self.address, cc, pid, list(roles), operator, deadline, **options
        )
        return self.registry.functions.setPartySigned(
            self.address, cc, pid, list(roles), operator, deadline, sig
        )

    def set_party_modules(
        self, sender: tuple[int, ...] = (), receiver: tuple[int, ...] = (), **options: Any
    ) -> ContractFunction:
        deadline = options.pop("deadline", self.deadline)
        sig = self.sign.set_party_modules(
            self.key, self.address, list(sender), list(receiver), deadline, **options
        )
        return self.registry.functions.setPartyModulesSigned(
            self.address, list(sender), list(receiver), deadline, sig
        )

    def delete_party(self, **options: Any) -> ContractFunction:
        deadline = options.pop("deadline", self.deadline)
        sig = self.sign.delete_party(self.key, self.address, deadline, **options)
        return self.registry.functions.deletePartySigned(self.address, deadline, sig)


@pytest.fixture
def signed(registry: Contract, sign: Any, deadline: int) -> Callable[[bytes], Signed]:
    return lambda key: Signed(registry, sign, key, deadline)


@pytest.fixture
def wallet(wallets: list[LocalAccount]) -> LocalAccount:
    return wallets[0]


@pytest.fixture
def operator(registry: Contract, accounts: list[str], tx: Tx) -> str:
    """Account 1, running a node at DOMAIN1."""
    tx(registry.functions.setNode(DOMAIN1), accounts[1])
    return accounts[1]


@pytest.fixture
def relayer(accounts: list[str]) -> str:
    """Pays the gas of signed calls; never the subject of one."""
    return accounts[9]


def set_party(
    registry: Contract,
    tx: Tx,
    party: str,
    operator: str,
    cc: bytes = b"DE",
    pid: bytes = b"ABC",
    roles: tuple[int, ...] = (EMSP, HUB),
) -> TxReceipt:
    return tx(registry.functions.setParty(cc, pid, list(roles), operator), party)


def details(registry: Contract, party: str) -> list[Any]:
    return registry.functions.getPartyDetailsByAddress(party).call()


def by_ocpi(registry: Contract, cc: bytes, pid: bytes) -> list[Any]:
    return registry.functions.getPartyDetailsByOcpi(cc, pid).call()


def listing(registry: Contract, party: str) -> tuple[Any, ...]:
    """What listParties/listPartiesOf must say about one party."""
    cc, pid, sender, receiver, roles, operator, domain = details(registry, party)
    return (party, cc, pid, roles, sender, receiver, operator, domain)


def nonce(registry: Contract, address: str) -> int:
    return registry.functions.nonces(address).call()


def sig_parts(signature: bytes) -> tuple[int, int, int]:
    return (
        int.from_bytes(signature[:32], "big"),
        int.from_bytes(signature[32:64], "big"),
        signature[64],
    )


def pack_sig(r: int, s: int, v: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])


# ================================================================ OCN reference scenarios (§5)


def test_set_node_lists_the_operator(registry: Contract, accounts: list[str], tx: Tx) -> None:
    a1 = accounts[1]
    tx(registry.functions.setNode(DOMAIN1), a1)
    assert registry.functions.getNode(a1).call() == DOMAIN1
    assert registry.functions.getNodeOperators().call() == [a1]
    assert registry.functions.nodeCount().call() == 1


def test_set_node_signed_lists_the_signer_not_the_relayer(
    registry: Contract, accounts: list[str], tx: Tx, wallet: LocalAccount, signed: Any
) -> None:
    relayer = accounts[2]
    tx(signed(wallet.key).set_node(DOMAIN1), relayer)
    assert registry.functions.getNode(wallet.address).call() == DOMAIN1
    assert registry.functions.getNode(relayer).call() == ""
    assert registry.functions.getNodeOperators().call() == [wallet.address]


def test_changing_domain_keeps_a_single_operator_entry(
    registry: Contract, accounts: list[str], tx: Tx
) -> None:
    a3 = accounts[3]
    tx(registry.functions.setNode(DOMAIN1), a3)
    tx(registry.functions.setNode(DOMAIN2), a3)
    assert registry.functions.getNode(a3).call() == DOMAIN2
    assert registry.functions.getNodeOperators().call() == [a3]
    assert registry.functions.nodeCount().call() == 1


def test_domain_held_by_another_operator_is_rejected(
    registry: Contract, accounts: list[str], tx: Tx, reverts: Any
) -> None:
    a3, a4 = accounts[3], accounts[4]
    tx(registry.functions.setNode(DOMAIN1), a3)
    with reverts(DOMAIN_TAKEN):
        registry.functions.setNode(DOMAIN1).transact({"from": a4})
    assert registry.functions.getNode(a4).call() == ""
    assert registry.functions.getNodeOperators().call() == [a3]


def test_delete_node_clears_the_domain(registry: Contract, operator: str, tx: Tx) -> None:
    tx(registry.functions.deleteNode(), operator)
    assert registry.functions.getNode(operator).call() == ""


def test_delete_node_signed_by_the_operator_can_be_relayed(
    registry: Contract, accounts: list[str], keys: dict[str, bytes], tx: Tx, signed: Any, relayer: str
) -> None:
    op = accounts[5]
    tx(registry.functions.setNode(DOMAIN1), op)
    tx(signed(keys[op]).delete_node(), relayer)
    assert registry.functions.getNode(op).call() == ""
    assert registry.functions.getNodeOperators().call() == []


def test_deleted_domain_can_be_registered_by_another_operator(
    registry: Contract, accounts: list[str], tx: Tx
) -> None:
    a3, a4 = accounts[3], accounts[4]
    tx(registry.functions.setNode(DOMAIN1), a3)
    tx(registry.functions.deleteNode(), a3)
    tx(registry.functions.setNode(DOMAIN1), a4)
    assert registry.functions.getNode(a4).call() == DOMAIN1
    assert registry.functions.getNodeOperators().call() == [a4]


def test_owner_can_admin_delete_an_operator(
    registry: Contract, owner: str, operator: str, tx: Tx, events: Events
) -> None:
    receipt = tx(registry.functions.adminDeleteOperator(operator), owner)
    assert registry.functions.getNode(operator).call() == ""
    assert registry.functions.getNodeOperators().call() == []
    assert events(receipt, "NodeDeleted") == [
        {"operator": operator, "domain": DOMAIN1, "byOwner": True}
    ]


def test_node_operators_are_listed_in_insertion_order(
    registry: Contract, accounts: list[str], tx: Tx
) -> None:
    a1, a2, a3 = accounts[1:4]
    tx(registry.functions.setNode(DOMAIN1), a1)
    tx(registry.functions.setNode(DOMAIN2), a2)
    tx(registry.functions.setNode(DOMAIN3), a3)
    assert registry.functions.getNodeOperators().call() == [a1, a2, a3]
    assert registry.functions.listNodes(0, 10).call() == [
        (a1, DOMAIN1),
        (a2, DOMAIN2),
        (a3, DOMAIN3),
    ]


def test_set_party_stores_details_and_lists_the_party(
    registry: Contract, accounts: list[str], operator: str, tx: Tx
) -> None:
    a2 = accounts[2]
    set_party(registry, tx, a2, operator, b"DE", b"ABC", (EMSP, HUB))
    assert details(registry, a2) == [b"DE", b"ABC", [], [], [EMSP, HUB], operator, DOMAIN1]
    assert by_ocpi(registry, b"DE", b"ABC") == [a2, [EMSP, HUB], [], [], operator, DOMAIN1]
    assert registry.functions.getParties().call() == [a2]
    assert registry.functions.getOperatorByAddress(a2).call() == [operator, DOMAIN1]
    assert registry.functions.getOperatorByOcpi(b"DE", b"ABC").call() == [operator, DOMAIN1]


def test_set_party_update_moves_the_party_to_another_operator(
    registry: Contract, accounts: list[str], operator: str, tx: Tx
) -> None:
    a2, a3 = accounts[2], accounts[3]
    tx(registry.functions.setNode(DOMAIN2), a3)
    set_party(registry, tx, a2, operator, roles=(EMSP, HUB))
    set_party(registry, tx, a2, a3, roles=(CPO, SCSP))
    assert details(registry, a2) == [b"DE", b"ABC", [], [], [CPO, SCSP], a3, DOMAIN2]
    assert registry.functions.getParties().call() == [a2]
    assert registry.functions.getOperatorByAddress(a2).call() == [a3, DOMAIN2]


def test_credentials_held_by_another_party_are_rejected(
    registry: Contract, accounts: list[str], operator: str, tx: Tx, reverts: Any
) -> None:
    a2, a4 = accounts[2], accounts[4]
    set_party(registry, tx, a2, operator)
    before = details(registry, a2)
    with reverts(CREDENTIALS_TAKEN):
        registry.functions.setParty(b"DE", b"ABC", [CPO], operator).transact({"from": a4})
    assert details(registry, a2) == before
    assert details(registry, a4) == EMPTY_BY_ADDRESS
    assert registry.functions.getParties().call() == [a2]


def test_set_party_signed_stores_the_party_under_the_signer(
    registry: Contract, operator: str, tx: Tx, wallet: LocalAccount, signed: Any, relayer: str
) -> None:
    tx(signed(wallet.key).set_party(operator, b"CH", b"CPO", (CPO,)), relayer)
    assert details(registry, wallet.address) == [b"CH", b"CPO", [], [], [CPO], operator, DOMAIN1]
    assert details(registry, relayer) == EMPTY_BY_ADDRESS
    assert registry.functions.getParties().call() == [wallet.address]


def test_delete_party_clears_every_field(
    registry: Contract, accounts: list[str], operator: str, tx: Tx
) -> None:
    a2 = accounts[2]
    set_party(registry, tx, a2, operator)
    tx(registry.functions.setPartyModules([CDRS], [TOKENS]), a2)
    tx(registry.functions.deleteParty(), a2)
    assert details(registry, a2) == EMPTY_BY_ADDRESS
    assert by_ocpi(registry, b"DE", b"ABC") == EMPTY_BY_OCPI
    assert registry.functions.getOperatorByOcpi(b"DE", b"ABC").call() == [ZERO, ""]
    assert registry.functions.getParties().call() == []


def test_delete_party_signed_clears_every_field(
    registry: Contract, operator: str, tx: Tx, wallet: LocalAccount, signed: Any, relayer: str
) -> None:
    tx(signed(wallet.key).set_party(operator), relayer)
    tx(signed(wallet.key).delete_party(), relayer)
    assert details(registry, wallet.address) == EMPTY_BY_ADDRESS
    assert registry.functions.getParties().call() == []


def test_owner_can_admin_delete_a_party(
    registry: Contract, accounts: list[str], owner: str, operator: str, tx: Tx, events: Events
) -> None:
    a2 = accounts[2]
    set_party(registry, tx, a2, operator)
    receipt = tx(registry.functions.adminDeleteParty(b"DE", b"ABC"), owner)
    assert details(registry, a2) == EMPTY_BY_ADDRESS
    assert registry.functions.getParties().call() == []
    assert events(receipt, "PartyDeleted") == [
        {"party": a2, "credentials": b"DEABC", "operator": operator, "byOwner": True}
    ]


def test_set_party_modules_stores_sender_and_receiver(
    registry: Contract, accounts: list[str], operator: str, tx: Tx
) -> None:
    a2 = accounts[2]
    set_party(registry, tx, a2, operator)
    tx(registry.functions.setPartyModules([CHARGINGPROFILES], [COMMANDS, LOCATIONS]), a2)
    cc, pid, sender, receiver, roles, *_ = details(registry, a2)
    assert sender == [CHARGINGPROFILES]
    assert receiver == [COMMANDS, LOCATIONS]
    assert by_ocpi(registry, cc, pid)[1:4] == [roles, [CHARGINGPROFILES], [COMMANDS, LOCATIONS]]


def test_empty_module_lists_clear_the_modules(
    registry: Contract, accounts: list[str], operator: str, tx: Tx
) -> None:
    a2 = accounts[2]
    set_party(registry, tx, a2, operator)
    tx(registry.functions.setPartyModules([CHARGINGPROFILES], [COMMANDS, LOCATIONS]), a2)
    tx(registry.functions.setPartyModules([], []), a2)
    assert details(registry, a2)[2:4] == [[], []]


def test_set_party_modules_signed_by_the_party_can_be_relayed(
    registry: Contract, operator: str, tx: Tx, wallet: LocalAccount, signed: Any, relayer: str
) -> None:
    tx(signed(wallet.key).set_party(operator), relayer)
    tx(signed(wallet.key).set_party_modules((CHARGINGPROFILES, COMMANDS), ()), relayer)
    assert details(registry, wallet.address)[2:4] == [[CHARGINGPROFILES, COMMANDS], []]
    assert details(registry, relayer) == EMPTY_BY_ADDRESS

