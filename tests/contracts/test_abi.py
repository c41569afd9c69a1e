"""The Registry artifact keeps the OCN registry's ABI for every OCN function."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract

EIP170_LIMIT = 24_576

# Selectors of the OCN registry (energywebfoundation/ocn-registry 1.2.1, volta ABI).
OCN_SELECTORS = {
    "adminDeleteOperator(address)": "0x2d8fe452",
    "adminDeleteParty(bytes2,bytes3)": "0xd63a84d4",
    "setNode(string)": "0x85cb8602",
    "deleteNode()": "0xacaef0e0",
    "getNode(address)": "0x9d209048",
    "getNodeOperators()": "0x66acaa33",
    "setParty(bytes2,bytes3,uint8[],address)": "0xa7bcc11d",
    "setPartyModules(uint8[],uint8[])": "0xb2dbadcb",
    "deleteParty()": "0xbdb81078",
    "getOperatorByAddress(address)": "0x88cf72a0",
    "getOperatorByOcpi(bytes2,bytes3)": "0x7a091aa5",
    "getPartyDetailsByAddress(address)": "0xdf516128",
    "getPartyDetailsByOcpi(bytes2,bytes3)": "0xa5b5ffbb",
    "getParties()": "0xa8311aa8",
    "owner()": "0x8da5cb5b",
    "isOwner()": "0x8f32d59b",
    "transferOwnership(address)": "0xf2fde38b",
}

# (output types, output names) as OCN tools decode them.
OCN_OUTPUTS = {
    "getPartyDetailsByAddress": (
        ["bytes2", "bytes3", "uint8[]", "uint8[]", "uint8[]", "address", "string"],
        [
            "countryCode",
            "partyId",
            "modulesSender",
            "modulesReceiver",
            "roles",
            "operatorAddress",
            "operatorDomain",
        ],
    ),
    "getPartyDetailsByOcpi": (
        ["address", "uint8[]", "uint8[]", "uint8[]", "address", "string"],
        [
            "partyAddress",
            "roles",
            "modulesSender",
            "modulesReceiver",
            "operatorAddress",
            "operatorDomain",
        ],
    ),
    "getOperatorByAddress": (["address", "string"], ["operator", "domain"]),
    "getOperatorByOcpi": (["address", "string"], ["operator", "domain"]),
    "getNode": (["string"], None),
    "getNodeOperators": (["address[]"], None),
    "getParties": (["address[]"], None),
    "owner": (["address"], None),
    "isOwner": (["bool"], None),
}

# The OCN "Raw" functions (replayable signatures) that the SCN registry replaces.
OCN_RAW_SELECTORS = {
    "setNodeRaw": "0x99bd6901",
    "deleteNodeRaw": "0x6c265bbc",
    "setPartyRaw": "0x492dbcc5",
    "setPartyModulesRaw": "0xb29d6515",
    "deletePartyRaw": "0x66e706fb",
    "renounceOwnership": "0x715018a6",
}

SIGNED_FUNCTIONS = {
    "setNodeSigned(address,string,uint256,bytes)",
    "deleteNodeSigned(address,uint256,bytes)",
    "setPartySigned(address,bytes2,bytes3,uint8[],address,uint256,bytes)",
    "setPartyModulesSigned(address,uint8[],uint8[],uint256,bytes)",
    "deletePartySigned(address,uint256,bytes)",
}

EVENT_SIGNATURES = {
    "NodeCreated": ("NodeCreated(address,string)", [True, False]),
    "NodeUpdated": ("NodeUpdated(address,string,string)", [True, False, False]),
    "NodeDeleted": ("NodeDeleted(address,string,bool)", [True, False, False]),
    "PartyCreated": ("PartyCreated(address,bytes5,address,uint8[])", [True, True, True, False]),
    "PartyUpdated": ("PartyUpdated(address,bytes5,address,uint8[])", [True, True, True, False]),
    "PartyModulesUpdated": (
        "PartyModulesUpdated(address,bytes5,uint8[],uint8[])",
        [True, True, False, False],
    ),
    "PartyDeleted": ("PartyDeleted(address,bytes5,address,bool)", [True, True, True, False]),
    "OwnershipTransferStarted": ("OwnershipTransferStarted(address,address)", [True, True]),
    "OwnershipTransferred": ("OwnershipTransferred(address,address)", [True, True]),
}


def canonical_type(param: dict[str, Any]) -> str:
    kind = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(component) for component in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def signature(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(canonical_type(p) for p in entry['inputs'])})"


def selector(text: str) -> str:
    return "0x" + keccak(text=text)[:4].hex()


def functions_by_signature(abi: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {signature(e): e for e in abi if e["type"] == "function"}


def test_selector_helper_reproduces_a_known_selector() -> None:
    assert selector("transfer(address,uint256)") == "0xa9059cbb"


@pytest.mark.parametrize(("ocn_signature", "ocn_selector"), sorted(OCN_SELECTORS.items()))
def test_ocn_function_keeps_its_selector(
    artifact: dict[str, Any], ocn_signature: str, ocn_selector: str
) -> None:
    functions = functions_by_signature(artifact["abi"])
    assert ocn_signature in functions, f"{ocn_signature} missing from the ABI"
    assert selector(signature(functions[ocn_signature])) == ocn_selector


def test_every_ocn_function_name_has_a_single_overload(artifact: dict[str, Any]) -> None:
    names = [e["name"] for e in artifact["abi"] if e["type"] == "function"]
    for ocn_signature in OCN_SELECTORS:
        assert names.count(ocn_signature.split("(")[0]) == 1


@pytest.mark.parametrize("name", sorted(OCN_OUTPUTS))
def test_ocn_getter_keeps_its_output_layout(artifact: dict[str, Any], name: str) -> None:
    (entry,) = [e for e in artifact["abi"] if e["type"] == "function" and e["name"] == name]
    types, names = OCN_OUTPUTS[name]
    assert [o["type"] for o in entry["outputs"]] == types
    if names is not None:
        assert [o["name"] for o in entry["outputs"]] == names
    assert entry["stateMutability"] == "view"


@pytest.mark.parametrize("ocn_signature", sorted(set(OCN_SELECTORS) - {"owner()", "isOwner()"}))
def test_ocn_functions_are_not_payable(artifact: dict[str, Any], ocn_signature: str) -> None:
    entry = functions_by_signature(artifact["abi"])[ocn_signature]
    assert entry["stateMutability"] in {"nonpayable", "view"}
    if not ocn_signature.startswith("get"):
        assert entry["stateMutability"] == "nonpayable"
        assert entry["outputs"] == []


def test_replayable_raw_functions_are_gone(artifact: dict[str, Any]) -> None:
    names = {e.get("name") for e in artifact["abi"]}
    present = {selector(s) for s in functions_by_signature(artifact["abi"])}
    for name, raw_selector in OCN_RAW_SELECTORS.items():
        assert name not in names
        assert raw_selector not in present


def test_signed_variants_take_a_deadline_and_a_signature(artifact: dict[str, Any]) -> None:
    functions = functions_by_signature(artifact["abi"])
    for text in SIGNED_FUNCTIONS:
        assert text in functions, text
        inputs = functions[text]["inputs"]
        assert [p["name"] for p in inputs[-2:]] == ["deadline", "signature"]
        assert functions[text]["stateMutability"] == "nonpayable"


def test_no_two_functions_share_a_selector(artifact: dict[str, Any]) -> None:
    selectors = [selector(s) for s in functions_by_signature(artifact["abi"])]
    assert len(selectors) == len(set(selectors))


@pytest.mark.parametrize("name", sorted(EVENT_SIGNATURES))
def test_event_has_expected_signature_and_indexed_topics(
    artifact: dict[str, Any], name: str
) -> None:
    (entry,) = [e for e in artifact["abi"] if e["type"] == "event" and e["name"] == name]
    text, indexed = EVENT_SIGNATURES[name]
    assert signature(entry) == text
    assert [p["indexed"] for p in entry["inputs"]] == indexed
    assert entry["anonymous"] is False


def test_artifact_runtime_fits_under_eip170(artifact: dict[str, Any]) -> None:
    runtime = bytes.fromhex(artifact["deployedBytecode"].removeprefix("0x"))
    assert 0 < len(runtime) < EIP170_LIMIT


def test_deployed_runtime_matches_the_artifact(
    w3: Web3, registry: Contract, artifact: dict[str, Any]
) -> None:
    code = bytes(w3.eth.get_code(registry.address))
    assert code == bytes.fromhex(artifact["deployedBytecode"].removeprefix("0x"))
    assert len(code) < EIP170_LIMIT


def test_deployed_selectors_dispatch_to_the_ocn_getters(
    w3: Web3, registry: Contract, accounts: list[str]
) -> None:
    # A raw eth_call with the literal OCN selector must reach the function, not the fallback.
    operators = w3.eth.call({"to": registry.address, "data": OCN_SELECTORS["getNodeOperators()"]})
    assert operators == (32).to_bytes(32, "big") + (0).to_bytes(32, "big")
    owner_word = w3.eth.call({"to": registry.address, "data": OCN_SELECTORS["owner()"]})
    assert Web3.to_checksum_address(owner_word[12:]) == accounts[0]
