"""RegistryContract against the compiled registry on an in-process chain."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import AsyncHTTPProvider, AsyncWeb3

import scn_node.registry.scn_contract as scn_contract_module
from scn_node.devnet.chain import free_port
from scn_node.registry import (
    InsufficientFunds,
    InvalidAuthorisation,
    NotARegistry,
    RegistryContract,
    RegistryError,
    RegistryRevert,
    RegistryUnavailable,
    SignedAction,
)
from scn_node.registry.listings import NodeListing
from scn_node.registry.networks import LOCAL_REGISTRY
from scn_node.scpi.party import ModuleId, PartyId, Role

DE_MSP = PartyId("DE", "MSP")
NODE_1 = "http://localhost:8080"


@pytest.fixture
async def node1(registry: RegistryContract, accounts: list[LocalAccount]) -> LocalAccount:
    await registry.set_node(accounts[14], NODE_1)
    return accounts[14]


async def test_deploy_lands_at_the_local_network_address(registry: RegistryContract) -> None:
    assert registry.address == LOCAL_REGISTRY
    await registry.verify()


async def test_node_listing_round_trip(
    registry: RegistryContract, accounts: list[LocalAccount]
) -> None:
    receipt = await registry.set_node(accounts[14], NODE_1)
    assert receipt.gas_used > 0 and receipt.tx_hash.startswith("0x")
    assert await registry.get_node(accounts[14].address) == NodeListing(
        accounts[14].address, NODE_1
    )
    assert await registry.get_node(accounts[15].address) is None
    assert await registry.list_nodes() == [NodeListing(accounts[14].address, NODE_1)]
    await registry.delete_node(accounts[14])
    assert await registry.list_nodes() == []
    assert await registry.node_count() == 0


async def test_party_listing_is_a_frozen_value(
    registry: RegistryContract, accounts: list[LocalAccount], node1: LocalAccount
) -> None:
    await registry.set_party(accounts[19], DE_MSP, [Role.EMSP], node1.address)
    party = await registry.get_party(DE_MSP)
    assert party is not None
    assert party.address == accounts[19].address
    assert party.party == DE_MSP
    assert party.roles == (Role.EMSP,)
    assert party.operator == node1.address
    assert party.node_url == NODE_1
    assert await registry.get_party_by_address(accounts[19].address) == party
    with pytest.raises(dataclasses.FrozenInstanceError):
        party.node_url = "http://elsewhere"  # type: ignore[misc]


async def test_unknown_party_is_none(
    registry: RegistryContract, accounts: list[LocalAccount]
) -> None:
    assert await registry.get_party(PartyId("NL", "XXX")) is None
    assert await registry.get_party_by_address(accounts[3].address) is None


async def test_modules_survive_a_party_update(
    registry: RegistryContract, accounts: list[LocalAccount], node1: LocalAccount
) -> None:
    await registry.set_party(accounts[19], DE_MSP, [Role.EMSP], node1.address)
    await registry.set_party_modules(
        accounts[19], [ModuleId.COMMANDS], [ModuleId.CDRS, ModuleId.COMMANDS]
    )
    await registry.set_party(accounts[19], DE_MSP, [Role.EMSP, Role.CPO], node1.address)
    party = await registry.get_party(DE_MSP)
    assert party is not None
    assert party.roles == (Role.CPO, Role.EMSP)
    assert party.modules_sender == (ModuleId.COMMANDS,)
    assert party.modules_receiver == (ModuleId.CDRS, ModuleId.COMMANDS)


async def test_listings_page_through_every_party(
    registry: RegistryContract,
    accounts: list[LocalAccount],
    node1: LocalAccount,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scn_contract_module, "PAGE_SIZE", 2)
    await registry.set_node(accounts[2], "http://localhost:8081")
    for i, pid in enumerate(["AAA", "BBB", "CCC", "DDD", "EEE"]):
        operator = node1 if i % 2 == 0 else accounts[2]
        await registry.set_party(accounts[3 + i], PartyId("DE", pid), [Role.CPO], operator.address)
    everyone = await registry.list_parties()
    assert sorted(p.party.party_id for p in everyone) == ["AAA", "BBB", "CCC", "DDD", "EEE"]
    on_node1 = await registry.list_parties_of(node1.address)
    assert sorted(p.party.party_id for p in on_node1) == ["AAA", "CCC", "EEE"]
    assert await registry.party_count() == 5


async def test_signed_action_submitted_by_a_spender(
    registry: RegistryContract,
    accounts: list[LocalAccount],
    node1: LocalAccount,
    w3: AsyncWeb3[Any],
) -> None:
    signer, spender = accounts[19], accounts[1]
    fields = {"countryCode": "DE", "partyId": "MSP", "roles": [1], "operator": node1.address}
    signed = await registry.sign(signer, "SetParty", fields)
    assert SignedAction.from_json(signed.to_json()) == signed
    signer_balance = await w3.eth.get_balance(signer.address)
    spender_balance = await w3.eth.get_balance(spender.address)

    await registry.submit(spender, signed)

    party = await registry.get_party(DE_MSP)
    assert party is not None and party.address == signer.address
    assert await w3.eth.get_balance(signer.address) == signer_balance
    assert await w3.eth.get_balance(spender.address) < spender_balance
    assert await registry.nonce_of(signer.address) == 1


async def test_a_signed_action_works_once(
    registry: RegistryContract, accounts: list[LocalAccount], node1: LocalAccount
) -> None:
    signed = await registry.sign(accounts[14], "SetNode", {"domain": "http://localhost:9090"})
    await registry.submit(accounts[1], signed)
    with pytest.raises(RegistryError, match=r"already used: .* nonce is now 1"):
        await registry.submit(accounts[1], signed)
    # Past the wrapper's check, the contract refuses it too.
    function, args = signed.function_call()
    with pytest.raises(RegistryRevert, match=r"Invalid signature\."):
        await registry._call(accounts[1], function, args, None)


async def test_tampered_signed_action_is_caught_offline(
    registry: RegistryContract, accounts: list[LocalAccount], node1: LocalAccount
) -> None:
    signed = await registry.sign(accounts[14], "SetNode", {"domain": "http://localhost:9090"})
    doc = json.loads(signed.to_json())
    doc["message"]["domain"] = "http://evil.example"
    tampered = SignedAction.from_json(json.dumps(doc))
    with pytest.raises(InvalidAuthorisation, match="not signed by its subject"):
        tampered.verify()
    with pytest.raises(InvalidAuthorisation, match="unknown action"):
        SignedAction.from_json(json.dumps({**doc, "action": "Steal"}))


async def test_signed_action_for_another_registry_is_refused(
    registry: RegistryContract, accounts: list[LocalAccount], w3: AsyncWeb3[Any]
) -> None:
    other, _ = await RegistryContract.deploy(w3, accounts[0])
    signed = await other.sign(accounts[14], "SetNode", {"domain": NODE_1})
    with pytest.raises(RegistryError, match="signed for the registry at"):
        await registry.submit(accounts[1], signed)


async def test_revert_reason_becomes_registry_revert(
    registry: RegistryContract, accounts: list[LocalAccount], node1: LocalAccount
) -> None:
    await registry.set_party(accounts[19], DE_MSP, [Role.EMSP], node1.address)
    with pytest.raises(RegistryRevert) as caught:
        await registry.set_party(accounts[18], DE_MSP, [Role.CPO], node1.address)
    assert caught.value.reason == (
        "Party with country_code/party_id already registered under different address."
    )


async def test_unfunded_account_is_refused_before_sending(
    registry: RegistryContract, node1: LocalAccount, w3: AsyncWeb3[Any]
) -> None:
    pauper = Account.create()
    block = await w3.eth.block_number
    with pytest.raises(InsufficientFunds, match="fund the account"):
        await registry.set_party(pauper, DE_MSP, [Role.EMSP], node1.address)
    assert await w3.eth.block_number == block


async def test_address_without_the_registry_is_not_a_registry(
    w3: AsyncWeb3[Any], accounts: list[LocalAccount]
) -> None:
    with pytest.raises(NotARegistry, match="no contract at"):
        await RegistryContract(w3, accounts[5].address).verify()


async def test_unreachable_rpc_is_registry_unavailable() -> None:
    w3 = AsyncWeb3(AsyncHTTPProvider(f"http://127.0.0.1:{free_port()}"))
    registry = RegistryContract(w3, LOCAL_REGISTRY)
    try:
        with pytest.raises(RegistryUnavailable, match="does not answer"):
            await registry.verify()
    finally:
        await registry.close()


async def test_concurrent_sends_from_one_account_get_distinct_nonces(
    registry: RegistryContract, accounts: list[LocalAccount], w3: AsyncWeb3[Any]
) -> None:
    owner = accounts[0]
    operators = accounts[5:10]
    for i, account in enumerate(operators):
        await registry.set_node(account, f"http://node{i}.example")
    receipts = await asyncio.gather(
        *(registry.admin_delete_node(owner, account.address) for account in operators)
    )
    nonces = [(await w3.eth.get_transaction(r.tx_hash))["nonce"] for r in receipts]  # type: ignore[arg-type]
    assert len(set(nonces)) == len(operators)
    assert await registry.list_nodes() == []


async def test_gas_is_estimated_once_with_a_margin(
    registry: RegistryContract, accounts: list[LocalAccount], w3: AsyncWeb3[Any]
) -> None:
    receipt = await registry.set_node(accounts[14], NODE_1)
    sent = await w3.eth.get_transaction(receipt.tx_hash)  # type: ignore[arg-type]
    assert receipt.gas_used < sent["gas"] <= receipt.gas_used * 1.5


async def test_deploy_at_a_used_nonce_is_refused(
    registry: RegistryContract, accounts: list[LocalAccount], w3: AsyncWeb3[Any]
) -> None:
    with pytest.raises(RegistryError, match="already used nonce 2"):
        await RegistryContract.deploy(w3, accounts[0], at_nonce=2)


async def test_ownership_moves_in_two_steps(
    registry: RegistryContract, accounts: list[LocalAccount]
) -> None:
    await registry.transfer_ownership(accounts[0], accounts[1].address)
    assert await registry.owner() == accounts[0].address
    await registry.accept_ownership(accounts[1])
    assert await registry.owner() == accounts[1].address
    with pytest.raises(RegistryRevert, match="caller is not the owner"):
        await registry.admin_delete_party(accounts[0], DE_MSP)
