"""set-service, get-service, delete-service, list-services, agree, revoke, list-agreements, their
signed variants, and the --permissions option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from scn_node.registry.networks import LOCAL_PERMISSIONS, LOCAL_REGISTRY
from tests.registry_cli.conftest import MINED, SENT, Chain, Stages, assert_fails
from tests.registry_cli.test_validation import FAILURE, USAGE, nothing_sent

URL = "https://pay.example"
NO_SERVICE = "No service listed for this provider.\n"


@pytest.fixture
def provider(accounts: list[LocalAccount]) -> LocalAccount:
    """Account 2: CH SRV, the service provider."""
    return accounts[2]


@pytest.fixture
def parties(listed: Chain, stages: Stages, operator: LocalAccount, provider: LocalAccount) -> Chain:
    """DE MSP (the `party` fixture, the user) and CH SRV, both on the operator's node."""
    stages.enter(
        "parties",
        lambda: listed.ok(
            "set-party", "-c", "CH", "SRV", "-r", "OTHER", "-o", operator.address, signer=provider
        ),
    )
    return listed


@pytest.fixture
def service(parties: Chain, stages: Stages, provider: LocalAccount) -> Chain:
    """CH SRV offers "Payments" with FORWARD_ALL."""
    stages.enter(
        "service",
        lambda: parties.ok(
            "set-service", "--name", "Payments", "--url", URL, "-p", "FORWARD_ALL", signer=provider
        ),
    )
    return parties


@pytest.fixture
def agreed(service: Chain, stages: Stages, provider: LocalAccount, party: LocalAccount) -> Chain:
    """DE MSP agreed to CH SRV's service."""
    stages.enter("agreed", lambda: service.ok("agree", provider.address, signer=party))
    return service


def service_json(
    provider: LocalAccount, permissions: list[str], name: str = "Payments"
) -> dict[str, object]:
    return {
        "provider": provider.address,
        "countryCode": "CH",
        "partyId": "SRV",
        "name": name,
        "url": URL,
        "permissions": permissions,
    }


def test_set_service_then_get_and_list_it(parties: Chain, provider: LocalAccount) -> None:
    result = parties.ok(
        "set-service",
        "--name",
        "Payments",
        "--url",
        URL,
        "-p",
        "FORWARD_MODULE_CDRS_SENDER",
        "forward_all_receiver",
        signer=provider,
    )

    sent = SENT.search(result.stderr)
    assert sent is not None and sent["label"] == "set-service"
    mined = MINED.search(result.stdout)
    assert mined is not None and mined["label"] == "set-service"
    assert parties.receipt(sent["hash"])["to"] == LOCAL_PERMISSIONS
    lines = result.stdout.splitlines()
    assert f"  provider {provider.address}" in lines
    assert "  permissions FORWARD_ALL_RECEIVER, FORWARD_MODULE_CDRS_SENDER" in lines

    assert parties.ok("get-service", provider.address.lower()).stdout == (
        f"CH SRV  {provider.address}\n"
        "  name         Payments\n"
        f"  url          {URL}\n"
        "  permissions  FORWARD_ALL_RECEIVER, FORWARD_MODULE_CDRS_SENDER\n"
    )
    expected = service_json(provider, ["FORWARD_ALL_RECEIVER", "FORWARD_MODULE_CDRS_SENDER"])
    assert parties.json("get-service", provider.address) == expected
    assert parties.json("list-services") == [expected]
    assert parties.json("info")["services"] == 1


@pytest.mark.parametrize(
    "permissions",
    [
        pytest.param(["-p", "FORWARD_ALL", "FORWARD_MODULE_CDRS_SENDER"], id="space-separated"),
        pytest.param(["-p", "forward_all,Forward_Module_Cdrs_Sender"], id="comma-any-case"),
        pytest.param(["-p", "0", "-p", "7"], id="ids"),
        pytest.param(["--permission", "7", "FORWARD_ALL", "-p", "0"], id="mixed-repeats"),
    ],
)
def test_permissions_are_given_by_name_or_id(
    parties: Chain, provider: LocalAccount, permissions: list[str]
) -> None:
    parties.ok("set-service", "--name", "Payments", "--url", URL, *permissions, signer=provider)
    listing = parties.json("get-service", provider.address)
    assert listing["permissions"] == ["FORWARD_ALL", "FORWARD_MODULE_CDRS_SENDER"]


