"""Bad input is refused with a clear message and a non-zero exit, before any transaction is sent."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from registry_cli.output import plain_error
from scn_node.registry.errors import RegistryRevert
from tests.registry_cli.conftest import Chain, assert_fails

USAGE = 2  # click's exit code for a usage error
FAILURE = 1  # click's exit code for a ClickException


@contextmanager
def nothing_sent(chain: Chain, *accounts: LocalAccount | str) -> Iterator[None]:
    """No block was mined and none of `accounts` used a nonce inside the block."""
    block = chain.block_number()
    nonces = [chain.nonce(a) for a in accounts]
    yield
    assert chain.block_number() == block
    assert [chain.nonce(a) for a in accounts] == nonces


def _party_args(cc: str, pid: str, roles: str = "EMSP", operator: str = "{operator}") -> list[str]:
    return ["set-party", "-c", cc, pid, "-r", roles, "-o", operator]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            _party_args("D1", "MSP"), "country code 'D1' must be two letters", id="cc-digit"
        ),
        pytest.param(
            _party_args("DEU", "MSP"), "country code 'DEU' must be two letters", id="cc-three"
        ),
        pytest.param(_party_args("D", "MSP"), "country code 'D' must be two letters", id="cc-one"),
        pytest.param(
            _party_args("DE", "MS"), "party id 'MS' must be three letters or digits", id="pid-two"
        ),
        pytest.param(
            _party_args("DE", "MSPX"),
            "party id 'MSPX' must be three letters or digits",
            id="pid-four",
        ),
        pytest.param(
            _party_args("DE", "M-P"),
            "party id 'M-P' must be three letters or digits",
            id="pid-symbol",
        ),
        pytest.param(
            _party_args("DE", "MSP", roles="DRIVER"),
            "unknown role 'DRIVER'; choose from CPO, EMSP, HUB, NAP, NSP, OTHER, SCSP",
            id="unknown-role",
        ),
        pytest.param(
            _party_args("DE", "MSP", roles="EMSP,CPO,PARKING"),
            "unknown role 'PARKING'",
            id="unknown-role-in-list",
        ),
        pytest.param(
            _party_args("DE", "MSP", operator="0x1234"),
            "'0x1234' is not an Ethereum address (0x + 40 hex digits)",
            id="operator-short",
        ),
        pytest.param(
            _party_args("DE", "MSP", operator="0x9BC1169Ca09555bf2721A5C9eC6D69c8073bfeB4"),
            "is not an Ethereum address",
            id="operator-bad-checksum",
        ),
        pytest.param(
            _party_args("DE", "MSP", operator="node-1"),
            "'node-1' is not an Ethereum address",
            id="operator-not-hex",
        ),
        pytest.param(
            ["set-party-modules", "--si", "parking"],
            "unknown module 'parking'",
            id="unknown-module",
        ),
        pytest.param(
            ["set-party-modules", "--ri", "locations,credentials"],
            "unknown module 'credentials'; choose from cdrs, chargingprofiles, commands",
            id="module-not-in-registry",
        ),
        pytest.param(
            ["set-node", "ftp://node.example"],
            "'ftp://node.example' is not an http(s) URL",
            id="url-ftp",
        ),
        pytest.param(
            ["set-node", "localhost:8080"],
            "'localhost:8080' is not an http(s) URL",
            id="url-no-scheme",
        ),
        pytest.param(["set-node", "http://"], "'http://' is not an http(s) URL", id="url-no-host"),
        pytest.param(
            ["sign", "set-node", "node.example"],
            "'node.example' is not an http(s) URL",
            id="sign-url",
        ),
        pytest.param(
            ["sign", "set-party", "-c", "DE", "M", "-r", "EMSP", "-o", "{operator}"],
            "party id 'M'",
            id="sign-pid",
        ),
        pytest.param(
            ["get-node", "0x12"], "'0x12' is not an Ethereum address", id="get-node-address"
        ),
        pytest.param(
            ["get-node", "0x" + "g" * 40], "is not an Ethereum address", id="get-node-not-hex"
        ),
        pytest.param(
            ["get-party", "-a", "cb0236B37"],
            "'cb0236B37' is not an Ethereum address",
            id="get-party-address",
        ),
        pytest.param(
            ["list-parties", "-o", "0xabc"],
            "'0xabc' is not an Ethereum address",
            id="list-parties-operator",
        ),
        pytest.param(
            ["admin", "delete-node", "0xabc"],
            "'0xabc' is not an Ethereum address",
            id="admin-address",
        ),
        pytest.param(
            ["get-party"],
            "give exactly one of -c/--credentials CC PID or -a/--address",
            id="get-party-neither",
        ),
        pytest.param(
            ["get-party", "-c", "DE", "MSP", "-a", "0xcb0236B37Ff19001633E38808bd124b60B1fE1ba"],
            "give exactly one of -c/--credentials CC PID or -a/--address",
            id="get-party-both",
        ),
        pytest.param(
            ["get-party", "-c", "DEU", "MSP"],
            "country code 'DEU' must be two letters",
            id="get-party-cc",
        ),
        pytest.param(
            ["--registry", "0x345c", "info"],
            "'0x345c' is not an Ethereum address",
            id="registry-address",
        ),
    ],
)
def test_bad_input_is_a_usage_error_before_any_transaction(
    node: Chain, operator: LocalAccount, party: LocalAccount, args: list[str], message: str
) -> None:
    args = [a.format(operator=operator.address) for a in args]
    with nothing_sent(node, party):
        result = node.invoke(*args, signer=party)
    assert_fails(result, USAGE, message)


TRANSACTION_COMMANDS = [
    pytest.param(["set-node", "http://localhost:8080"], id="set-node"),
    pytest.param(["delete-node"], id="delete-node"),
    pytest.param(
        ["set-party", "-c", "DE", "MSP", "-r", "EMSP", "-o", "{operator}"], id="set-party"
    ),
    pytest.param(["set-party-modules", "--si", "cdrs"], id="set-party-modules"),
    pytest.param(["delete-party"], id="delete-party"),
    pytest.param(["deploy"], id="deploy"),
    pytest.param(["admin", "delete-node", "{operator}"], id="admin"),
]
SIGNING_COMMANDS = [
    *TRANSACTION_COMMANDS,
    pytest.param(["sign", "set-node", "http://localhost:8080"], id="sign"),
]


@pytest.mark.parametrize("args", SIGNING_COMMANDS)
def test_a_command_that_signs_needs_a_signer_key(
    node: Chain, operator: LocalAccount, args: list[str]
) -> None:
    with nothing_sent(node):
        result = node.invoke(*[a.format(operator=operator.address) for a in args])
    assert_fails(result, USAGE, "no signer key: pass -s/--signer or SIGNER")


@pytest.mark.parametrize(
    ("key", "where"),
    [
        pytest.param("0x1234", "env", id="short"),
        pytest.param("0x" + "ab" * 33, "env", id="long"),
        pytest.param("0x" + "zz" * 32, "env", id="not-hex"),
        pytest.param("0x" + "00" * 32, "env", id="zero"),
        pytest.param("correct horse battery staple", "env", id="passphrase"),
        pytest.param("0x1234", "option", id="short-option"),
    ],
)
def test_a_malformed_signer_key_is_a_usage_error(node: Chain, key: str, where: str) -> None:
    with nothing_sent(node):
        if where == "env":
            result = node.invoke("set-node", "http://localhost:8080", signer=key)
        else:
            result = node.invoke("-s", key, "set-node", "http://localhost:8080")
    assert_fails(result, USAGE, "the signer key is not a 32-byte hex private key")


@pytest.mark.parametrize("args", TRANSACTION_COMMANDS)
def test_an_unfunded_signer_is_told_to_fund_the_account(
    node: Chain, operator: LocalAccount, args: list[str]
) -> None:
    empty = Account.create()
    with nothing_sent(node, empty.address):
        result = node.invoke(*[a.format(operator=operator.address) for a in args], signer=empty)
    assert_fails(result, FAILURE, f"{empty.address} holds no ETH: fund the account first")


def test_signing_offline_needs_no_eth_but_submitting_needs_a_funded_spender(
    node: Chain, tmp_path: Path
) -> None:
    signer, spender = Account.create(), Account.create()
    signed = tmp_path / "signed.json"
    node.ok("sign", "-w", str(signed), "set-node", "http://unfunded.example", signer=signer)

    with nothing_sent(node, spender.address):
        result = node.invoke("submit", str(signed), spender=spender)
    assert_fails(result, FAILURE, "holds no ETH", "fund the account first")

    with nothing_sent(node):
        result = node.invoke("submit", str(signed))
    assert_fails(result, USAGE, "no spender key: pass -x/--spender or SPENDER")


def _no_code(chain: Chain, accounts: list[LocalAccount]) -> str:
    return "0x000000000000000000000000000000000000bEEF"


def _eoa(chain: Chain, accounts: list[LocalAccount]) -> str:
    return accounts[3].address


def _other_contract(chain: Chain, accounts: list[LocalAccount]) -> str:
    """A contract whose code is a single STOP: every call succeeds and returns nothing."""
    init = "0x600160 0c 600039 600160 00f3 00".replace(" ", "")
    tx = chain.tester.send_transaction(
        {"from": accounts[9].address, "data": init, "gas": 100_000, "value": 0}
    )
    address = chain.tester.get_transaction_receipt(tx)["contract_address"]
    assert chain.tester.get_code(address) == "0x00"
    return str(address)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        pytest.param(_no_code, "no contract at {address}", id="no-code"),
        pytest.param(_eoa, "no contract at {address}", id="eoa"),
        pytest.param(_other_contract, "is not an SCN Registry", id="other-contract"),
    ],
)
@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["info"], id="info"),
        pytest.param(["set-node", "http://elsewhere.example"], id="set-node"),
    ],
)
def test_a_registry_address_without_the_registry_is_refused(
    node: Chain,
    operator: LocalAccount,
    accounts: list[LocalAccount],
    where: Callable[[Chain, list[LocalAccount]], str],
    message: str,
    args: list[str],
) -> None:
    address = where(node, accounts)
    with nothing_sent(node, operator):
        result = node.invoke(
            "--registry",
            address,
            *[a.format(operator=operator.address) for a in args],
            signer=operator,
        )
    assert_fails(result, FAILURE, message.format(address=address), "(RPC http://localhost:8544)")


def test_an_operator_without_a_node_is_refused_in_a_plain_sentence_and_no_transaction(
    node: Chain, accounts: list[LocalAccount], party: LocalAccount
) -> None:
    no_node = accounts[15].address
    with nothing_sent(node, party):
        result = node.invoke(
            "set-party", "-c", "DE", "MSP", "-r", "EMSP", "-o", no_node, signer=party
        )
    assert_fails(result, FAILURE)
    assert result.stderr == (
        "Error: the operator (-o) has no node listed in the registry: its node is listed first, "
        "with `scn-registry set-node URL -s OPERATOR_KEY`\n"
    )
    assert node.party("-c", "DE", "MSP") is None


@pytest.mark.parametrize(
    ("chain_says", "user_reads"),
    [
        pytest.param(
            "VM Exception while processing transaction: revert Provided operator not registered.",
            "the operator (-o) has no node listed in the registry: its node is listed first, "
            "with `scn-registry set-node URL -s OPERATOR_KEY`",
            id="ganache",
        ),
        pytest.param(
            "Provided operator not registered.",
            "the operator (-o) has no node listed in the registry: its node is listed first, "
            "with `scn-registry set-node URL -s OPERATOR_KEY`",
            id="geth",
        ),
        pytest.param(
            "VM Exception while processing transaction: revert Domain name too long.",
            "the contract refused: Domain name too long.",
            id="unmapped",
        ),
        pytest.param(
            "VM Exception while processing transaction: revert",
            "the contract refused: no reason given",
            id="no-reason",
        ),
    ],
)
def test_revert_reasons_are_worded_for_the_user_whatever_the_chain(
    chain_says: str, user_reads: str
) -> None:
    # ganache words a revert "VM Exception while processing transaction: revert REASON".
    assert plain_error(RegistryRevert(chain_says)) == user_reads


def test_a_party_cannot_take_credentials_listed_by_another(
    listed: Chain, operator: LocalAccount, accounts: list[LocalAccount]
) -> None:
    with nothing_sent(listed, accounts[18]):
        result = listed.invoke(
            "set-party", "-c", "DE", "MSP", "-r", "CPO", "-o", operator.address, signer=accounts[18]
        )
    assert_fails(
        result,
        FAILURE,
        "Party with country_code/party_id already registered under different address.",
    )


# ---------------------------------------------------------------------- tampered signed files


def _set(field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def tamper(doc: dict[str, Any]) -> None:
        doc["message"][field] = value

    return tamper


def _signature(change: Callable[[bytearray], bytes]) -> Callable[[dict[str, Any]], None]:
    def tamper(doc: dict[str, Any]) -> None:
        doc["signature"] = "0x" + change(bytearray.fromhex(doc["signature"][2:])).hex()

    return tamper


def _bad_v(raw: bytearray) -> bytes:
    raw[64] ^= 0x01  # 27 <-> 26, 28 <-> 29: neither is a recovery id
    return bytes(raw)


def _zero_r(raw: bytearray) -> bytes:
    return bytes(32) + raw[32:]


def _other_chain(doc: dict[str, Any]) -> None:
    doc["chainId"] += 1


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(_set("domain", "http://attacker.example"), id="changed-url"),
        pytest.param(
            _set("operator", "0xcb0236B37Ff19001633E38808bd124b60B1fE1ba"), id="changed-subject"
        ),
        pytest.param(_set("deadline", 2**40), id="changed-deadline"),
        pytest.param(_set("nonce", 7), id="changed-nonce"),
        pytest.param(_other_chain, id="changed-chain"),
    ],
)
def test_a_tampered_signed_file_is_refused_before_any_transaction(
    deployed: Chain,
    operator: LocalAccount,
    accounts: list[LocalAccount],
    tmp_path: Path,
    tamper: Callable[[dict[str, Any]], None],
) -> None:
    signed = tmp_path / "signed.json"
    deployed.ok("sign", "-w", str(signed), "set-node", "http://honest.example", signer=operator)
    doc = json.loads(signed.read_text())
    tamper(doc)
    signed.write_text(json.dumps(doc))

    with nothing_sent(deployed, accounts[5], operator):
        result = deployed.invoke("submit", str(signed), spender=accounts[5])

    assert_fails(result, USAGE, "SetNode is not signed by its subject")
    assert (
        deployed.ok("get-node", operator.address).stdout
        == "Node operator not listed in registry.\n"
    )


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(_signature(_bad_v), id="recovery-id"),
        pytest.param(_signature(_zero_r), id="zero-r"),
        pytest.param(_signature(lambda raw: bytes(raw[:63])), id="truncated"),
        pytest.param(lambda doc: doc.update(signature="0xnot-hex"), id="not-hex"),
    ],
)
def test_a_malformed_signature_is_refused_as_a_usage_error(
    deployed: Chain,
    operator: LocalAccount,
    accounts: list[LocalAccount],
    tamper: Callable[[dict[str, Any]], None],
) -> None:
    doc = json.loads(
        deployed.ok("sign", "set-node", "http://honest.example", signer=operator).stdout
    )
    tamper(doc)

    with nothing_sent(deployed, accounts[5], operator):
        result = deployed.invoke("submit", "-", spender=accounts[5], input=json.dumps(doc))

    assert_fails(result, USAGE)
    assert "signature" in result.stderr.lower(), result.stderr


def _top(field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def tamper(doc: dict[str, Any]) -> None:
        doc[field] = value

    return tamper


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(_set("nonce", "abc"), id="nonce-not-a-number"),
        pytest.param(_set("operator", "0xnope"), id="subject-not-an-address"),
        pytest.param(_top("contract", "0xnope"), id="contract-not-an-address"),
    ],
)
def test_a_signed_file_with_malformed_fields_is_a_usage_error(
    deployed: Chain,
    operator: LocalAccount,
    accounts: list[LocalAccount],
    tamper: Callable[[dict[str, Any]], None],
) -> None:
    doc = json.loads(
        deployed.ok("sign", "set-node", "http://honest.example", signer=operator).stdout
    )
    tamper(doc)

    with nothing_sent(deployed, accounts[5], operator):
        result = deployed.invoke("submit", "-", spender=accounts[5], input=json.dumps(doc))

    assert_fails(result, USAGE, "Error: ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("hello", "not a signed registry action", id="not-json"),
        pytest.param('{"action": "SetNode"}', "not a signed registry action", id="missing-fields"),
        pytest.param('{"action": "Transfer"}', "unknown action 'Transfer'", id="unknown-action"),
    ],
)
def test_submit_refuses_a_file_that_is_not_a_signed_action(
    deployed: Chain, accounts: list[LocalAccount], text: str, message: str
) -> None:
    with nothing_sent(deployed, accounts[5]):
        result = deployed.invoke("submit", "-", spender=accounts[5], input=text)
    assert_fails(result, USAGE, message)
