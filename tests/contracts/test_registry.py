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


def topic0(registry: Contract, name: str) -> bytes:
    return bytes.fromhex(registry.events[name].topic.removeprefix("0x"))


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
    registry: Contract,
    accounts: list[str],
    keys: dict[str, bytes],
    tx: Tx,
    signed: Any,
    relayer: str,
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


# ================================================================ closed hole: replay over time


def test_replayed_set_node_signature_is_rejected(
    registry: Contract, tx: Tx, wallet: LocalAccount, signed: Any, relayer: str, reverts: Any
) -> None:
    old = signed(wallet.key).set_node(DOMAIN1)
    tx(old, relayer)
    tx(signed(wallet.key).set_node(DOMAIN2), relayer)
    # Replaying the first signature would restore the old listing: the nonce has moved on.
    with reverts(INVALID_SIGNATURE):
        old.transact({"from": relayer})
    assert registry.functions.getNode(wallet.address).call() == DOMAIN2
    assert nonce(registry, wallet.address) == 2


def test_replayed_signature_is_rejected_even_when_it_would_be_a_no_op(
    registry: Contract, tx: Tx, wallet: LocalAccount, signed: Any, relayer: str, reverts: Any
) -> None:
    call = signed(wallet.key).set_node(DOMAIN1)
    tx(call, relayer)
    with reverts(INVALID_SIGNATURE):
        call.transact({"from": relayer})
    assert nonce(registry, wallet.address) == 1


def test_replayed_delete_node_signature_is_rejected(
    registry: Contract,
    accounts: list[str],
    keys: dict[str, bytes],
    tx: Tx,
    signed: Any,
    relayer: str,
    reverts: Any,
) -> None:
    op = accounts[5]
    tx(registry.functions.setNode(DOMAIN1), op)
    delete = signed(keys[op]).delete_node()
    tx(delete, relayer)
    tx(registry.functions.setNode(DOMAIN1), op)
    with reverts(INVALID_SIGNATURE):
        delete.transact({"from": relayer})
    assert registry.functions.getNode(op).call() == DOMAIN1


def test_replayed_set_party_signature_is_rejected(
    registry: Contract,
    operator: str,
    tx: Tx,
    wallet: LocalAccount,
    signed: Any,
    relayer: str,
    reverts: Any,
) -> None:
    old = signed(wallet.key).set_party(operator, b"CH", b"CPO", (CPO,))
    tx(old, relayer)
    tx(signed(wallet.key).set_party(operator, b"CH", b"CPO", (EMSP,)), relayer)
    with reverts(INVALID_SIGNATURE):
        old.transact({"from": relayer})
    assert details(registry, wallet.address)[4] == [EMSP]


def test_replayed_set_party_modules_signature_is_rejected(
    registry: Contract,
    operator: str,
    tx: Tx,
    wallet: LocalAccount,
    signed: Any,
    relayer: str,
    reverts: Any,
) -> None:
    tx(signed(wallet.key).set_party(operator), relayer)
    old = signed(wallet.key).set_party_modules((CDRS,), (TOKENS,))
    tx(old, relayer)
    tx(signed(wallet.key).set_party_modules((), ()), relayer)
    with reverts(INVALID_SIGNATURE):
        old.transact({"from": relayer})
    assert details(registry, wallet.address)[2:4] == [[], []]


def test_replayed_delete_party_signature_is_rejected(
    registry: Contract,
    accounts: list[str],
    keys: dict[str, bytes],
    operator: str,
    tx: Tx,
    signed: Any,
    relayer: str,
    reverts: Any,
) -> None:
    party = accounts[5]
    set_party(registry, tx, party, operator)
    delete = signed(keys[party]).delete_party()
    tx(delete, relayer)
    set_party(registry, tx, party, operator)
    with reverts(INVALID_SIGNATURE):
        delete.transact({"from": relayer})
    assert details(registry, party)[5] == operator


# ================================================================ closed hole: cross-function replay


def test_delete_party_signature_cannot_delete_the_node(
    registry: Contract,
    accounts: list[str],
    keys: dict[str, bytes],
    tx: Tx,
    sign: Any,
    deadline: int,
    relayer: str,
    reverts: Any,
) -> None:
    subject = accounts[5]
    tx(registry.functions.setNode(DOMAIN1), subject)
    set_party(registry, tx, subject, subject)
    signature = sign.delete_party(keys[subject], subject, deadline)
    with reverts(INVALID_SIGNATURE):
        registry.functions.deleteNodeSigned(subject, deadline, signature).transact(
            {"from": relayer}
        )
    assert registry.functions.getNode(subject).call() == DOMAIN1
    # The very same signature is good for what it was made for.
    tx(registry.functions.deletePartySigned(subject, deadline, signature), relayer)
    assert details(registry, subject) == EMPTY_BY_ADDRESS
    assert registry.functions.getNode(subject).call() == DOMAIN1


def test_delete_node_signature_cannot_delete_the_party(
    registry: Contract,
    accounts: list[str],
    keys: dict[str, bytes],
    tx: Tx,
    sign: Any,
    deadline: int,
    relayer: str,
    reverts: Any,
) -> None:
    subject = accounts[5]
    tx(registry.functions.setNode(DOMAIN1), subject)
    set_party(registry, tx, subject, subject)
    signature = sign.delete_node(keys[subject], subject, deadline)
    with reverts(INVALID_SIGNATURE):
        registry.functions.deletePartySigned(subject, deadline, signature).transact(
            {"from": relayer}
        )
    assert details(registry, subject)[5] == subject


def test_set_node_signature_cannot_be_used_for_another_domain(
    registry: Contract,
    tx: Tx,
    wallet: LocalAccount,
    sign: Any,
    deadline: int,
    relayer: str,
    reverts: Any,
) -> None:
    signature = sign.set_node(wallet.key, wallet.address, DOMAIN1, deadline)
    with reverts(INVALID_SIGNATURE):
        registry.functions.setNodeSigned(wallet.address, DOMAIN2, deadline, signature).transact(
            {"from": relayer}
        )
    with reverts(INVALID_SIGNATURE):
        registry.functions.setNodeSigned(wallet.address, DOMAIN1, deadline + 1, signature).transact(
            {"from": relayer}
        )
    tx(registry.functions.setNodeSigned(wallet.address, DOMAIN1, deadline, signature), relayer)
    assert registry.functions.getNode(wallet.address).call() == DOMAIN1


def test_set_party_signature_cannot_be_used_with_other_fields(
    registry: Contract,
    accounts: list[str],
    operator: str,
    tx: Tx,
    wallet: LocalAccount,
    sign: Any,
    deadline: int,
    relayer: str,
    reverts: Any,
) -> None:
    tx(registry.functions.setNode(DOMAIN2), accounts[3])
    signature = sign.set_party(wallet.key, wallet.address, b"CH", b"CPO", [CPO], operator, deadline)
    tampered = [
        (b"CH", b"CPO", [CPO, EMSP], operator),
        (b"CH", b"CPX", [CPO], operator),
        (b"NL", b"CPO", [CPO], operator),
        (b"CH", b"CPO", [CPO], accounts[3]),
    ]
    for cc, pid, roles, op in tampered:
        with reverts(INVALID_SIGNATURE):
            registry.functions.setPartySigned(
                wallet.address, cc, pid, roles, op, deadline, signature
            ).transact({"from": relayer})
    assert details(registry, wallet.address) == EMPTY_BY_ADDRESS


