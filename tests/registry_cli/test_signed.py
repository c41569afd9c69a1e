"""sign (offline, by SIGNER) then submit (on-chain, paid by SPENDER)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from scn_node.registry.networks import LOCAL_REGISTRY
from tests.registry_cli.conftest import MINED, SENT, Chain, assert_fails, key_of

NOT_LISTED_NODE = "Node operator not listed in registry.\n"
NOT_LISTED_PARTY = "(no party)"


@dataclass(frozen=True)
class Case:
    """One signed action: the chain state it needs, who signs it, and how to see it took effect."""

    action: str
    chain: str  # fixture name
    signer: str  # fixture name
    args: tuple[str, ...]
    listing: Callable[[Chain, LocalAccount], str]
    before: str
    after: str


def node_of(chain: Chain, signer: LocalAccount) -> str:
    return chain.ok("get-node", signer.address).stdout


def modules_of(chain: Chain, signer: LocalAccount) -> str:
    modules = chain.json("get-party", "-a", signer.address)["modules"]
    return f"sender: {modules['sender']} receiver: {modules['receiver']}"


def party_of(chain: Chain, signer: LocalAccount) -> str:
    listing = chain.party("-a", signer.address)
    if listing is None:
        return NOT_LISTED_PARTY
    roles = ", ".join(listing["roles"])
    return f"{listing['countryCode']} {listing['partyId']}  {listing['address']} [{roles}]"


OPERATOR = "0x9bC1169Ca09555bf2721A5C9eC6D69c8073bfeB4"  # account 14, the `operator` fixture
CASES = [
    Case(
        action="SetNode",
        chain="deployed",
        signer="operator",
        args=("set-node", "https://signed.example"),
        listing=node_of,
        before=NOT_LISTED_NODE,
        after="https://signed.example\n",
    ),
    Case(
        action="DeleteNode",
        chain="node",
        signer="operator",
        args=("delete-node",),
        listing=node_of,
        before="http://localhost:8080\n",
        after=NOT_LISTED_NODE,
    ),
    Case(
        action="SetParty",
        chain="node",
        signer="party",
        args=("set-party", "-c", "DE", "MSP", "-r", "CPO", "EMSP", "-o", OPERATOR),
        listing=party_of,
        before=NOT_LISTED_PARTY,
        after="DE MSP  0xcb0236B37Ff19001633E38808bd124b60B1fE1ba [CPO, EMSP]",
    ),
    Case(
        action="SetPartyModules",
        chain="listed",
        signer="party",
        args=("set-party-modules", "--si", "cdrs", "--ri", "tokens", "sessions"),
        listing=modules_of,
        before="sender: [] receiver: []",
        after="sender: ['cdrs'] receiver: ['sessions', 'tokens']",
    ),
    Case(
        action="DeleteParty",
        chain="listed",
        signer="party",
        args=("delete-party",),
        listing=party_of,
        before="DE MSP  0xcb0236B37Ff19001633E38808bd124b60B1fE1ba [EMSP]",
        after=NOT_LISTED_PARTY,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.action for c in CASES])
def test_signed_action_is_applied_for_the_signer_with_the_spender_paying(
    request: pytest.FixtureRequest,
    accounts: list[LocalAccount],
    tmp_path: Path,
    case: Case,
) -> None:
    chain: Chain = request.getfixturevalue(case.chain)
    signer: LocalAccount = request.getfixturevalue(case.signer)
    spender = accounts[5]
    signed = tmp_path / "signed.json"
    assert case.listing(chain, signer) == case.before
    signer_balance, signer_nonce = chain.balance(signer), chain.nonce(signer)
    spender_balance, block = chain.balance(spender), chain.block_number()

    result = chain.ok("sign", "-w", str(signed), *case.args, signer=signer)
    assert result.stdout == ""
    assert result.stderr == f"signed {case.action} for {signer.address}, written to {signed}\n"
    assert chain.block_number() == block, "signing is offline"
    doc = json.loads(signed.read_text())
    assert doc["action"] == case.action
    assert doc["contract"] == LOCAL_REGISTRY

    result = chain.ok("submit", str(signed), spender=spender)

    sent = SENT.search(result.stderr)
    assert sent is not None
    assert sent["label"] == f"submit {case.action}"
    mined = MINED.search(result.stdout)
    assert mined is not None
    receipt = chain.receipt(sent["hash"])
    assert receipt["from"] == spender.address
    assert int(mined["gas"]) == receipt["gas_used"]
    assert f"  signer {signer.address}" in result.stdout.splitlines()
    assert f"  spender {spender.address}" in result.stdout.splitlines()
    paid = receipt["gas_used"] * receipt["effective_gas_price"]
    assert paid > 0
    assert chain.balance(spender) == spender_balance - paid
    assert chain.balance(signer) == signer_balance
    assert chain.nonce(signer) == signer_nonce
    assert case.listing(chain, signer) == case.after


def test_sign_to_stdout_and_submit_from_stdin(
    deployed: Chain, operator: LocalAccount, accounts: list[LocalAccount]
) -> None:
    signed = deployed.ok("sign", "set-node", "http://piped.example", signer=operator)
    assert json.loads(signed.stdout)["message"]["domain"] == "http://piped.example"

    doc = deployed.json("submit", "-", spender=accounts[5], input=signed.stdout)

    assert doc["signer"] == operator.address
    assert doc["spender"] == accounts[5].address
    assert deployed.receipt(doc["transactionHash"])["status"] == 1
    assert deployed.ok("get-node", operator.address).stdout == "http://piped.example\n"


@pytest.mark.parametrize("spender_option", [["-x"], ["--spender"], []])
def test_submit_takes_the_spender_from_the_option_or_spender_env(
    deployed: Chain,
    operator: LocalAccount,
    accounts: list[LocalAccount],
    tmp_path: Path,
    spender_option: list[str],
) -> None:
    signed = tmp_path / "node.json"
    deployed.ok("sign", "--write", str(signed), "set-node", "http://x.example", signer=operator)
    spender = accounts[6]
    if spender_option:
        args = [*spender_option, key_of(spender), "--json", "submit", str(signed)]
        doc = json.loads(deployed.ok(*args, spender=accounts[7]).stdout)
    else:
        doc = deployed.json("submit", str(signed), spender=spender)
    assert doc["spender"] == spender.address
    assert deployed.receipt(doc["transactionHash"])["from"] == spender.address


def test_submitting_the_same_signed_file_twice_fails_without_a_transaction(
    deployed: Chain, operator: LocalAccount, accounts: list[LocalAccount], tmp_path: Path
) -> None:
    signed = tmp_path / "node.json"
    deployed.ok("sign", "-w", str(signed), "set-node", "http://once.example", signer=operator)
    deployed.ok("submit", str(signed), spender=accounts[5])
    block, spender_nonce = deployed.block_number(), deployed.nonce(accounts[5])

    result = deployed.invoke("submit", str(signed), spender=accounts[5])

    # The contract has spent the signer's nonce: the same authorisation cannot be replayed.
    assert_fails(result, 1, "was already used")
    assert deployed.block_number() == block
    assert deployed.nonce(accounts[5]) == spender_nonce


def test_sign_valid_for_sets_the_deadline_and_an_expired_one_is_refused(
    deployed: Chain, operator: LocalAccount, accounts: list[LocalAccount]
) -> None:
    signed = deployed.ok(
        "sign", "--valid-for", "-60", "set-node", "http://x.example", signer=operator
    )
    block = deployed.block_number()

    result = deployed.invoke("submit", "-", spender=accounts[5], input=signed.stdout)

    assert_fails(result, 1, "expired; sign it again")
    assert deployed.block_number() == block
    assert deployed.ok("get-node", operator.address).stdout == NOT_LISTED_NODE


def test_submit_refuses_a_signature_for_another_registry(
    deployed: Chain, operator: LocalAccount, accounts: list[LocalAccount]
) -> None:
    other = deployed.json("deploy", signer=accounts[1])["registry"]
    signed = deployed.ok(
        "--registry", other, "sign", "set-node", "http://x.example", signer=operator
    )
    block = deployed.block_number()

    result = deployed.invoke("submit", "-", spender=accounts[5], input=signed.stdout)

    assert_fails(result, 1, f"signed for the registry at {other}, not {LOCAL_REGISTRY}")
    assert deployed.block_number() == block
