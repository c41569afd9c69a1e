"""-s/--signer and -x/--spender after the subcommand, as docker-compose.yml and the README use them
(`scn-registry set-node URL -s KEY`); the group's option or SIGNER/SPENDER is the default."""

from __future__ import annotations

import json

import click
import pytest
from eth_account.signers.local import LocalAccount

from registry_cli.cli import cli
from tests.registry_cli.conftest import Chain, assert_fails, key_of

# Every command that signs a transaction or an action, as a user types it.
SIGNING_COMMANDS = [
    ["set-node"],
    ["delete-node"],
    ["set-party"],
    ["set-party-modules"],
    ["delete-party"],
    ["set-service"],
    ["delete-service"],
    ["agree"],
    ["revoke"],
    ["deploy"],
    ["submit"],
    ["sign"],
    *[["sign", name] for name in sorted(cli.commands["sign"].commands)],  # type: ignore[attr-defined]
    ["admin"],
    *[["admin", name] for name in sorted(cli.commands["admin"].commands)],  # type: ignore[attr-defined]
]


@pytest.mark.parametrize("option", ["-s", "--signer"])
def test_set_node_takes_the_signer_after_the_url(
    deployed: Chain, operator: LocalAccount, option: str
) -> None:
    # docker-compose.yml's registry service, word for word; no SIGNER in the environment.
    result = deployed.ok("set-node", "http://localhost:8080", option, key_of(operator))

    assert f"  operator {operator.address}" in result.stdout.splitlines()
    assert deployed.ok("get-node", operator.address).stdout == "http://localhost:8080\n"


def test_the_subcommands_signer_wins_over_the_groups_and_the_environment(
    deployed: Chain, accounts: list[LocalAccount]
) -> None:
    from_env, from_group, from_command = accounts[14], accounts[15], accounts[16]

    doc = json.loads(
        deployed.ok(
            "--json",
            "-s",
            key_of(from_group),
            "set-node",
            "http://localhost:8080",
            "-s",
            key_of(from_command),
            signer=from_env,
        ).stdout
    )

    assert doc["operator"] == from_command.address
    assert deployed.json("list-nodes") == [
        {"operator": from_command.address, "url": "http://localhost:8080"}
    ]


def test_the_groups_signer_and_the_environment_still_serve_as_the_default(
    deployed: Chain, accounts: list[LocalAccount]
) -> None:
    deployed.ok("-s", key_of(accounts[14]), "set-node", "http://one.example")
    deployed.ok("set-node", "http://two.example", signer=accounts[15])

    assert deployed.json("list-nodes") == [
        {"operator": accounts[14].address, "url": "http://one.example"},
        {"operator": accounts[15].address, "url": "http://two.example"},
    ]


def test_party_commands_take_the_signer_after_the_subcommand(
    node: Chain, operator: LocalAccount, party: LocalAccount
) -> None:
    key = key_of(party)
    node.ok("set-party", "-c", "DE", "MSP", "-r", "EMSP", "-o", operator.address, "-s", key)
    node.ok("set-party-modules", "--si", "cdrs", "--signer", key)
    assert node.party("-a", party.address)["modules"]["sender"] == ["cdrs"]

    node.ok("delete-party", "-s", key)
    assert node.party("-c", "DE", "MSP") is None


def test_sign_and_submit_take_their_keys_after_the_subcommand(
    deployed: Chain, operator: LocalAccount, accounts: list[LocalAccount]
) -> None:
    signed = deployed.ok("sign", "set-node", "http://signed.example", "-s", key_of(operator))
    spender = accounts[5]

    doc = deployed.json("submit", "-", "-x", key_of(spender), input=signed.stdout)

    assert (doc["signer"], doc["spender"]) == (operator.address, spender.address)
    assert deployed.receipt(doc["transactionHash"])["from"] == spender.address
    assert deployed.ok("get-node", operator.address).stdout == "http://signed.example\n"


def test_deploy_and_admin_commands_take_the_owners_key_after_the_subcommand(
    chain: Chain, accounts: list[LocalAccount], operator: LocalAccount
) -> None:
    owner = key_of(accounts[0])
    chain.ok("deploy", "--at-nonce", "2", "-s", owner)
    chain.ok("set-node", "http://localhost:8080", "-s", key_of(operator))

    chain.ok("admin", "delete-node", operator.address, "-s", owner)

    assert chain.json("list-nodes") == []


def test_a_bad_key_after_the_subcommand_is_a_usage_error(deployed: Chain) -> None:
    result = deployed.invoke("set-node", "http://localhost:8080", "-s", "0x1234")
    assert_fails(result, 2, "the signer key is not a 32-byte hex private key")


@pytest.mark.parametrize("path", SIGNING_COMMANDS, ids=" ".join)
def test_every_signing_command_takes_signer_and_spender(path: list[str]) -> None:
    command: click.Command = cli
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    flags = {flag for param in command.params for flag in param.opts}
    assert {"-s", "--signer", "-x", "--spender"} <= flags