def test_set_party_modules_signature_binds_sender_and_receiver_apart(
    registry: Contract,
    operator: str,
    tx: Tx,
    wallet: LocalAccount,
    signed: Any,
    sign: Any,
    deadline: int,
    relayer: str,
    reverts: Any,
) -> None:
    tx(signed(wallet.key).set_party(operator), relayer)
    signature = sign.set_party_modules(wallet.key, wallet.address, [CDRS], [TOKENS], deadline)
    with reverts(INVALID_SIGNATURE):
        registry.functions.setPartyModulesSigned(
            wallet.address, [TOKENS], [CDRS], deadline, signature
        ).transact({"from": relayer})
    with reverts(INVALID_SIGNATURE):
        registry.functions.setPartyModulesSigned(
            wallet.address, [CDRS, TOKENS], [], deadline, signature
        ).transact({"from": relayer})
    tx(
        registry.functions.setPartyModulesSigned(
            wallet.address, [CDRS], [TOKENS], deadline, signature
        ),
        relayer,
    )
    assert details(registry, wallet.address)[2:4] == [[CDRS], [TOKENS]]


# ================================================================ closed hole: cross-chain / contract


def test_signature_for_another_registry_is_rejected(
    registry: Contract,
    deploy_registry: Callable[[], Contract],
    tx: Tx,
    wallet: LocalAccount,
    sign: Any,
    deadline: int,
    relayer: str,
    reverts: Any,
) -> None:
    other = deploy_registry()
    assert other.address != registry.address
    signature = sign.set_node(
        wallet.key, wallet.address, DOMAIN1, deadline, verifying_contract=other.address
    )
    with reverts(INVALID_SIGNATURE):
        registry.functions.setNodeSigned(wallet.address, DOMAIN1, deadline, signature).transact(
            {"from": relayer}
        )
    assert registry.functions.getNode(wallet.address).call() == ""
    tx(other.functions.setNodeSigned(wallet.address, DOMAIN1, deadline, signature), relayer)
    assert other.functions.getNode(wallet.address).call() == DOMAIN1
    # Used on the other registry, the same signature is still worthless here.
    with reverts(INVALID_SIGNATURE):
        registry.functions.setNodeSigned(wallet.address, DOMAIN1, deadline, signature).transact(
            {"from": relayer}
        )


def test_signature_for_another_chain_is_rejected(
    w3: Web3,
    registry: Contract,
    wallet: LocalAccount,
    sign: Any,
    deadline: int,
    relayer: str,
    reverts: Any,
) -> None:
    for chain_id in (1, 9, w3.eth.chain_id + 1):
        signature = sign.set_node(wallet.key, wallet.address, DOMAIN1, deadline, chain_id=chain_id)
        with reverts(INVALID_SIGNATURE):
            registry.functions.setNodeSigned(wallet.address, DOMAIN1, deadline, signature).transact(
                {"from": relayer}
            )
    assert registry.functions.getNode(wallet.address).call() == ""


# ================================================================ closed hole: deadlines


@pytest.mark.parametrize(
    "action", ["set_node", "delete_node", "set_party", "set_party_modules", "delete_party"]
)
def test_expired_signature_is_rejected(
    registry: Contract,
    accounts: list[str],
    keys: dict[str, bytes],
    operator: str,
    tx: Tx,
    signed: Any,
    now: Callable[[], int],
    relayer: str,
    reverts: Any,
    action: str,
) -> None:
    subject = accounts[5]
    tx(registry.functions.setNode(DOMAIN2), subject)
    set_party(registry, tx, subject, operator)
    expired = now() - 1
    actions = signed(keys[subject])
    calls = {
        "set_node": lambda: actions.set_node(DOMAIN3, deadline=expired),
        "delete_node": lambda: actions.delete_node(deadline=expired),
        "set_party": lambda: actions.set_party(operator, deadline=expired),
        "set_party_modules": lambda: actions.set_party_modules((CDRS,), (), deadline=expired),
        "delete_party": lambda: actions.delete_party(deadline=expired),
    }
    with reverts(EXPIRED):
        calls[action]().transact({"from": relayer})
    assert nonce(registry, subject) == 0
    assert registry.functions.getNode(subject).call() == DOMAIN2
    assert details(registry, subject) == [b"DE", b"ABC", [], [], [EMSP, HUB], operator, DOMAIN1]


def test_signature_is_accepted_until_its_deadline_inclusive(
    w3: Web3,
    registry: Contract,
    tester: EthereumTester,
    tx: Tx,
    wallet: LocalAccount,
    signed: Any,
    now: Callable[[], int],
    relayer: str,
    reverts: Any,
) -> None:
    # Put the chain well ahead of the wall clock so the next block's timestamp is predictable.
    tester.time_travel(now() + 10_000)
    next_timestamp = w3.eth.get_block("pending")["timestamp"]
    receipt = tx(signed(wallet.key).set_node(DOMAIN1, deadline=next_timestamp), relayer)
    assert w3.eth.get_block(receipt["blockNumber"])["timestamp"] == next_timestamp
    assert registry.functions.getNode(wallet.address).call() == DOMAIN1
    with reverts(EXPIRED):
        signed(wallet.key).set_node(DOMAIN2, deadline=next_timestamp).transact({"from": relayer})


# ================================================================ closed hole: junk and zero signatures


@pytest.fixture
def good_signature(
    accounts: list[str], keys: dict[str, bytes], sign: Any, deadline: int
) -> tuple[str, bytes]:
    """A valid SetNode(DOMAIN1) signature of account 5 (not sent)."""
    subject = accounts[5]
    return subject, sign.set_node(keys[subject], subject, DOMAIN1, deadline)


def junk_signatures(good: bytes) -> dict[str, bytes]:
    r, s, v = sig_parts(good)
    return {
        "all-zero 65 bytes": bytes(65),
        "empty": b"",
        "64 bytes (no v)": good[:64],
        "66 bytes": good + b"\x00",
        "v=0 junk": pack_sig(1, 1, 0),
        "v=0 with zero r and s": pack_sig(0, 0, 0),
        "v=29": pack_sig(r, s, 29),
        "v=26": pack_sig(r, s, 26),
        "r=0": pack_sig(0, s, v),
        "s=0": pack_sig(r, 0, v),
        "r beyond the curve order": pack_sig(SECP256K1_N + 1, s, v),
    }


JUNK_NAMES = list(junk_signatures(bytes(65)))


@pytest.mark.parametrize("junk", JUNK_NAMES)
def test_junk_signature_is_rejected(
    registry: Contract,
    good_signature: tuple[str, bytes],
    deadline: int,
    relayer: str,
    reverts: Any,
    junk: str,
) -> None:
    subject, good = good_signature
    signature = junk_signatures(good)[junk]
    with reverts(INVALID_SIGNATURE):
        registry.functions.setNodeSigned(subject, DOMAIN1, deadline, signature).transact(
            {"from": relayer}
        )
    assert registry.functions.getNode(subject).call() == ""
    assert nonce(registry, subject) == 0


def test_signature_with_v_as_0_or_1_is_accepted(
    registry: Contract,
    good_signature: tuple[str, bytes],
    deadline: int,
    tx: Tx,
    relayer: str,
) -> None:
    subject, good = good_signature
    r, s, v = sig_parts(good)
    tx(
        registry.functions.setNodeSigned(subject, DOMAIN1, deadline, pack_sig(r, s, v - 27)),
        relayer,
    )
    assert registry.functions.getNode(subject).call() == DOMAIN1


