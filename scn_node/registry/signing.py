"""EIP-712 authorisations for the signed variants of the SCN contracts (Registry, Permissions): a
signer signs offline, a spender submits.

The signing domain binds each signature to one chain and one contract; each action has its own
struct type, and the signer's nonce and a deadline are part of it, so a signature works once, for
one function, before its deadline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eth_abi.exceptions import EncodingError
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_keys.exceptions import BadSignature
from eth_utils.address import to_checksum_address
from eth_utils.exceptions import ValidationError

DOMAIN_NAME = "SCN Registry"
PERMISSIONS_DOMAIN_NAME = "SCN Permissions"
DOMAIN_VERSION = "1"

Fields = list[tuple[str, str]]
# action -> (contract function, EIP-712 fields before nonce/deadline); the subject is the first field
REGISTRY_ACTIONS: dict[str, tuple[str, Fields]] = {
    "SetNode": ("setNodeSigned", [("operator", "address"), ("domain", "string")]),
    "DeleteNode": ("deleteNodeSigned", [("operator", "address")]),
    "SetParty": (
        "setPartySigned",
        [
            ("party", "address"),
            ("countryCode", "bytes2"),
            ("partyId", "bytes3"),
            ("roles", "uint8[]"),
            ("operator", "address"),
        ],
    ),
    "SetPartyModules": (
        "setPartyModulesSigned",
        [("party", "address"), ("sender", "uint8[]"), ("receiver", "uint8[]")],
    ),
    "DeleteParty": ("deletePartySigned", [("party", "address")]),
}
PERMISSIONS_ACTIONS: dict[str, tuple[str, Fields]] = {
    "SetService": (
        "setServiceSigned",
        [("provider", "address"), ("name", "string"), ("url", "string"), ("permissions", "uint32")],
    ),
    "DeleteService": ("deleteServiceSigned", [("provider", "address")]),
    "CreateAgreement": ("createAgreementSigned", [("user", "address"), ("provider", "address")]),
    "RevokeAgreement": ("revokeAgreementSigned", [("user", "address"), ("provider", "address")]),
}
ACTIONS = {**REGISTRY_ACTIONS, **PERMISSIONS_ACTIONS}
_TAIL = [("nonce", "uint256"), ("deadline", "uint256")]


def domain_name(action: str) -> str:
    """The EIP-712 domain `action` is signed in: that of the contract it calls."""
    return PERMISSIONS_DOMAIN_NAME if action in PERMISSIONS_ACTIONS else DOMAIN_NAME


class InvalidAuthorisation(ValueError):
    """A signed action that is malformed or not signed by its subject."""


@dataclass(frozen=True, slots=True)
class SignedAction:
    """One signed contract call, as written to a file by the signer and read by the spender."""

    action: str
    message: dict[str, Any]
    """The EIP-712 fields (nonce and deadline included), in JSON form: bytesN as ASCII text."""
    chain_id: int
    contract: str
    signature: str

    @property
    def subject(self) -> str:
        return str(self.message[ACTIONS[self.action][1][0][0]])

    @property
    def deadline(self) -> int:
        return int(self.message["deadline"])

    def function_call(self) -> tuple[str, list[Any]]:
        """The contract function and its arguments: the fields, the deadline, the signature."""
        function, fields = ACTIONS[self.action]
        values = [_abi_value(kind, self.message[name]) for name, kind in fields]
        return function, [*values, self.deadline, bytes.fromhex(self.signature.removeprefix("0x"))]

    def recover(self) -> str:
        return str(
            Account.recover_message(
                _encode(self.action, self.message, self.chain_id, self.contract),
                signature=bytes.fromhex(self.signature.removeprefix("0x")),
            )
        )

    def verify(self) -> None:
        """Check offline that the subject signed exactly this; a spender calls it before paying."""
        try:
            signer = self.recover()
            subject = to_checksum_address(self.subject)
        except (ValueError, TypeError, ValidationError, BadSignature, EncodingError) as error:
            raise InvalidAuthorisation(
                f"malformed signed {self.action}: bad signature or field ({error})"
            ) from None
        if signer != subject:
            raise InvalidAuthorisation(f"{self.action} is not signed by its subject {self.subject}")

    def to_json(self) -> str:
        return json.dumps(
            {
                "action": self.action,
                "message": self.message,
                "chainId": self.chain_id,
                "contract": self.contract,
                "signature": self.signature,
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> SignedAction:
        try:
            doc = json.loads(text)
            action = doc["action"]
            if action not in ACTIONS:
                raise InvalidAuthorisation(f"unknown action {action!r}")
            names = [n for n, _ in ACTIONS[action][1] + _TAIL]
            message = {n: doc["message"][n] for n in names}
            signed = cls(action, message, int(doc["chainId"]), doc["contract"], doc["signature"])
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, InvalidAuthorisation):
                raise
            raise InvalidAuthorisation(f"not a signed registry action: {error}") from None
        return signed


def sign_action(
    account: LocalAccount,
    action: str,
    fields: dict[str, Any],
    *,
    nonce: int,
    deadline: int,
    chain_id: int,
    contract: str,
) -> SignedAction:
    """Sign `action` for `account`, whose address is the subject (operator, party, provider or
    user)."""
    subject_field = ACTIONS[action][1][0][0]
    message = {subject_field: account.address, **fields, "nonce": nonce, "deadline": deadline}
    contract = to_checksum_address(contract)
    signed = account.sign_message(_encode(action, message, chain_id, contract))
    return SignedAction(action, message, chain_id, contract, "0x" + signed.signature.hex())


def _encode(action: str, message: dict[str, Any], chain_id: int, contract: str) -> Any:
    fields = ACTIONS[action][1] + _TAIL
    return encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                action: [{"name": n, "type": t} for n, t in fields],
            },
            "primaryType": action,
            "domain": {
                "name": domain_name(action),
                "version": DOMAIN_VERSION,
                "chainId": chain_id,
                "verifyingContract": contract,
            },
            "message": {n: _abi_value(t, message[n]) for n, t in fields},
        }
    )


def _abi_value(kind: str, value: Any) -> Any:
    if kind in ("bytes2", "bytes3"):
        return str(value).encode("ascii")
    if kind == "uint8[]":
        return [int(v) for v in value]
    if kind in ("uint256", "uint32"):
        return int(value)
    if kind == "address":
        return to_checksum_address(value)
    return value
