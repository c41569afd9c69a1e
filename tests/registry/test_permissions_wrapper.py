"""PermissionsContract against the compiled contracts on an in-process chain."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import AsyncWeb3

import scn_node.registry.scn_contract as scn_contract_module
from scn_node.hub.model import Service
from scn_node.registry.contract import RegistryContract
from scn_node.registry.errors import NotARegistry, RegistryError, RegistryRevert
from scn_node.registry.listings import permission_mask, permissions_of
from scn_node.registry.networks import LOCAL_PERMISSIONS, LOCAL_REGISTRY
from scn_node.registry.permissions import PermissionsContract
from scn_node.registry.signing import InvalidAuthorisation, SignedAction
from scn_node.scpi.party import PartyId, Role
from scn_node.scpi.services import ServicePermission

NODE_1 = "http://localhost:8080"
NODE_1_OPERATOR = "0x9bC1169Ca09555bf2721A5C9eC6D69c8073bfeB4"  # account 14
DE_MSP = PartyId("DE", "MSP")
CH_SRV = PartyId("CH", "SRV")
URL = "https://pay.example"
ALL = [ServicePermission.FORWARD_ALL]
CDRS = [ServicePermission.FORWARD_MODULE_CDRS_SENDER, ServicePermission.FORWARD_ALL_RECEIVER]


@pytest.fixture
async def permissions(
    registry: RegistryContract, accounts: list[LocalAccount], w3: AsyncWeb3[Any]
) -> PermissionsContract:
    """Deployed by account 0 right after the registry: the local network's address."""
    contract, _ = await PermissionsContract.deploy(w3, accounts[0], registry.address, at_nonce=3)
    return contract


@pytest.fixture
async def parties(registry: RegistryContract, accounts: list[LocalAccount]) -> None:
    """Node 1 (account 14), the provider CH SRV (account 2) and the user DE MSP (account 19)."""
    await registry.set_node(accounts[14], NODE_1)
    await registry.set_party(accounts[2], CH_SRV, [Role.OTHER], accounts[14].address)
    await registry.set_party(accounts[19], DE_MSP, [Role.EMSP], accounts[14].address)


@pytest.fixture
def provider(accounts: list[LocalAccount]) -> LocalAccount:
    return accounts[2]


@pytest.fixture
def user(accounts: list[LocalAccount]) -> LocalAccount:
    return accounts[19]


@pytest.fixture
async def service(
    permissions: PermissionsContract, parties: None, provider: LocalAccount
) -> LocalAccount:
    await permissions.set_service(provider, "Payments", URL, ALL)
    return provider


def expected(provider: LocalAccount, permissions: list[ServicePermission]) -> Service:
    return Service(provider.address, CH_SRV, tuple(permissions), name="Payments", url=URL)


async def test_deploy_lands_at_the_local_address_and_reads_the_registry(
    permissions: PermissionsContract, registry: RegistryContract
) -> None:
    assert registry.address == LOCAL_REGISTRY
    assert permissions.address == LOCAL_PERMISSIONS
    assert await permissions.registry_address() == LOCAL_REGISTRY
    await permissions.verify()


async def test_the_registry_is_not_a_permissions_contract_and_back(
    permissions: PermissionsContract, registry: RegistryContract, w3: AsyncWeb3[Any]
) -> None:
    with pytest.raises(NotARegistry, match="is not an SCN Permissions"):
        await PermissionsContract(w3, registry.address).verify()
    with pytest.raises(NotARegistry, match="is not an SCN Registry"):
        await RegistryContract(w3, permissions.address).verify()


async def test_service_round_trip(
    permissions: PermissionsContract, parties: None, provider: LocalAccount
) -> None:
    assert await permissions.get_service(provider.address) is None
    receipt = await permissions.set_service(provider, "Payments", URL, [*CDRS, CDRS[0]])
    assert receipt.gas_used > 0
    listing = await permissions.get_service(provider.address.lower())
    # Permissions come back by id, duplicates gone.
    assert listing == expected(provider, sorted(CDRS))
    assert await permissions.list_services() == [listing]
    assert await permissions.service_count() == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        listing.name = "other"  # type: ignore[misc]
    await permissions.delete_service(provider)
    assert await permissions.get_service(provider.address) is None
    assert await permissions.list_services() == []


def test_permission_masks_round_trip() -> None:
    every = list(ServicePermission)
    assert permission_mask(every) == (1 << 17) - 1
    assert permissions_of(permission_mask(every)) == tuple(every)
    assert permission_mask([ServicePermission.FORWARD_MODULE_CDRS_SENDER] * 2) == 1 << 7
    # Bits this node does not know are left out, as OCN's node dropped unknown ids.
    assert permissions_of(1 << 20 | 1) == (ServicePermission.FORWARD_ALL,)


async def test_agree_then_revoke_is_seen_at_once_by_every_read(
    permissions: PermissionsContract, service: LocalAccount, user: LocalAccount
) -> None:
    await permissions.agree(user, service.address)
    assert await permissions.agreements_of(user.address) == (service.address,)
    assert await permissions.has_agreement(DE_MSP, service.address)
    assert await permissions.services_of(DE_MSP) == (expected(service, ALL),)

    await permissions.revoke(user, service.address)
    assert await permissions.agreements_of(user.address) == ()
    assert not await permissions.has_agreement(DE_MSP, service.address)
    assert await permissions.services_of(DE_MSP) == ()

    await permissions.agree(user, service.address)
    assert await permissions.agreements_of(user.address) == (service.address,)