def test_zero_address_can_never_be_registered(
    registry: Contract,
    operator: str,
    owner: str,
    tx: Tx,
    deadline: int,
    relayer: str,
    reverts: Any,
) -> None:
    for signature in (bytes(65), pack_sig(0, 0, 27), pack_sig(1, 1, 0), b""):
        calls = [
            registry.functions.setNodeSigned(ZERO, DOMAIN2, deadline, signature),
            registry.functions.deleteNodeSigned(ZERO, deadline, signature),
            registry.functions.setPartySigned(
                ZERO, b"ZZ", b"ZZZ", [CPO], operator, deadline, signature
            ),
            registry.functions.setPartyModulesSigned(ZERO, [CDRS], [CDRS], deadline, signature),
            registry.functions.deletePartySigned(ZERO, deadline, signature),
        ]
        for call in calls:
            with reverts(INVALID_SIGNATURE):
                call.transact({"from": relayer})
    assert registry.functions.getNode(ZERO).call() == ""
    assert details(registry, ZERO) == EMPTY_BY_ADDRESS
    assert registry.functions.getNodeOperators().call() == [operator]
    assert registry.functions.getParties().call() == []
    # An unknown cc/pid resolves to nothing, so a node can never route it anywhere.
    assert registry.functions.getOperatorByOcpi(b"ZZ", b"ZZZ").call() == [ZERO, ""]
    with reverts(NO_PARTY):
        registry.functions.adminDeleteParty(b"ZZ", b"ZZZ").transact({"from": owner})


def test_high_s_malleable_twin_is_rejected(
    registry: Contract,
    sign: Any,
    wallet: LocalAccount,
    deadline: int,
    tx: Tx,
    relayer: str,
    reverts: Any,
) -> None:
    message = {"operator": wallet.address, "domain": DOMAIN1, "nonce": 0, "deadline": deadline}
    signable = encode_typed_data(full_message=sign.typed_data("SetNode", message))
    good = Account.sign_message(signable, wallet.key).signature
    r, s, v = sig_parts(good)
    twin = pack_sig(r, SECP256K1_N - s, 55 - v)
    # The twin is a valid ECDSA signature by the same key, just with s in the upper half.
    assert SECP256K1_N - s > SECP256K1_N // 2
    assert Account.recover_message(signable, signature=twin) == wallet.address
    with reverts(INVALID_SIGNATURE):
        registry.functions.setNodeSigned(wallet.address, DOMAIN1, deadline, twin).transact(
            {"from": relayer}
        )
    assert nonce(registry, wallet.address) == 0
    tx(registry.functions.setNodeSigned(wallet.address, DOMAIN1, deadline, good), relayer)
    assert registry.functions.getNode(wallet.address).call() == DOMAIN1


def test_signature_from_the_wrong_signer_is_rejected(
    registry: Contract,
    operator: str,
    wallets: list[LocalAccount],
    sign: Any,
    deadline: int,
    relayer: str,
    reverts: Any,
) -> None:
    victim, attacker = wallets[0], wallets[1]
    attempts = [
        registry.functions.setNodeSigned(
            victim.address,
            DOMAIN1,
            deadline,
            sign.set_node(attacker.key, victim.address, DOMAIN1, deadline),
        ),
        registry.functions.setPartySigned(
            victim.address,
            b"CH",
            b"CPO",
            [CPO],
            operator,
            deadline,
            sign.set_party(attacker.key, victim.address, b"CH", b"CPO", [CPO], operator, deadline),
        ),
    ]
    for call in attempts:
        with reverts(INVALID_SIGNATURE):
            call.transact({"from": relayer})
    assert registry.functions.getNode(victim.address).call() == ""
    assert details(registry, victim.address) == EMPTY_BY_ADDRESS


def test_signature_with_a_future_nonce_is_rejected(
    registry: Contract, wallet: LocalAccount, signed: Any, relayer: str, reverts: Any
) -> None:
    with reverts(INVALID_SIGNATURE):
        signed(wallet.key).set_node(DOMAIN1, nonce=1).transact({"from": relayer})
    assert nonce(registry, wallet.address) == 0


def test_nonces_increment_once_per_successful_signed_call(
    registry: Contract,
    accounts: list[str],
    keys: dict[str, bytes],
    operator: str,
    tx: Tx,
    signed: Any,
    relayer: str,
    reverts: Any,
) -> None:
    subject = accounts[5]
    actions = signed(keys[subject])
    assert nonce(registry, subject) == 0
    steps = [
        lambda: actions.set_node(DOMAIN2),
        lambda: actions.set_party(subject),
        lambda: actions.set_party_modules((CDRS,), (TOKENS,)),
        lambda: actions.delete_party(),
        lambda: actions.delete_node(),
    ]
    for expected, step in enumerate(steps, start=1):
        tx(step(), relayer)
        assert nonce(registry, subject) == expected
    # A signed call that reverts after a valid signature leaves the nonce alone.
    with reverts(NO_NODE):
        actions.delete_node().transact({"from": relayer})
    assert nonce(registry, subject) == len(steps)
    # Plain calls use no nonce, and the relayer's nonce never moves.
    tx(registry.functions.setNode(DOMAIN2), subject)
    assert nonce(registry, subject) == len(steps)
    assert nonce(registry, relayer) == 0
    assert nonce(registry, operator) == 0


# ================================================================ closed hole: stale listings


def test_deleted_node_leaves_the_operator_listing(
    registry: Contract, accounts: list[str], tx: Tx
) -> None:
    a1, a2, a3 = accounts[1:4]
    for op, domain in ((a1, DOMAIN1), (a2, DOMAIN2), (a3, DOMAIN3)):
        tx(registry.functions.setNode(domain), op)
    tx(registry.functions.deleteNode(), a1)
    # Swap-and-pop: the last operator takes the freed slot, the others keep theirs.
    assert registry.functions.getNodeOperators().call() == [a3, a2]
    assert registry.functions.nodeCount().call() == 2
    assert registry.functions.listNodes(0, 10).call() == [(a3, DOMAIN3), (a2, DOMAIN2)]
    tx(registry.functions.deleteNode(), a2)
    assert registry.functions.getNodeOperators().call() == [a3]
    tx(registry.functions.setNode(DOMAIN1), a1)
    assert registry.functions.getNodeOperators().call() == [a3, a1]
    tx(registry.functions.deleteNode(), a1)
    tx(registry.functions.deleteNode(), a3)
    assert registry.functions.getNodeOperators().call() == []
    assert registry.functions.nodeCount().call() == 0
    assert registry.functions.listNodes(0, 10).call() == []


def test_deleted_party_leaves_the_party_listings(
    registry: Contract, accounts: list[str], operator: str, tx: Tx
) -> None:
    p1, p2, p3 = accounts[4:7]
    set_party(registry, tx, p1, operator, b"DE", b"AAA")
    set_party(registry, tx, p2, operator, b"DE", b"BBB")
    set_party(registry, tx, p3, operator, b"DE", b"CCC")
    tx(registry.functions.deleteParty(), p1)
    assert registry.functions.getParties().call() == [p3, p2]
    assert registry.functions.partyCount().call() == 2
    assert registry.functions.partyCountOf(operator).call() == 2
    assert [e[0] for e in registry.functions.listPartiesOf(operator, 0, 10).call()] == [p3, p2]
    assert registry.functions.listParties(0, 10).call() == [
        listing(registry, p3),
        listing(registry, p2),
    ]
    tx(registry.functions.deleteParty(), p2)
    assert registry.functions.getParties().call() == [p3]
    assert [e[0] for e in registry.functions.listPartiesOf(operator, 0, 10).call()] == [p3]
    # Re-registering appends once; there are no tombstones or duplicates.
    set_party(registry, tx, p1, operator, b"DE", b"AAA")
    set_party(registry, tx, p1, operator, b"DE", b"AAA")
    assert registry.functions.getParties().call() == [p3, p1]
    assert registry.functions.partyCountOf(operator).call() == 2