def test_get_service_of_a_provider_without_one(parties: Chain, provider: LocalAccount) -> None:
    assert parties.ok("get-service", provider.address).stdout == NO_SERVICE
    assert parties.json("get-service", provider.address) is None
    assert parties.ok("list-services").stdout == "No services listed.\n"


def test_delete_service(service: Chain, provider: LocalAccount) -> None:
    result = service.ok("delete-service", signer=provider)
    assert result.stdout.startswith("delete-service: mined in block ")
    assert service.ok("get-service", provider.address).stdout == NO_SERVICE
    assert service.json("list-services") == []


def test_agree_list_and_revoke(service: Chain, provider: LocalAccount, party: LocalAccount) -> None:
    result = service.ok("agree", provider.address, signer=party)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("agree: mined in block ")
    assert f"  user {party.address}" in lines and f"  provider {provider.address}" in lines

    expected = [service_json(provider, ["FORWARD_ALL"])]
    assert service.json("list-agreements", "-c", "de", "msp") == expected
    assert service.json("list-agreements", "-a", party.address) == expected
    assert service.ok("list-agreements", "-c", "DE", "MSP").stdout.startswith(
        f"CH SRV  {provider.address}\n"
    )

    result = service.ok("revoke", provider.address, signer=party)
    assert result.stdout.startswith("revoke: mined in block ")
    assert service.json("list-agreements", "-c", "DE", "MSP") == []
    assert service.ok("list-agreements", "-a", party.address).stdout == "No agreements.\n"


def test_revoke_then_agree_again_lists_the_service_once(
    agreed: Chain, provider: LocalAccount, party: LocalAccount
) -> None:
    agreed.ok("revoke", provider.address, signer=party)
    agreed.ok("agree", provider.address, signer=party)
    assert len(agreed.json("list-agreements", "-c", "DE", "MSP")) == 1


@pytest.mark.parametrize(
    ("args", "who", "message"),
    [
        pytest.param(["agree", "{provider}"], "party", "Agreement already made", id="agree-twice"),
        pytest.param(
            ["revoke", "{party}"], "provider", "No agreement made between user and", id="revoke"
        ),
        pytest.param(["agree", "{provider}"], "provider", "Cannot agree to one's own", id="own"),
        pytest.param(["agree", "{party}"], "provider", "Provider has no registered", id="none"),
        pytest.param(
            ["set-service", "--name", "X", "--url", URL, "-p", "0"],
            "stranger",
            "Service provider has no party listing in Registry.",
            id="unlisted-provider",
        ),
    ],
)
def test_refusals_are_reported_with_the_contract_reason_and_no_transaction(
    agreed: Chain,
    provider: LocalAccount,
    party: LocalAccount,
    accounts: list[LocalAccount],
    args: list[str],
    who: str,
    message: str,
) -> None:
    signer = {"party": party, "provider": provider, "stranger": accounts[7]}[who]
    values = {"provider": provider.address, "party": party.address}
    with nothing_sent(agreed, signer):
        result = agreed.invoke(*[a.format(**values) for a in args], signer=signer)
    assert_fails(result, FAILURE, message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["set-service", "--name", "P", "--url", URL, "-p", "FORWARD_EVERYTHING"],
            "unknown permission 'FORWARD_EVERYTHING'; choose from FORWARD_ALL, ",
            id="unknown-name",
        ),
        pytest.param(
            ["set-service", "--name", "P", "--url", URL, "-p", "17"],
            "or their ids 0 to 16",
            id="id-17",
        ),
        pytest.param(
            ["set-service", "--name", "P", "--url", URL], "Missing option '-p'", id="none"
        ),
        pytest.param(
            ["set-service", "--name", "P", "--url", "pay.example", "-p", "0"],
            "'pay.example' is not an http(s) URL",
            id="url",
        ),
        pytest.param(
            ["set-service", "--name", " ", "--url", URL, "-p", "0"],
            "a service name is 1 to 64 bytes",
            id="empty-name",
        ),
        pytest.param(
            ["set-service", "--name", "n" * 65, "--url", URL, "-p", "0"],
            "a service name is 1 to 64 bytes",
            id="long-name",
        ),
        pytest.param(["agree", "0x1234"], "is not an Ethereum address", id="agree-address"),
        pytest.param(["revoke", "CH SRV"], "is not an Ethereum address", id="revoke-address"),
        pytest.param(["get-service", "0xabc"], "is not an Ethereum address", id="get-address"),
        pytest.param(
            ["list-agreements"], "give exactly one of -c/--credentials CC PID or -a", id="neither"
        ),
        pytest.param(
            ["list-agreements", "-c", "DE", "MSP", "-a", LOCAL_REGISTRY],
            "give exactly one of",
            id="both",
        ),
        pytest.param(
            ["list-agreements", "-c", "DEU", "MSP"], "must be two letters", id="credentials"
        ),
        pytest.param(
            ["sign", "set-service", "--name", "P", "--url", URL, "-p", "nope"],
            "unknown permission 'nope'",
            id="sign-permission",
        ),
        pytest.param(["sign", "agree", "nobody"], "is not an Ethereum address", id="sign-agree"),
    ],
)
def test_bad_input_is_a_usage_error_before_any_transaction(
    parties: Chain, provider: LocalAccount, args: list[str], message: str
) -> None:
    with nothing_sent(parties, provider):
        result = parties.invoke(*args, signer=provider)
    assert_fails(result, USAGE, message)