async def test_unknown_parties_have_no_services(
    permissions: PermissionsContract, service: LocalAccount
) -> None:
    assert await permissions.services_of(PartyId("XX", "XXX")) == ()
    assert not await permissions.has_agreement(PartyId("XX", "XXX"), service.address)


async def test_a_provider_that_left_the_registry_is_not_shown(
    permissions: PermissionsContract,
    registry: RegistryContract,
    service: LocalAccount,
    user: LocalAccount,
) -> None:
    await permissions.agree(user, service.address)
    await registry.delete_party(service)
    assert await permissions.get_service(service.address) is None
    assert await permissions.list_services() == []
    assert await permissions.service_count() == 1  # dormant, until the provider deletes it
    assert await permissions.services_of(DE_MSP) == ()


async def test_services_page_through(
    permissions: PermissionsContract,
    registry: RegistryContract,
    accounts: list[LocalAccount],
    parties: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scn_contract_module, "PAGE_SIZE", 2)
    for i, account in enumerate(accounts[3:8]):
        await registry.set_party(account, PartyId("NL", f"S{i}0"), [Role.OTHER], NODE_1_OPERATOR)
        await permissions.set_service(account, f"S{i}", URL, ALL)
    names = sorted(s.name for s in await permissions.list_services())
    assert names == ["S0", "S1", "S2", "S3", "S4"]


async def test_refusals_carry_the_contract_reason(
    permissions: PermissionsContract, service: LocalAccount, user: LocalAccount
) -> None:
    with pytest.raises(RegistryRevert) as caught:
        await permissions.set_service(service, "Payments", URL, [])
    assert caught.value.reason == "No permissions given."
    with pytest.raises(RegistryRevert, match="No agreement made between user and provider"):
        await permissions.revoke(user, service.address)
    await permissions.agree(user, service.address)
    with pytest.raises(RegistryRevert, match="Agreement already made"):
        await permissions.agree(user, service.address)


@pytest.mark.parametrize("action", ["SetService", "CreateAgreement", "RevokeAgreement"])
async def test_signed_actions_submitted_by_a_spender(
    permissions: PermissionsContract,
    service: LocalAccount,
    user: LocalAccount,
    accounts: list[LocalAccount],
    w3: AsyncWeb3[Any],
    action: str,
) -> None:
    if action == "RevokeAgreement":
        await permissions.agree(user, service.address)
    signer = service if action == "SetService" else user
    fields: dict[str, Any] = (
        {"name": "Signed", "url": URL, "permissions": permission_mask(CDRS)}
        if action == "SetService"
        else {"provider": service.address}
    )
    signed = await permissions.sign(signer, action, fields)
    assert SignedAction.from_json(signed.to_json()) == signed
    signed.verify()
    balance = await w3.eth.get_balance(signer.address)

    await permissions.submit(accounts[1], signed)

    assert await w3.eth.get_balance(signer.address) == balance
    assert await permissions.nonce_of(signer.address) == 1
    if action == "SetService":
        assert await permissions.get_service(service.address) == Service(
            service.address, CH_SRV, tuple(sorted(CDRS)), name="Signed", url=URL
        )
    else:
        agreed = action == "CreateAgreement"
        assert await permissions.has_agreement(DE_MSP, service.address) is agreed
    with pytest.raises(RegistryError, match="already used"):
        await permissions.submit(accounts[1], signed)


async def test_signed_delete_service(
    permissions: PermissionsContract, service: LocalAccount, accounts: list[LocalAccount]
) -> None:
    signed = await permissions.sign(service, "DeleteService", {})
    await permissions.submit(accounts[1], signed)
    assert await permissions.get_service(service.address) is None


async def test_actions_are_signed_for_their_own_contract(
    permissions: PermissionsContract,
    registry: RegistryContract,
    service: LocalAccount,
    user: LocalAccount,
    accounts: list[LocalAccount],
) -> None:
    with pytest.raises(RegistryError, match="SetNode is not an action of the permissions"):
        await permissions.sign(user, "SetNode", {"domain": NODE_1})
    with pytest.raises(RegistryError, match="CreateAgreement is not an action of the registry"):
        await registry.sign(user, "CreateAgreement", {"provider": service.address})
    signed = await permissions.sign(user, "CreateAgreement", {"provider": service.address})
    with pytest.raises(RegistryError, match="signed for the registry at"):
        await registry.submit(accounts[1], signed)


async def test_a_tampered_agreement_is_caught_offline(
    permissions: PermissionsContract, service: LocalAccount, user: LocalAccount
) -> None:
    signed = await permissions.sign(user, "CreateAgreement", {"provider": service.address})
    doc = json.loads(signed.to_json())
    doc["action"] = "RevokeAgreement"
    with pytest.raises(InvalidAuthorisation, match="not signed by its subject"):
        SignedAction.from_json(json.dumps(doc)).verify()


async def test_changes_between_counts_this_contracts_events(
    permissions: PermissionsContract, service: LocalAccount, user: LocalAccount
) -> None:
    first = await permissions.block_number() + 1
    await permissions.agree(user, service.address)
    await permissions.revoke(user, service.address)
    assert await permissions.changes_between(first, await permissions.block_number()) == 2