def test_admin_deletions_also_leave_the_listings(
    registry: Contract, accounts: list[str], owner: str, operator: str, tx: Tx
) -> None:
    p1, p2 = accounts[4:6]
    tx(registry.functions.setNode(DOMAIN2), accounts[2])
    set_party(registry, tx, p1, operator, b"DE", b"AAA")
    set_party(registry, tx, p2, operator, b"DE", b"BBB")
    tx(registry.functions.adminDeleteParty(b"DE", b"AAA"), owner)
    tx(registry.functions.adminDeleteOperator(accounts[2]), owner)
    assert registry.functions.getParties().call() == [p2]
    assert registry.functions.getNodeOperators().call() == [operator]
    assert registry.functions.partyCountOf(operator).call() == 1


def test_counts_and_pages_agree_with_the_full_listings(
    registry: Contract, accounts: list[str], tx: Tx
) -> None:
    op_a, op_b, op_c = accounts[1:4]
    for op, domain in ((op_a, DOMAIN1), (op_b, DOMAIN2), (op_c, DOMAIN3)):
        tx(registry.functions.setNode(domain), op)
    parties = accounts[10:15]
    for index, party in enumerate(parties):
        op = op_a if index % 2 == 0 else op_b
        set_party(registry, tx, party, op, b"NL", f"P{index:02d}".encode(), (CPO, index % 7))
    tx(registry.functions.setPartyModules([CDRS, TARIFFS], [SESSIONS]), parties[3])
    tx(registry.functions.deleteParty(), parties[0])

    all_parties = registry.functions.getParties().call()
    assert sorted(all_parties) == sorted(parties[1:])
    assert registry.functions.partyCount().call() == len(all_parties) == 4
    full = registry.functions.listParties(0, 100).call()
    assert [entry[0] for entry in full] == all_parties
    assert full == [listing(registry, p) for p in all_parties]
    for limit in (1, 2, 3):
        pages = []
        for offset in range(0, len(all_parties), limit):
            pages += registry.functions.listParties(offset, limit).call()
        assert pages == full

    of_a = registry.functions.listPartiesOf(op_a, 0, 100).call()
    of_b = registry.functions.listPartiesOf(op_b, 0, 100).call()
    assert len(of_a) == registry.functions.partyCountOf(op_a).call() == 2
    assert len(of_b) == registry.functions.partyCountOf(op_b).call() == 2
    assert {e[0] for e in of_a} == {parties[2], parties[4]}
    assert {e[0] for e in of_b} == {parties[1], parties[3]}
    assert all(e[6] == op_a and e[7] == DOMAIN1 for e in of_a)
    assert registry.functions.listPartiesOf(op_b, 1, 1).call() == of_b[1:]
    assert registry.functions.listPartiesOf(op_c, 0, 100).call() == []
    assert registry.functions.partyCountOf(op_c).call() == 0

    nodes = registry.functions.listNodes(0, 100).call()
    assert [n[0] for n in nodes] == registry.functions.getNodeOperators().call()
    assert len(nodes) == registry.functions.nodeCount().call() == 3
    assert registry.functions.listNodes(1, 1).call() == [(op_b, DOMAIN2)]
    assert registry.functions.listNodes(2, 5).call() == [(op_c, DOMAIN3)]


@pytest.mark.parametrize(
    ("offset", "limit", "expected"),
    [(0, 0, 0), (3, 1, 0), (10, 5, 0), (1, 2**256 - 1, 2), (2**256 - 1, 2**256 - 1, 0)],
)
def test_pages_past_the_end_or_without_a_limit_are_bounded(
    registry: Contract,
    accounts: list[str],
    operator: str,
    tx: Tx,
    offset: int,
    limit: int,
    expected: int,
) -> None:
    tx(registry.functions.setNode(DOMAIN2), accounts[2])
    tx(registry.functions.setNode(DOMAIN3), accounts[3])
    for index, party in enumerate(accounts[4:7]):
        set_party(registry, tx, party, operator, b"DE", f"AB{index}".encode())
    assert len(registry.functions.listNodes(offset, limit).call()) == expected
    assert len(registry.functions.listParties(offset, limit).call()) == expected
    assert len(registry.functions.listPartiesOf(operator, offset, limit).call()) == expected


# ================================================================ closed hole: domain lock


def test_changed_domain_is_freed_for_other_operators(
    registry: Contract, accounts: list[str], operator: str, tx: Tx, reverts: Any
) -> None:
    other = accounts[3]
    tx(registry.functions.setNode(DOMAIN2), operator)
    tx(registry.functions.setNode(DOMAIN1), other)
    assert registry.functions.getNode(other).call() == DOMAIN1
    with reverts(DOMAIN_TAKEN):
        registry.functions.setNode(DOMAIN2).transact({"from": other})


def test_resetting_the_same_domain_is_allowed_and_emits_node_updated(
    registry: Contract, accounts: list[str], operator: str, tx: Tx, events: Events, reverts: Any
) -> None:
    receipt = tx(registry.functions.setNode(DOMAIN1), operator)
    assert events(receipt, "NodeUpdated") == [
        {"operator": operator, "domain": DOMAIN1, "previousDomain": DOMAIN1}
    ]
    assert events(receipt, "NodeCreated") == []
    assert registry.functions.getNodeOperators().call() == [operator]
    # The domain is still held by the operator after the no-op update.
    with reverts(DOMAIN_TAKEN):
        registry.functions.setNode(DOMAIN1).transact({"from": accounts[3]})


# ================================================================ closed hole: cc/pid ghost


@pytest.mark.parametrize(("new_cc", "new_pid"), [(b"DE", b"XYZ"), (b"NL", b"ABC"), (b"NL", b"XYZ")])
def test_changed_credentials_are_freed(
    registry: Contract,
    accounts: list[str],
    operator: str,
    tx: Tx,
    reverts: Any,
    new_cc: bytes,
    new_pid: bytes,
) -> None:
    party, newcomer = accounts[2], accounts[4]
    set_party(registry, tx, party, operator, b"DE", b"ABC")
    set_party(registry, tx, party, operator, new_cc, new_pid)
    assert registry.functions.getOperatorByOcpi(b"DE", b"ABC").call() == [ZERO, ""]
    assert by_ocpi(registry, b"DE", b"ABC") == EMPTY_BY_OCPI
    assert by_ocpi(registry, new_cc, new_pid)[0] == party
    set_party(registry, tx, newcomer, operator, b"DE", b"ABC", (CPO,))
    assert by_ocpi(registry, b"DE", b"ABC") == [newcomer, [CPO], [], [], operator, DOMAIN1]
    with reverts(CREDENTIALS_TAKEN):
        registry.functions.setParty(new_cc, new_pid, [CPO], operator).transact({"from": newcomer})


def test_deleted_party_credentials_are_freed(
    registry: Contract, accounts: list[str], operator: str, tx: Tx
) -> None:
    set_party(registry, tx, accounts[2], operator)
    tx(registry.functions.deleteParty(), accounts[2])
    set_party(registry, tx, accounts[4], operator)
    assert by_ocpi(registry, b"DE", b"ABC")[0] == accounts[4]


# ================================================================ closed hole: modules kept, enums


