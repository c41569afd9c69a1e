"""deploy, info, and the owner-only admin commands."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from scn_node.registry.networks import LOCAL_PERMISSIONS, LOCAL_REGISTRY, LOCAL_RPC_URL
from tests.registry_cli.conftest import MINED, SENT, Chain, assert_fails


def test_deploy_at_nonce_lands_at_the_local_addresses_owned_by_the_signer(
    chain: Chain, accounts: list[LocalAccount]
) -> None:
    result = chain.ok("deploy", "--at-nonce", "2", signer=accounts[0])

    sent = list(SENT.finditer(result.stderr))
    mined = list(MINED.finditer(result.stdout))
    assert [s["label"] for s in sent] == ["deploy", "deploy permissions"]
    assert [m["label"] for m in mined] == ["deploy", "deploy permissions"]
    for s, m, address in zip(sent, mined, (LOCAL_REGISTRY, LOCAL_PERMISSIONS), strict=True):
        receipt = chain.receipt(s["hash"])
        assert receipt["contract_address"] == address
        assert int(m["block"]) == receipt["block_number"]
        assert int(m["gas"]) == receipt["gas_used"]
    lines = result.stdout.splitlines()
    assert f"  registry {LOCAL_REGISTRY}" in lines
    assert f"  owner {accounts[0].address}" in lines
    assert f"  permissions {LOCAL_PERMISSIONS}" in lines
    # Two empty transfers, then the registry (nonce 2) and the permissions contract (nonce 3).
    assert chain.nonce(accounts[0]) == 4


def test_deploy_json_reports_the_new_address_and_info_finds_it(
    chain: Chain, accounts: list[LocalAccount]
) -> None:
    doc = chain.json("deploy", signer=accounts[2])
    receipt = chain.receipt(doc["transactionHash"])
    second = chain.receipt(doc["permissionsDeploy"]["transactionHash"])
    assert doc == {
        "transactionHash": doc["transactionHash"],
        "blockNumber": receipt["block_number"],
        "gasUsed": receipt["gas_used"],
        "registry": receipt["contract_address"],
        "owner": accounts[2].address,
        "permissions": second["contract_address"],
        "permissionsDeploy": {
            "transactionHash": doc["permissionsDeploy"]["transactionHash"],
            "blockNumber": second["block_number"],
            "gasUsed": second["gas_used"],
        },
    }
    assert doc["registry"] != LOCAL_REGISTRY

    info = chain.json("--registry", doc["registry"], "info")
    assert info["registry"] == doc["registry"]
    assert info["owner"] == accounts[2].address
    # The local network's permissions contract reads the local registry, not this one.
    assert (info["permissions"], info["services"]) == (None, None)
    info = chain.json("--registry", doc["registry"], "--permissions", doc["permissions"], "info")
    assert (info["permissions"], info["services"]) == (doc["permissions"], 0)


def test_deploy_at_a_nonce_already_used_fails_without_a_transaction(
    deployed: Chain, accounts: list[LocalAccount]
) -> None:
    block = deployed.block_number()
    result = deployed.invoke("deploy", "--at-nonce", "2", signer=accounts[0])
    assert_fails(result, 1, f"{accounts[0].address} has already used nonce 2")
    assert deployed.block_number() == block


def test_info_shows_address_chain_owner_and_counts(
    listed: Chain, accounts: list[LocalAccount]
) -> None:
    chain_id = int(listed.tester.backend.chain.chain_id)
    assert listed.json("info") == {
        "rpcUrl": LOCAL_RPC_URL,
        "registry": LOCAL_REGISTRY,
        "chainId": chain_id,
        "owner": accounts[0].address,
        "nodes": 1,
        "parties": 1,
        "permissions": LOCAL_PERMISSIONS,
        "services": 0,
    }
    human = listed.ok("info").stdout.splitlines()
    assert [line.split() for line in human] == [
        ["rpcUrl", LOCAL_RPC_URL],
        ["registry", LOCAL_REGISTRY],
        ["chainId", str(chain_id)],
        ["owner", accounts[0].address],
        ["nodes", "1"],
        ["parties", "1"],
        ["permissions", LOCAL_PERMISSIONS],
        ["services", "0"],
    ]


def test_admin_delete_node_removes_any_operators_node(
    listed: Chain, accounts: list[LocalAccount], operator: LocalAccount
) -> None:
    result = listed.ok("admin", "delete-node", operator.address.lower(), signer=accounts[0])

    assert SENT.search(result.stderr) is not None
    assert result.stdout.startswith("admin delete-node: mined in block ")
    assert f"  operator {operator.address}" in result.stdout.splitlines()
    assert (
        listed.ok("get-node", operator.address).stdout == "Node operator not listed in registry.\n"
    )


def test_admin_delete_party_removes_a_party_by_credentials(
    listed: Chain, accounts: list[LocalAccount]
) -> None:
    doc = listed.json("admin", "delete-party", "-c", "de", "msp", signer=accounts[0])

    assert doc["party"] == "DE MSP"
    assert listed.receipt(doc["transactionHash"])["status"] == 1
    assert listed.party("-c", "DE", "MSP") is None
    assert listed.json("info")["parties"] == 0


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["admin", "delete-node", "{operator}"], id="delete-node"),
        pytest.param(["admin", "delete-party", "-c", "DE", "MSP"], id="delete-party"),
        pytest.param(["admin", "transfer-ownership", "{operator}"], id="transfer-ownership"),
    ],
)
def test_admin_commands_are_refused_for_anyone_but_the_owner(
    listed: Chain, operator: LocalAccount, args: list[str]
) -> None:
    block = listed.block_number()
    result = listed.invoke(*[a.format(operator=operator.address) for a in args], signer=operator)
    assert_fails(result, 1, "Error: the signer is not the registry's owner\n")
    assert listed.block_number() == block
    assert listed.json("info")["nodes"] == 1


def test_ownership_moves_only_when_the_new_owner_accepts(
    deployed: Chain, accounts: list[LocalAccount]
) -> None:
    old, new = accounts[0], accounts[1]
    result = deployed.ok("admin", "transfer-ownership", new.address, signer=old)
    assert result.stdout.startswith("admin transfer-ownership: mined in block ")
    assert f"  pendingOwner {new.address}" in result.stdout.splitlines()
    assert deployed.json("info")["owner"] == old.address

    refused = deployed.invoke("admin", "accept-ownership", signer=accounts[2])
    assert_fails(refused, 1, "Error: the signer has not been offered ownership of the registry")

    doc = deployed.json("admin", "accept-ownership", signer=new)
    assert doc["owner"] == new.address
    assert deployed.receipt(doc["transactionHash"])["from"] == new.address
    assert deployed.json("info")["owner"] == new.address
    assert_fails(
        deployed.invoke("admin", "transfer-ownership", old.address, signer=old),
        1,
        "Error: the signer is not the registry's owner\n",
    )
