"""TransactionSender: transactions from local accounts (the CLI's and the devnet's; a node only
reads), with one gas estimate, per-account nonces, and the receipt awaited."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.exceptions import TimeExhausted

from scn_node.registry.chain import Chain, read
from scn_node.registry.errors import (
    InsufficientFunds,
    RegistryError,
    RegistryUnavailable,
    TransactionFailed,
)
from scn_node.registry.listings import TransactionReceipt

# Estimates can fall short when storage is warm in the estimate but cold when mined.
GAS_MARGIN = 1.25
SentCallback = Callable[[str], None]


class TransactionSender:
    def __init__(self, chain: Chain, *, receipt_timeout: float = 120.0) -> None:
        self.chain = chain
        self.receipt_timeout = receipt_timeout
        # One lock and one next-nonce per sending account: concurrent sends never reuse a nonce.
        self._locks: dict[str, asyncio.Lock] = {}
        self._next_nonce: dict[str, int] = {}

    async def transact(
        self, account: LocalAccount, call: Any, on_sent: SentCallback | None = None
    ) -> TransactionReceipt:
        """Send a contract call (or constructor) built by web3."""
        balance = await self.chain.balance_of(account.address)
        if balance == 0:
            # Checked first: some chains refuse even to estimate for an empty account.
            raise InsufficientFunds(f"{account.address} holds no ETH: fund the account first")
        gas = await self._estimate(call.estimate_gas({"from": account.address}))
        # Fees and nonce are set in send; placeholders keep web3 from looking them up here.
        params = {"from": account.address, "gas": gas, "gasPrice": 0, "nonce": 0, "chainId": 0}
        tx = await read(call.build_transaction(params))
        return await self.send(account, dict(tx), balance=balance, on_sent=on_sent)

    async def spend_nonces_up_to(self, account: LocalAccount, nonce: int) -> None:
        """Empty transfers until `account`'s next nonce is `nonce`, so that what it deploys next
        lands at a known address (the local network's, which OCN tools also know)."""
        w3 = self.chain.w3
        current = await read(w3.eth.get_transaction_count(account.address, "pending"))
        if current > nonce:
            raise RegistryError(
                f"{account.address} has already used nonce {nonce}; "
                "deploy on a fresh chain or without --at-nonce"
            )
        for _ in range(nonce - current):
            await self.send(account, {"to": account.address, "value": 0, "gas": 21_000})

    async def _estimate(self, estimate: Awaitable[int]) -> int:
        """Estimate once, with a margin; a revert surfaces here with its reason, before any cost."""
        gas = await read(estimate)
        return int(gas * GAS_MARGIN)

    async def send(
        self,
        account: LocalAccount,
        tx: dict[str, Any],
        *,
        balance: int | None = None,
        on_sent: SentCallback | None = None,
    ) -> TransactionReceipt:
        w3 = self.chain.w3
        sender = account.address
        lock = self._locks.setdefault(sender, asyncio.Lock())
        async with lock:
            gas_price = await read(w3.eth.gas_price)
            if balance is None:
                balance = await self.chain.balance_of(sender)
            cost = int(tx["gas"]) * gas_price + int(tx.get("value", 0))
            if balance < cost:
                raise InsufficientFunds(
                    f"{sender} holds {balance / 1e18:.6f} ETH but the transaction may cost "
                    f"{cost / 1e18:.6f} ETH: fund the account first"
                )
            pending = await read(w3.eth.get_transaction_count(sender, "pending"))
            nonce = max(pending, self._next_nonce.get(sender, 0))
            tx.update(
                nonce=nonce,
                gasPrice=gas_price,
                chainId=await self.chain.chain_id(),
                **{"from": sender},
            )
            signed = account.sign_transaction(tx)
            tx_hash = await read(w3.eth.send_raw_transaction(signed.raw_transaction))
            self._next_nonce[sender] = nonce + 1
        if on_sent:
            on_sent("0x" + bytes(tx_hash).hex())
        try:
            receipt = await w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=self.receipt_timeout
            )
        except TimeExhausted:
            raise RegistryUnavailable(
                f"transaction 0x{bytes(tx_hash).hex()} not mined within {self.receipt_timeout:.0f} s"
            ) from None
        result = TransactionReceipt(
            "0x" + bytes(receipt["transactionHash"]).hex(),
            int(receipt["blockNumber"]),
            int(receipt["gasUsed"]),
            receipt.get("contractAddress"),
        )
        if receipt["status"] != 1:
            raise TransactionFailed(
                f"transaction {result.tx_hash} failed in block {result.block_number}"
            )
        return result