def test_set_party_keeps_modules(
    registry: Contract, accounts: list[str], operator: str, tx: Tx
) -> None:
    party, other_op = accounts[2], accounts[3]
    tx(registry.functions.setNode(DOMAIN2), other_op)
    set_party(registry, tx, party, operator)
    tx(registry.functions.setPartyModules([CDRS, TOKENS], [LOCATIONS]), party)
    set_party(registry, tx, party, other_op, b"NL", b"XYZ", (CPO,))
    assert details(registry, party) == [
        b"NL",
        b"XYZ",
        [CDRS, TOKENS],
        [LOCATIONS],
        [CPO],
        other_op,
        DOMAIN2,
    ]


@pytest.mark.parametrize("bad", [7, 8, 255])
def test_out_of_range_role_reverts_with_reason_without_burning_gas(
    w3: Web3,
    registry: Contract,
    accounts: list[str],
    operator: str,
    reverts: Any,
    bad: int,
) -> None:
    party = accounts[2]
    call = registry.functions.setParty(b"DE", b"ABC", [CPO, bad], operator)
    with reverts(BAD_ROLE):
        call.estimate_gas({"from": party})
    with reverts(BAD_ROLE):
        call.transact({"from": party})
    gas_limit = 1_000_000
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": party, "gas": gas_limit}))
    assert receipt["status"] == 0
    assert receipt["gasUsed"] < 60_000  # a require, not an invalid opcode eating the limit
    assert details(registry, party) == EMPTY_BY_ADDRESS


@pytest.mark.parametrize(("sender", "receiver"), [([7], []), ([], [7]), ([CDRS], [TOKENS, 200])])
def test_out_of_range_module_reverts_with_reason_without_burning_gas(
    w3: Web3,
    registry: Contract,
    accounts: list[str],
    operator: str,
    tx: Tx,
    reverts: Any,
    sender: list[int],
    receiver: list[int],
) -> None:
    party = accounts[2]
    set_party(registry, tx, party, operator)
    tx(registry.functions.setPartyModules([SESSIONS], [SESSIONS]), party)
    call = registry.functions.setPartyModules(sender, receiver)
    with reverts(BAD_MODULE):
        call.transact({"from": party})
    gas_limit = 1_000_000
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": party, "gas": gas_limit}))
    assert receipt["status"] == 0
    assert receipt["gasUsed"] < 60_000
    assert details(registry, party)[2:4] == [[SESSIONS], [SESSIONS]]


def test_out_of_range_values_in_signed_calls_revert_with_reason_and_keep_the_nonce(
    registry: Contract,
    operator: str,
    tx: Tx,
    wallet: LocalAccount,
    signed: Any,
    relayer: str,
    reverts: Any,
) -> None:
    with reverts(BAD_ROLE):
        signed(wallet.key).set_party(operator, roles=(7,)).transact({"from": relayer})
    tx(signed(wallet.key).set_party(operator), relayer)
    with reverts(BAD_MODULE):
        signed(wallet.key).set_party_modules((7,), ()).transact({"from": relayer})
    assert nonce(registry, wallet.address) == 1


@pytest.mark.parametrize(
    ("roles", "stored"),
    [
        ([EMSP, EMSP], [EMSP]),
        ([SCSP, CPO, SCSP, HUB], [CPO, HUB, SCSP]),
        (list(range(7)) * 2, list(range(7))),
    ],
)
def test_duplicate_roles_collapse(
    registry: Contract,
    accounts: list[str],
    operator: str,
    tx: Tx,
    events: Events,
    roles: list[int],
    stored: list[int],
) -> None:
    party = accounts[2]
    receipt = tx(registry.functions.setParty(b"DE", b"ABC", roles, operator), party)
    assert details(registry, party)[4] == stored
    assert events(receipt, "PartyCreated")[0]["roles"] == stored


def test_duplicate_modules_collapse(
    registry: Contract, accounts: list[str], operator: str, tx: Tx
) -> None:
    party = accounts[2]
    set_party(registry, tx, party, operator)
    tx(registry.functions.setPartyModules([TOKENS, CDRS, TOKENS], [SESSIONS, SESSIONS]), party)
    assert details(registry, party)[2:4] == [[CDRS, TOKENS], [SESSIONS]]


# ================================================================ closed hole: operators and parties


def test_party_moving_operator_is_listed_under_the_new_operator_only(
    registry: Contract, accounts: list[str], operator: str, tx: Tx
) -> None:
    new_op = accounts[3]
    stayer, mover = accounts[4], accounts[5]
    tx(registry.functions.setNode(DOMAIN2), new_op)
    set_party(registry, tx, mover, operator, b"DE", b"MOV")
    set_party(registry, tx, stayer, operator, b"DE", b"STY")
    set_party(registry, tx, mover, new_op, b"DE", b"MOV")
    assert [e[0] for e in registry.functions.listPartiesOf(operator, 0, 10).call()] == [stayer]
    assert [e[0] for e in registry.functions.listPartiesOf(new_op, 0, 10).call()] == [mover]
    assert registry.functions.partyCountOf(operator).call() == 1
    assert registry.functions.partyCountOf(new_op).call() == 1
    assert registry.functions.partyCount().call() == 2
    assert registry.functions.getOperatorByOcpi(b"DE", b"MOV").call() == [new_op, DOMAIN2]
    # Moving back and forth never duplicates the entry.
    set_party(registry, tx, mover, operator, b"DE", b"MOV")
    set_party(registry, tx, mover, operator, b"DE", b"MOV")
    assert sorted(e[0] for e in registry.functions.listPartiesOf(operator, 0, 10).call()) == sorted(
        [stayer, mover]
    )
    assert registry.functions.partyCountOf(new_op).call() == 0


def test_deleting_a_node_leaves_its_parties_resolving_to_an_empty_domain(
    registry: Contract, accounts: list[str], operator: str, tx: Tx, reverts: Any
) -> None:
    party = accounts[2]
    set_party(registry, tx, party, operator)
    tx(registry.functions.deleteNode(), operator)
    assert registry.functions.getOperatorByAddress(party).call() == [operator, ""]
    assert registry.functions.getOperatorByOcpi(b"DE", b"ABC").call() == [operator, ""]
    assert details(registry, party)[5:] == [operator, ""]
    assert registry.functions.listPartiesOf(operator, 0, 10).call()[0][6:] == (operator, "")
    assert registry.functions.getParties().call() == [party]
    # The party can still manage itself, but cannot point at the missing node again.
    tx(registry.functions.setPartyModules([CDRS], []), party)
    with reverts(OPERATOR_UNKNOWN):
        registry.functions.setParty(b"DE", b"ABC", [CPO], operator).transact({"from": party})
    # Once the node comes back, its parties resolve again.
    tx(registry.functions.setNode(DOMAIN2), operator)
    assert registry.functions.getOperatorByAddress(party).call() == [operator, DOMAIN2]


# ================================================================ events


def test_node_events_tell_created_updated_and_deleted_apart(
    registry: Contract, accounts: list[str], tx: Tx, events: Events
) -> None:
    op = accounts[1]
    created = tx(registry.functions.setNode(DOMAIN1), op)
    updated = tx(registry.functions.setNode(DOMAIN2), op)
    deleted = tx(registry.functions.deleteNode(), op)
    assert events(created, "NodeCreated") == [{"operator": op, "domain": DOMAIN1}]
    assert events(created, "NodeUpdated") == []
    assert events(updated, "NodeUpdated") == [
        {"operator": op, "domain": DOMAIN2, "previousDomain": DOMAIN1}
    ]
    assert events(updated, "NodeCreated") == []
    assert events(deleted, "NodeDeleted") == [{"operator": op, "domain": DOMAIN2, "byOwner": False}]
    for receipt, name in (
        (created, "NodeCreated"),
        (updated, "NodeUpdated"),
        (deleted, "NodeDeleted"),
    ):
        (log,) = receipt["logs"]
        assert log["address"] == registry.address
        assert bytes(log["topics"][0]) == topic0(registry, name)
        assert log["topics"][1] == topic_address(op)
        assert len(log["topics"]) == 2