@pytest.mark.parametrize(
    ("action", "state", "signer", "args"),
    [
        pytest.param(
            "SetService",
            "parties",
            "provider",
            ["set-service", "--name", "Signed", "--url", URL, "-p", "FORWARD_MODULE_CDRS_SENDER"],
            id="set-service",
        ),
        pytest.param("DeleteService", "service", "provider", ["delete-service"], id="delete"),
        pytest.param("CreateAgreement", "service", "party", ["agree", "{provider}"], id="agree"),
        pytest.param("RevokeAgreement", "agreed", "party", ["revoke", "{provider}"], id="revoke"),
    ],
)
def test_signed_actions_are_applied_for_the_signer_with_the_spender_paying(
    request: pytest.FixtureRequest,
    provider: LocalAccount,
    accounts: list[LocalAccount],
    tmp_path: Path,
    action: str,
    state: str,
    signer: str,
    args: list[str],
) -> None:
    on: Chain = request.getfixturevalue(state)
    who: LocalAccount = request.getfixturevalue(signer)
    spender = accounts[5]
    signed = tmp_path / "signed.json"
    before = on.json("list-services"), on.json("list-agreements", "-c", "DE", "MSP")
    balance, block = on.balance(who), on.block_number()

    result = on.ok(
        "sign", "-w", str(signed), *[a.format(provider=provider.address) for a in args], signer=who
    )
    assert result.stderr == f"signed {action} for {who.address}, written to {signed}\n"
    assert on.block_number() == block, "signing is offline"
    doc = json.loads(signed.read_text())
    assert (doc["action"], doc["contract"]) == (action, LOCAL_PERMISSIONS)

    result = on.ok("submit", str(signed), spender=spender)

    sent = SENT.search(result.stderr)
    assert sent is not None and sent["label"] == f"submit {action}"
    receipt = on.receipt(sent["hash"])
    assert (receipt["from"], receipt["to"]) == (spender.address, LOCAL_PERMISSIONS)
    assert f"  signer {who.address}" in result.stdout.splitlines()
    assert on.balance(who) == balance
    after = on.json("list-services"), on.json("list-agreements", "-c", "DE", "MSP")
    assert after != before
    if action == "SetService":
        assert after[0] == [service_json(provider, ["FORWARD_MODULE_CDRS_SENDER"], "Signed")]
    elif action == "DeleteService":
        assert after[0] == []
    elif action == "CreateAgreement":
        assert after[1] == [service_json(provider, ["FORWARD_ALL"])]
    else:
        assert after[1] == []

    again = on.invoke("submit", str(signed), spender=spender)
    assert_fails(again, FAILURE, "was already used")


