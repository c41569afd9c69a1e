"""set-party, get-party, set-party-modules, delete-party, list-parties."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from tests.registry_cli.conftest import MINED, SENT, Chain, describe


def party_json(
    address: str,
    cc: str,
    pid: str,
    roles: list[str],
    operator: str,
    url: str,
    sender: list[str] | None = None,
    receiver: list[str] | None = None,
) -> dict[str, object]:
    return {
        "countryCode": cc,
        "partyId": pid,
        "address": address,
        "roles": roles,
        "modules": {"sender": sender or [], "receiver": receiver or []},
        "node": {"operator": operator, "url": url},
    }


@pytest.mark.parametrize(
    "roles",
    [
        pytest.param(["-r", "CPO", "EMSP"], id="space-separated"),
        pytest.param(["-r", "CPO,EMSP"], id="comma-separated"),
        pytest.param(["-r", "CPO", "-r", "EMSP"], id="repeated-option"),
        pytest.param(["-r", "emsp", "cpo", "-r", "CPO"], id="any-case-order-and-repeats"),
    ],
)
def test_set_party_accepts_every_spelling_of_several_roles(
    node: Chain, operator: LocalAccount, party: LocalAccount, roles: list[str]
) -> None:
    result = node.ok("set-party", "-c", "DE", "MSP", *roles, "-o", operator.address, signer=party)

    assert SENT.search(result.stderr) is not None
    assert MINED.search(result.stdout) is not None
    assert f"  party {party.address}" in result.stdout.splitlines()
    listing = node.json("get-party", "-c", "DE", "MSP")
    assert listing["roles"] == ["CPO", "EMSP"]


def test_set_party_roles_option_may_come_before_the_credentials(
    node: Chain, operator: LocalAccount, party: LocalAccount
) -> None:
    node.ok(
        "set-party", "-r", "CPO", "EMSP", "-c", "de", "msp", "-o", operator.address, signer=party
    )

    assert node.json("get-party", "-a", party.address) == party_json(
        party.address, "DE", "MSP", ["CPO", "EMSP"], operator.address, "http://localhost:8080"
    )


def test_set_party_json_prints_only_the_receipt(
    node: Chain, operator: LocalAccount, party: LocalAccount
) -> None:
    doc = node.json(
        "set-party", "-c", "DE", "MSP", "-r", "EMSP", "-o", operator.address, signer=party
    )
    receipt = node.receipt(doc["transactionHash"])
    assert doc == {
        "transactionHash": doc["transactionHash"],
        "blockNumber": receipt["block_number"],
        "gasUsed": receipt["gas_used"],
        "party": party.address,
    }


def test_get_party_by_credentials_and_by_address_show_the_same_listing(
    listed: Chain, operator: LocalAccount, party: LocalAccount
) -> None:
    by_credentials = listed.ok("get-party", "-c", "de", "msp").stdout
    by_address = listed.ok("get-party", "-a", party.address.lower()).stdout

    assert (
        by_credentials
        == by_address
        == (
            f"DE MSP  {party.address}\n"
            "  roles     EMSP\n"
            "  modules   sender: -\n"
            "            receiver: -\n"
            f"  node      {operator.address}  http://localhost:8080\n"
        )
    )
    expected = party_json(
        party.address, "DE", "MSP", ["EMSP"], operator.address, "http://localhost:8080"
    )
    assert listed.json("get-party", "-c", "DE", "MSP") == expected
    assert listed.json("get-party", "--address", party.address) == expected


@pytest.mark.parametrize(
    "lookup", [["-c", "NL", "XYZ"], ["-a", "0x000000000000000000000000000000000000dEaD"]]
)
def test_get_party_fails_when_the_party_is_not_listed(listed: Chain, lookup: list[str]) -> None:
    message = {
        "-c": "Error: SCPI party NL XYZ is not listed in the registry\n",
        "-a": "Error: no SCPI party is listed in the registry for "
        "0x000000000000000000000000000000000000dEaD\n",
    }[lookup[0]]
    result = listed.invoke("get-party", *lookup)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", message), describe(result)
    # JSON callers still get null on stdout, and the exit code.
    result = listed.invoke("--json", "get-party", *lookup)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "null\n", message)


def test_get_party_notes_when_the_operator_has_deleted_its_node(
    listed: Chain, operator: LocalAccount
) -> None:
    listed.ok("delete-node", signer=operator)

    out = listed.ok("get-party", "-c", "DE", "MSP").stdout
    assert f"  node      {operator.address}  (the operator has no node listed)" in out
    assert listed.json("get-party", "-c", "DE", "MSP")["node"] == {
        "operator": operator.address,
        "url": "",
    }


def test_set_party_modules_declares_sender_and_receiver_modules(
    listed: Chain, party: LocalAccount
) -> None:
    result = listed.ok(
        "set-party-modules",
        "--si",
        "locations",
        "tariffs",
        "--ri",
        "CDRS,commands",
        signer=party,
    )

    assert SENT.search(result.stderr) is not None
    assert MINED.search(result.stdout) is not None
    assert f"  party {party.address}" in result.stdout.splitlines()
    listing = listed.json("get-party", "-a", party.address)
    assert listing["modules"] == {
        "sender": ["locations", "tariffs"],
        "receiver": ["cdrs", "commands"],
    }
    out = listed.ok("get-party", "-a", party.address).stdout
    assert "  modules   sender: locations, tariffs\n" in out
    assert "            receiver: cdrs, commands\n" in out


def test_set_party_modules_long_options_and_none_clears_them(
    listed: Chain, party: LocalAccount
) -> None:
    listed.ok(
        "set-party-modules",
        "--sender-interface",
        "sessions",
        "--receiver-interface",
        "tokens",
        "--receiver-interface",
        "locations",
        signer=party,
    )
    assert listed.json("get-party", "-a", party.address)["modules"] == {
        "sender": ["sessions"],
        "receiver": ["locations", "tokens"],
    }

    listed.ok("set-party-modules", "--ri", "tokens", signer=party)
    assert listed.json("get-party", "-a", party.address)["modules"] == {
        "sender": [],
        "receiver": ["tokens"],
    }


def test_set_party_modules_before_set_party_is_refused_by_the_contract(
    node: Chain, party: LocalAccount
) -> None:
    result = node.invoke("set-party-modules", "--si", "cdrs", signer=party)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: the signer has no party listed in the registry: list it first with `set-party`\n"
    )
    assert node.nonce(party) == 0


def test_delete_party_removes_the_signers_party(listed: Chain, party: LocalAccount) -> None:
    result = listed.ok("delete-party", signer=party)

    assert SENT.search(result.stderr) is not None
    assert MINED.search(result.stdout) is not None
    assert f"  party {party.address}" in result.stdout.splitlines()
    assert listed.party("-c", "DE", "MSP") is None
    assert listed.json("list-parties") == []


def test_list_parties_shows_all_or_those_of_one_operator(
    deployed: Chain, accounts: list[LocalAccount]
) -> None:
    assert deployed.ok("list-parties").stdout == "No parties listed.\n"
    node_a, node_b = accounts[14], accounts[15]
    deployed.ok("set-node", "http://node-a.example", signer=node_a)
    deployed.ok("set-node", "http://node-b.example", signer=node_b)
    deployed.ok(
        "set-party", "-c", "DE", "CPO", "-r", "CPO", "-o", node_a.address, signer=accounts[16]
    )
    deployed.ok(
        "set-party", "-c", "NL", "MSP", "-r", "EMSP", "-o", node_b.address, signer=accounts[17]
    )
    deployed.ok(
        "set-party", "-c", "FR", "SC1", "-r", "SCSP", "-o", node_a.address, signer=accounts[18]
    )

    cpo = party_json(
        accounts[16].address, "DE", "CPO", ["CPO"], node_a.address, "http://node-a.example"
    )
    msp = party_json(
        accounts[17].address, "NL", "MSP", ["EMSP"], node_b.address, "http://node-b.example"
    )
    scsp = party_json(
        accounts[18].address, "FR", "SC1", ["SCSP"], node_a.address, "http://node-a.example"
    )
    assert deployed.json("list-parties") == [cpo, msp, scsp]
    assert deployed.json("list-parties", "-o", node_a.address.lower()) == [cpo, scsp]
    assert deployed.json("list-parties", "--operator", node_b.address) == [msp]

    human = deployed.ok("list-parties", "-o", node_b.address).stdout.splitlines()
    assert human[0] == f"NL MSP  {accounts[17].address}"
    assert len(human) == 5
    assert deployed.ok("list-parties", "-o", accounts[1].address).stdout == "No parties listed.\n"