def test_signed_node_events_name_the_signer(
    registry: Contract, tx: Tx, wallet: LocalAccount, signed: Any, relayer: str, events: Events
) -> None:
    created = tx(signed(wallet.key).set_node(DOMAIN1), relayer)
    deleted = tx(signed(wallet.key).delete_node(), relayer)
    assert events(created, "NodeCreated") == [{"operator": wallet.address, "domain": DOMAIN1}]
    assert events(deleted, "NodeDeleted") == [
        {"operator": wallet.address, "domain": DOMAIN1, "byOwner": False}
    ]


def test_party_events_tell_created_updated_modules_and_deleted_apart(
    registry: Contract, accounts: list[str], operator: str, tx: Tx, events: Events
) -> None:
    party, other_op = accounts[2], accounts[3]
    tx(registry.functions.setNode(DOMAIN2), other_op)
    created = set_party(registry, tx, party, operator, b"DE", b"ABC", (HUB, EMSP))
    updated = set_party(registry, tx, party, other_op, b"NL", b"XY1", (CPO,))
    modules = tx(registry.functions.setPartyModules([TOKENS, CDRS], [SESSIONS]), party)
    deleted = tx(registry.functions.deleteParty(), party)

    assert events(created, "PartyCreated") == [
        {"party": party, "credentials": b"DEABC", "operator": operator, "roles": [EMSP, HUB]}
    ]
    assert events(created, "PartyUpdated") == []
    assert events(updated, "PartyUpdated") == [
        {"party": party, "credentials": b"NLXY1", "operator": other_op, "roles": [CPO]}
    ]
    assert events(updated, "PartyCreated") == []
    assert events(modules, "PartyModulesUpdated") == [
        {"party": party, "credentials": b"NLXY1", "sender": [CDRS, TOKENS], "receiver": [SESSIONS]}
    ]
    assert events(deleted, "PartyDeleted") == [
        {"party": party, "credentials": b"NLXY1", "operator": other_op, "byOwner": False}
    ]

    expected_topics = {
        "PartyCreated": (
            created,
            [topic_address(party), topic_credentials(b"DE", b"ABC"), topic_address(operator)],
        ),
        "PartyUpdated": (
            updated,
            [topic_address(party), topic_credentials(b"NL", b"XY1"), topic_address(other_op)],
        ),
        "PartyModulesUpdated": (modules, [topic_address(party), topic_credentials(b"NL", b"XY1")]),
        "PartyDeleted": (
            deleted,
            [topic_address(party), topic_credentials(b"NL", b"XY1"), topic_address(other_op)],
        ),
    }
    for name, (receipt, topics) in expected_topics.items():
        (log,) = receipt["logs"]
        assert bytes(log["topics"][0]) == topic0(registry, name)
        assert [bytes(t) for t in log["topics"][1:]] == topics


def test_party_events_can_be_filtered_by_credentials(
    w3: Web3, registry: Contract, accounts: list[str], operator: str, tx: Tx
) -> None:
    set_party(registry, tx, accounts[2], operator, b"DE", b"ABC")
    set_party(registry, tx, accounts[4], operator, b"DE", b"XYZ")
    logs = w3.eth.get_logs(
        {
            "address": registry.address,
            "fromBlock": 0,
            "topics": [registry.events.PartyCreated.topic, None, topic_credentials(b"DE", b"XYZ")],
        }
    )
    assert len(logs) == 1
    assert bytes(logs[0]["topics"][1]) == topic_address(accounts[4])


def test_signed_party_events_name_the_signer(
    registry: Contract,
    operator: str,
    tx: Tx,
    wallet: LocalAccount,
    signed: Any,
    relayer: str,
    events: Events,
) -> None:
    actions = signed(wallet.key)
    created = tx(actions.set_party(operator, b"CH", b"CPO", (CPO,)), relayer)
    modules = tx(actions.set_party_modules((CDRS,), ()), relayer)
    deleted = tx(actions.delete_party(), relayer)
    assert events(created, "PartyCreated") == [
        {"party": wallet.address, "credentials": b"CHCPO", "operator": operator, "roles": [CPO]}
    ]
    assert events(modules, "PartyModulesUpdated") == [
        {"party": wallet.address, "credentials": b"CHCPO", "sender": [CDRS], "receiver": []}
    ]
    assert events(deleted, "PartyDeleted") == [
        {"party": wallet.address, "credentials": b"CHCPO", "operator": operator, "byOwner": False}
    ]


def test_admin_deletions_are_flagged_as_by_owner(
    registry: Contract, accounts: list[str], owner: str, operator: str, tx: Tx, events: Events
) -> None:
    set_party(registry, tx, accounts[2], operator)
    party_receipt = tx(registry.functions.adminDeleteParty(b"DE", b"ABC"), owner)
    node_receipt = tx(registry.functions.adminDeleteOperator(operator), owner)
    assert [e["byOwner"] for e in events(party_receipt, "PartyDeleted")] == [True]
    assert events(node_receipt, "NodeDeleted") == [
        {"operator": operator, "domain": DOMAIN1, "byOwner": True}
    ]


# ================================================================ ownership


def test_deployer_owns_the_registry(
    registry: Contract, accounts: list[str], deploy_receipt: TxReceipt, events: Events
) -> None:
    owner = accounts[0]
    assert registry.functions.owner().call() == owner
    assert registry.functions.pendingOwner().call() == ZERO
    assert registry.functions.isOwner().call({"from": owner}) is True
    assert registry.functions.isOwner().call({"from": accounts[1]}) is False
    assert events(deploy_receipt, "OwnershipTransferred") == [
        {"previousOwner": ZERO, "newOwner": owner}
    ]


def test_only_the_owner_can_admin_delete(
    registry: Contract, accounts: list[str], operator: str, tx: Tx, reverts: Any
) -> None:
    set_party(registry, tx, accounts[2], operator)
    for stranger in (accounts[1], accounts[2], accounts[7]):
        with reverts(NOT_OWNER):
            registry.functions.adminDeleteOperator(operator).transact({"from": stranger})
        with reverts(NOT_OWNER):
            registry.functions.adminDeleteParty(b"DE", b"ABC").transact({"from": stranger})
    assert registry.functions.getNode(operator).call() == DOMAIN1
    assert details(registry, accounts[2])[0] == b"DE"


def test_admin_delete_of_unknown_entries_reverts(
    registry: Contract, accounts: list[str], owner: str, reverts: Any
) -> None:
    with reverts(NO_NODE):
        registry.functions.adminDeleteOperator(accounts[5]).transact({"from": owner})
    with reverts(NO_NODE):
        registry.functions.adminDeleteOperator(ZERO).transact({"from": owner})
    with reverts(NO_PARTY):
        registry.functions.adminDeleteParty(b"DE", b"ABC").transact({"from": owner})


def test_only_the_owner_can_start_a_transfer(
    registry: Contract, accounts: list[str], reverts: Any
) -> None:
    with reverts(NOT_OWNER):
        registry.functions.transferOwnership(accounts[1]).transact({"from": accounts[1]})
    assert registry.functions.pendingOwner().call() == ZERO