def test_a_signed_agreement_for_another_permissions_contract_is_refused(
    service: Chain, provider: LocalAccount, party: LocalAccount, accounts: list[LocalAccount]
) -> None:
    other = service.json("deploy", "--permissions-only", signer=accounts[1])["permissions"]
    signed = service.ok(
        "--permissions", other, "sign", "agree", provider.address, signer=party
    ).stdout
    with nothing_sent(service, accounts[5]):
        result = service.invoke("submit", "-", spender=accounts[5], input=signed)
    assert_fails(result, FAILURE, f"signed for the permissions contract at {other}, not")


def test_deploy_permissions_only_serves_an_existing_registry(
    service: Chain, accounts: list[LocalAccount], provider: LocalAccount
) -> None:
    result = service.ok("deploy", "--permissions-only", signer=accounts[1])
    assert SENT.search(result.stderr)["label"] == "deploy permissions"  # type: ignore[index]
    lines = result.stdout.splitlines()
    assert f"  registry {LOCAL_REGISTRY}" in lines
    other = next(line.split()[1] for line in lines if line.startswith("  permissions "))
    # A new contract: the same registry, none of the old services.
    assert service.json("--permissions", other, "list-services") == []
    assert service.json("list-services") != []
    info = service.json("--permissions", other, "info")
    assert (info["permissions"], info["services"]) == (other, 0)


@pytest.mark.parametrize("how", ["option", "env"])
def test_the_permissions_address_comes_from_the_option_or_env(
    service: Chain, accounts: list[LocalAccount], how: str
) -> None:
    other = service.json("deploy", "--permissions-only", signer=accounts[1])["permissions"]
    args = ["--permissions", other.lower()] if how == "option" else []
    env = {"SCN_PERMISSIONS_ADDRESS": other} if how == "env" else {}
    assert service.json(*args, "list-services", env=env) == []
    assert service.json(*args, "info", env=env)["permissions"] == other


def test_another_registry_has_no_permissions_contract_unless_given_one(
    service: Chain, accounts: list[LocalAccount]
) -> None:
    registry = service.json("deploy", signer=accounts[1])
    result = service.invoke("--registry", registry["registry"], "list-services")
    assert_fails(result, USAGE, "no permissions contract on this network: pass --permissions")
    # The local one reads the local registry, so it is refused for the other.
    result = service.invoke(
        "--registry", registry["registry"], "--permissions", LOCAL_PERMISSIONS, "list-services"
    )
    assert_fails(
        result,
        FAILURE,
        f"the permissions contract at {LOCAL_PERMISSIONS} reads the registry at {LOCAL_REGISTRY}, "
        f"not {registry['registry']}",
    )
    assert (
        service.json(
            "--registry",
            registry["registry"],
            "--permissions",
            registry["permissions"],
            "list-services",
        )
        == []
    )


def test_a_permissions_address_without_the_contract_is_refused(
    service: Chain, accounts: list[LocalAccount]
) -> None:
    for address, message in [
        (accounts[3].address, f"no contract at {accounts[3].address}"),
        (LOCAL_REGISTRY, "is not an SCN Permissions"),
    ]:
        result = service.invoke("--permissions", address, "list-services")
        assert_fails(result, FAILURE, message, "(RPC http://localhost:8544)")


def test_an_unfunded_user_is_told_to_fund_the_account(
    service: Chain, provider: LocalAccount
) -> None:
    empty = Account.create()
    with nothing_sent(service, empty.address):
        result = service.invoke("agree", provider.address, signer=empty)
    assert_fails(result, FAILURE, f"{empty.address} holds no ETH: fund the account first")
