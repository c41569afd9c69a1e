"""NodeWallet: the hub's Wallet port over eth-account (coincurve underneath, so it is fast)."""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import encode_defunct


class NodeWallet:
    def __init__(self, private_key: str) -> None:
        self._account = Account.from_key(private_key)

    @property
    def address(self) -> str:
        address: str = self._account.address
        return address

    def sign(self, data: bytes) -> str:
        signed = self._account.sign_message(encode_defunct(primitive=data))
        return "0x" + bytes(signed.signature).hex()

    def recover(self, data: bytes, signature: str) -> str:
        try:
            signer: str = Account.recover_message(
                encode_defunct(primitive=data), signature=signature
            )
        except Exception as error:  # eth-keys raises several types for malformed signatures
            raise ValueError(f"malformed signature: {type(error).__name__}") from None
        return signer