def test_transfer_to_the_zero_address_is_rejected(
    registry: Contract, owner: str, reverts: Any
) -> None:
    with reverts(ZERO_OWNER):
        registry.functions.transferOwnership(ZERO).transact({"from": owner})
    assert registry.functions.pendingOwner().call() == ZERO


def test_ownership_moves_in_two_steps(
    registry: Contract,
    accounts: list[str],
    owner: str,
    operator: str,
    tx: Tx,
    events: Events,
    reverts: Any,
) -> None:
    successor, stranger = accounts[7], accounts[8]
    started = tx(registry.functions.transferOwnership(successor), owner)
    assert events(started, "OwnershipTransferStarted") == [
        {"previousOwner": owner, "newOwner": successor}
    ]
    assert events(started, "OwnershipTransferred") == []
    # Until accepted, nothing changes.
    assert registry.functions.owner().call() == owner
    assert registry.functions.pendingOwner().call() == successor
    assert registry.functions.isOwner().call({"from": successor}) is False
    with reverts(NOT_OWNER):
        registry.functions.adminDeleteOperator(operator).transact({"from": successor})
    with reverts(NOT_PENDING_OWNER):
        registry.functions.acceptOwnership().transact({"from": stranger})
    with reverts(NOT_PENDING_OWNER):
        registry.functions.acceptOwnership().transact({"from": owner})

    accepted = tx(registry.functions.acceptOwnership(), successor)
    assert events(accepted, "OwnershipTransferred") == [
        {"previousOwner": owner, "newOwner": successor}
    ]
    assert registry.functions.owner().call() == successor
    assert registry.functions.pendingOwner().call() == ZERO
    assert registry.functions.isOwner().call({"from": successor}) is True
    assert registry.functions.isOwner().call({"from": owner}) is False
    # The old owner has lost every right; the new one has them.
    with reverts(NOT_OWNER):
        registry.functions.adminDeleteOperator(operator).transact({"from": owner})
    with reverts(NOT_OWNER):
        registry.functions.transferOwnership(owner).transact({"from": owner})
    with reverts(NOT_PENDING_OWNER):
        registry.functions.acceptOwnership().transact({"from": successor})
    tx(registry.functions.adminDeleteOperator(operator), successor)
    assert registry.functions.getNode(operator).call() == ""


def test_a_pending_transfer_can_be_redirected(
    registry: Contract, accounts: list[str], owner: str, tx: Tx, reverts: Any
) -> None:
    first, second = accounts[7], accounts[8]
    tx(registry.functions.transferOwnership(first), owner)
    tx(registry.functions.transferOwnership(second), owner)
    assert registry.functions.pendingOwner().call() == second
    with reverts(NOT_PENDING_OWNER):
        registry.functions.acceptOwnership().transact({"from": first})
    tx(registry.functions.acceptOwnership(), second)
    assert registry.functions.owner().call() == second


def test_accepting_without_a_pending_transfer_is_rejected(
    registry: Contract, accounts: list[str], owner: str, reverts: Any
) -> None:
    for caller in (owner, accounts[1]):
        with reverts(NOT_PENDING_OWNER):
            registry.functions.acceptOwnership().transact({"from": caller})
    assert registry.functions.owner().call() == owner


# ================================================================ validation


@pytest.mark.parametrize(
    ("domain", "reason"),
    [
        ("", EMPTY_DOMAIN),
        ("http://" + "a" * 247, DOMAIN_TOO_LONG),
        ("https://" + "a" * 300, DOMAIN_TOO_LONG),
        ("localhost:8080", DOMAIN_NOT_URL),
        ("node.example.com", DOMAIN_NOT_URL),
        ("ftp://node.example.com", DOMAIN_NOT_URL),
        ("HTTP://node.example.com", DOMAIN_NOT_URL),
        ("http:/node.example.com", DOMAIN_NOT_URL),
        ("http://localhost:8080/", DOMAIN_NOT_URL),
        ("https://node.example.com/ocpi/", DOMAIN_NOT_URL),
        ("http://", DOMAIN_NOT_URL),
        ("https://", DOMAIN_NOT_URL),
        ("/", DOMAIN_NOT_URL),
        (" http://localhost:8080", DOMAIN_NOT_URL),
    ],
)
def test_set_node_rejects_an_invalid_domain(
    registry: Contract, accounts: list[str], reverts: Any, domain: str, reason: str
) -> None:
    with reverts(reason):
        registry.functions.setNode(domain).transact({"from": accounts[1]})
    assert registry.functions.getNode(accounts[1]).call() == ""
    assert registry.functions.nodeCount().call() == 0


@pytest.mark.parametrize(
    "domain",
    [
        "http://localhost:8080",
        "https://node.example.com",
        "https://node.example.com/ocpi",
        "http://a",
        "https://" + "n" * 245,
        "http://" + "n" * 246,
    ],
)
def test_set_node_accepts_an_http_url(
    registry: Contract, accounts: list[str], tx: Tx, domain: str
) -> None:
    assert len(domain) <= 253
    tx(registry.functions.setNode(domain), accounts[1])
    assert registry.functions.getNode(accounts[1]).call() == domain


def test_set_node_signed_validates_the_domain_without_using_the_nonce(
    registry: Contract, wallet: LocalAccount, signed: Any, relayer: str, reverts: Any
) -> None:
    for domain, reason in (("", EMPTY_DOMAIN), ("http://x/", DOMAIN_NOT_URL)):
        with reverts(reason):
            signed(wallet.key).set_node(domain).transact({"from": relayer})
    assert nonce(registry, wallet.address) == 0


def test_delete_node_without_a_node_is_rejected(
    registry: Contract,
    accounts: list[str],
    tx: Tx,
    signed: Any,
    keys: dict[str, bytes],
    reverts: Any,
) -> None:
    with reverts(NO_NODE):
        registry.functions.deleteNode().transact({"from": accounts[1]})
    tx(registry.functions.setNode(DOMAIN1), accounts[1])
    tx(registry.functions.deleteNode(), accounts[1])
    with reverts(NO_NODE):
        registry.functions.deleteNode().transact({"from": accounts[1]})
    with reverts(NO_NODE):
        signed(keys[accounts[5]]).delete_node().transact({"from": accounts[9]})


@pytest.mark.parametrize(
    ("cc", "pid", "roles", "use_operator", "reason"),
    [
        (b"\x00\x00", b"ABC", [CPO], True, EMPTY_CC),
        (b"DE", b"\x00\x00\x00", [CPO], True, EMPTY_PID),
        (b"de", b"ABC", [CPO], True, BAD_CC),
        (b"De", b"ABC", [CPO], True, BAD_CC),
        (b"D1", b"ABC", [CPO], True, BAD_CC),
        (b"D\x00", b"ABC", [CPO], True, BAD_CC),
        (b"@[", b"ABC", [CPO], True, BAD_CC),
        (b"DE", b"abc", [CPO], True, BAD_PID),
        (b"DE", b"AB-", [CPO], True, BAD_PID),
        (b"DE", b"AB ", [CPO], True, BAD_PID),
        (b"DE", b"\x00AB", [CPO], True, BAD_PID),
        (b"DE", b"AB:", [CPO], True, BAD_PID),
        (b"DE", b"ABC", [], True, NO_ROLES),
        (b"DE", b"ABC", [CPO], False, EMPTY_OPERATOR),
    ],
)
def test_set_party_rejects_invalid_input(
    registry: Contract,
    accounts: list[str],
    operator: str,
    reverts: Any,
    cc: bytes,
    pid: bytes,
    roles: list[int],
    use_operator: bool,
    reason: str,
) -> None:
    target = operator if use_operator else ZERO
    with reverts(reason):
        registry.functions.setParty(cc, pid, roles, target).transact({"from": accounts[2]})
    assert details(registry, accounts[2]) == EMPTY_BY_ADDRESS
    assert registry.functions.partyCount().call() == 0


