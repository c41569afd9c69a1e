"""The tutorial, command by command, as a user types it."""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from tests.registry_cli.conftest import Chain, key_of

# Spelled exactly as in the tutorial.
MSP_KEY = "0x49b2e2b48cfc25fda1d1cbdb2197b83902142c6da502dcf1871c628ea524f11b"
MSP_ADDRESS = "0xcb0236B37Ff19001633E38808bd124b60B1fE1ba"
NODE_OPERATOR_LOWER = "0x9bc1169ca09555bf2721a5c9ec6d69c8073bfeb4"


def test_tutorial_lists_a_node_and_a_party_and_finds_them_again(
    chain: Chain, accounts: list[LocalAccount]
) -> None:
    chain.ok("deploy", "--at-nonce", "2", signer=accounts[0])
    chain.ok("set-node", "http://localhost:8080", env={"SIGNER": key_of(accounts[14])})
    chain.ok(
        "set-party",
        "-c",
        "DE",
        "MSP",
        "-r",
        "EMSP",
        "-o",
        NODE_OPERATOR_LOWER,
        env={"SIGNER": MSP_KEY},
    )

    by_credentials = chain.ok("get-party", "-c", "DE", "MSP").stdout
    by_address = chain.ok("get-party", "-a", MSP_ADDRESS).stdout
    assert by_credentials == by_address
    lines = by_credentials.splitlines()
    assert lines[0].split() == ["DE", "MSP", MSP_ADDRESS]
    assert lines[1].split() == ["roles", "EMSP"]
    assert lines[-1].split() == ["node", accounts[14].address, "http://localhost:8080"]

    assert chain.ok("get-node", NODE_OPERATOR_LOWER).stdout == "http://localhost:8080\n"


def test_tutorial_keys_are_accounts_14_and_19_of_the_mnemonic(
    accounts: list[LocalAccount],
) -> None:
    """The literals above are the fixtures' accounts, so other tests can use either spelling."""
    assert accounts[14].address.lower() == NODE_OPERATOR_LOWER
    assert key_of(accounts[19]) == MSP_KEY
    assert accounts[19].address == MSP_ADDRESS
