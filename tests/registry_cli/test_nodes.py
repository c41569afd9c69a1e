"""set-node, get-node, delete-node, list-nodes; and how a transaction is reported."""

from __future__ import annotations

import json

from eth_account.signers.local import LocalAccount

from tests.registry_cli.conftest import MINED, SENT, Chain


def test_set_node_reports_progress_then_hash_block_and_gas(
    deployed: Chain, operator: LocalAccount
) -> None:
    result = deployed.ok("set-node", "http://localhost:8080", signer=operator)

    sent = SENT.search(result.stderr)
    assert sent is not None, result.stderr
    assert sent["label"] == "set-node"
    mined = MINED.search(result.stdout)
    assert mined is not None, result.stdout
    receipt = deployed.receipt(sent["hash"])
    assert receipt["status"] == 1
    assert int(mined["block"]) == receipt["block_number"] == deployed.block_number()
    assert int(mined["gas"]) == receipt["gas_used"]
    assert f"  transaction {sent['hash']}" in result.stdout.splitlines()
    assert f"  operator {operator.address}" in result.stdout.splitlines()
    assert "  url http://localhost:8080" in result.stdout.splitlines()


def test_set_node_json_prints_only_the_receipt_as_json(
    deployed: Chain, operator: LocalAccount
) -> None:
    result = deployed.ok("--json", "set-node", "http://localhost:8080", signer=operator)

    doc = json.loads(result.stdout)
    receipt = deployed.receipt(doc["transactionHash"])
    assert doc == {
        "transactionHash": doc["transactionHash"],
        "blockNumber": receipt["block_number"],
        "gasUsed": receipt["gas_used"],
        "operator": operator.address,
        "url": "http://localhost:8080",
    }
    # Progress still goes to stderr, where it cannot break a pipe into jq.
    sent = SENT.search(result.stderr)
    assert sent is not None
    assert sent["hash"] == doc["transactionHash"]


def test_get_node_prints_the_url_of_a_listed_operator(node: Chain, operator: LocalAccount) -> None:
    assert node.ok("get-node", operator.address).stdout == "http://localhost:8080\n"
    assert node.json("get-node", operator.address) == {
        "operator": operator.address,
        "url": "http://localhost:8080",
    }


def test_get_node_says_when_the_operator_is_not_listed(
    deployed: Chain, operator: LocalAccount
) -> None:
    result = deployed.ok("get-node", operator.address)
    assert result.stdout == "Node operator not listed in registry.\n"
    assert deployed.json("get-node", operator.address) == {
        "operator": operator.address,
        "url": None,
    }


def test_set_node_again_changes_the_url_and_stores_one_spelling(
    node: Chain, operator: LocalAccount
) -> None:
    node.ok("set-node", " https://node.example.com/ ", signer=operator)

    assert node.ok("get-node", operator.address).stdout == "https://node.example.com\n"
    assert node.json("list-nodes") == [
        {"operator": operator.address, "url": "https://node.example.com"}
    ]


def test_delete_node_removes_the_signers_node(node: Chain, operator: LocalAccount) -> None:
    result = node.ok("delete-node", signer=operator)

    assert MINED.search(result.stdout) is not None
    sent = SENT.search(result.stderr)
    assert sent is not None
    assert sent["label"] == "delete-node"
    assert f"  operator {operator.address}" in result.stdout.splitlines()
    assert node.ok("get-node", operator.address).stdout == "Node operator not listed in registry.\n"
    assert node.json("list-nodes") == []


def test_delete_node_without_a_node_is_refused_by_the_contract(
    deployed: Chain, operator: LocalAccount
) -> None:
    before = deployed.nonce(operator)
    result = deployed.invoke("delete-node", signer=operator)
    assert result.exit_code == 1
    assert result.stderr == "Error: the signer has no node listed in the registry\n"
    assert deployed.nonce(operator) == before


def test_list_nodes_shows_every_node(deployed: Chain, accounts: list[LocalAccount]) -> None:
    assert deployed.ok("list-nodes").stdout == "No nodes listed.\n"
    deployed.ok("set-node", "http://node-a.example", signer=accounts[14])
    deployed.ok("set-node", "http://node-b.example:9000", signer=accounts[15])

    human = deployed.ok("list-nodes").stdout.splitlines()
    assert human == [
        f"{accounts[14].address}  http://node-a.example",
        f"{accounts[15].address}  http://node-b.example:9000",
    ]
    assert deployed.json("list-nodes") == [
        {"operator": accounts[14].address, "url": "http://node-a.example"},
        {"operator": accounts[15].address, "url": "http://node-b.example:9000"},
    ]