def test_set_party_with_an_unregistered_operator_is_rejected(
    registry: Contract, accounts: list[str], reverts: Any
) -> None:
    with reverts(OPERATOR_UNKNOWN):
        registry.functions.setParty(b"DE", b"ABC", [CPO], accounts[3]).transact(
            {"from": accounts[2]}
        )
    assert registry.functions.getOperatorByOcpi(b"DE", b"ABC").call() == [ZERO, ""]


@pytest.mark.parametrize("pid", [b"123", b"A1B", b"ZZZ", b"0A9"])
def test_party_id_may_mix_upper_case_letters_and_digits(
    registry: Contract, accounts: list[str], operator: str, tx: Tx, pid: bytes
) -> None:
    set_party(registry, tx, accounts[2], operator, b"AZ", pid, (CPO,))
    assert details(registry, accounts[2])[:2] == [b"AZ", pid]


def test_set_party_signed_validates_input_without_using_the_nonce(
    registry: Contract,
    accounts: list[str],
    operator: str,
    wallet: LocalAccount,
    signed: Any,
    relayer: str,
    reverts: Any,
) -> None:
    actions = signed(wallet.key)
    with reverts(BAD_CC):
        actions.set_party(operator, cc=b"ch").transact({"from": relayer})
    with reverts(NO_ROLES):
        actions.set_party(operator, roles=()).transact({"from": relayer})
    with reverts(OPERATOR_UNKNOWN):
        actions.set_party(accounts[6]).transact({"from": relayer})
    assert nonce(registry, wallet.address) == 0


def test_modules_and_deletion_need_a_registered_party(
    registry: Contract,
    accounts: list[str],
    wallet: LocalAccount,
    signed: Any,
    relayer: str,
    reverts: Any,
) -> None:
    with reverts(PARTY_UNKNOWN):
        registry.functions.setPartyModules([CDRS], []).transact({"from": accounts[2]})
    with reverts(NO_PARTY):
        registry.functions.deleteParty().transact({"from": accounts[2]})
    with reverts(PARTY_UNKNOWN):
        signed(wallet.key).set_party_modules((CDRS,), ()).transact({"from": relayer})
    with reverts(NO_PARTY):
        signed(wallet.key).delete_party().transact({"from": relayer})
    assert nonce(registry, wallet.address) == 0


def test_unknown_lookups_return_zero_values(registry: Contract, accounts: list[str]) -> None:
    stranger = accounts[11]
    assert registry.functions.getNode(stranger).call() == ""
    assert details(registry, stranger) == EMPTY_BY_ADDRESS
    assert by_ocpi(registry, b"DE", b"ABC") == EMPTY_BY_OCPI
    assert registry.functions.getOperatorByAddress(stranger).call() == [ZERO, ""]
    assert registry.functions.getOperatorByOcpi(b"DE", b"ABC").call() == [ZERO, ""]
    assert registry.functions.getNodeOperators().call() == []
    assert registry.functions.getParties().call() == []
    assert registry.functions.nodeCount().call() == 0
    assert registry.functions.partyCount().call() == 0
    assert registry.functions.partyCountOf(stranger).call() == 0
    assert registry.functions.listNodes(0, 10).call() == []
    assert registry.functions.listParties(0, 10).call() == []
    assert registry.functions.listPartiesOf(stranger, 0, 10).call() == []
    assert nonce(registry, stranger) == 0


def test_credentials_are_case_sensitive_lookups(
    registry: Contract, accounts: list[str], operator: str, tx: Tx
) -> None:
    set_party(registry, tx, accounts[2], operator, b"DE", b"ABC")
    assert registry.functions.getOperatorByOcpi(b"de", b"abc").call() == [ZERO, ""]
    assert registry.functions.getOperatorByOcpi(b"DE", b"ABC").call() == [operator, DOMAIN1]


# ================================================================ EIP-712


def test_domain_separator_matches_eth_account(
    w3: Web3, registry: Contract, sign: Any, wallet: LocalAccount
) -> None:
    message = {"operator": wallet.address, "nonce": 0, "deadline": 0}
    signable = encode_typed_data(full_message=sign.typed_data("DeleteNode", message))
    assert registry.functions.DOMAIN_SEPARATOR().call() == signable.header
    assert signable.version == b"\x01"


def test_domain_separator_is_bound_to_the_contract(
    registry: Contract, deploy_registry: Callable[[], Contract], sign: Any, wallet: LocalAccount
) -> None:
    other = deploy_registry()
    message = {"operator": wallet.address, "nonce": 0, "deadline": 0}
    full = sign.typed_data("DeleteNode", message, verifying_contract=other.address)
    assert other.functions.DOMAIN_SEPARATOR().call() == encode_typed_data(full_message=full).header
    assert other.functions.DOMAIN_SEPARATOR().call() != registry.functions.DOMAIN_SEPARATOR().call()


def test_eip712_domain_describes_the_signing_domain(w3: Web3, registry: Contract) -> None:
    assert registry.functions.eip712Domain().call() == [
        b"\x0f",
        "SCN Registry",
        "1",
        w3.eth.chain_id,
        registry.address,
        bytes(32),
        [],
    ]


@pytest.mark.parametrize(
    ("constant", "primary_type"),
    [
        ("SET_NODE_TYPEHASH", "SetNode"),
        ("DELETE_NODE_TYPEHASH", "DeleteNode"),
        ("SET_PARTY_TYPEHASH", "SetParty"),
        ("SET_PARTY_MODULES_TYPEHASH", "SetPartyModules"),
        ("DELETE_PARTY_TYPEHASH", "DeleteParty"),
    ],
)
def test_typehash_matches_the_signed_struct_type(
    registry: Contract, type_strings: dict[str, str], constant: str, primary_type: str
) -> None:
    assert registry.functions[constant]().call() == keccak(text=type_strings[primary_type])


# ================================================================ gas


# record_property feeds junit XML, whose default xunit2 family warns about it; the figures
# still reach the report and the assertions below still run.
@pytest.mark.filterwarnings(
    "ignore:record_property is incompatible with junit_family:pytest.PytestWarning"
)
def test_gas_figures(
    registry: Contract,
    tester: EthereumTester,
    accounts: list[str],
    tx: Tx,
    wallet: LocalAccount,
    signed: Any,
    relayer: str,
    record_property: Callable[[str, object], None],
) -> None:
    operator = accounts[1]
    set_node = tx(registry.functions.setNode(DOMAIN1), operator)["gasUsed"]
    # Both parties are measured as the operator's first party, from the same state.
    before_parties = tester.take_snapshot()
    set_party_gas = set_party(registry, tx, accounts[2], operator, roles=(EMSP, HUB))["gasUsed"]
    tester.revert_to_snapshot(before_parties)
    assert registry.functions.partyCount().call() == 0
    set_party_signed = tx(
        signed(wallet.key).set_party(operator, b"DE", b"ABC", (EMSP, HUB)), relayer
    )["gasUsed"]
    record_property("gas_setNode_new", set_node)
    record_property("gas_setParty_new", set_party_gas)
    record_property("gas_setPartySigned_new", set_party_signed)
    assert 21_000 < set_node < 200_000
    assert 21_000 < set_party_gas < 300_000
    assert 21_000 < set_party_signed < 330_000
    assert set_party_signed > set_party_gas  # the signature check and the nonce cost extra
