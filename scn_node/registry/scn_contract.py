"""ScnContract: what every SCN contract wrapper shares (RegistryContract in contract.py,
PermissionsContract in permissions.py): connecting and checking the contract, reads, paged
listings, transactions, and EIP-712 signed calls submitted by someone else."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Self, TypeVar

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import AsyncWeb3
from web3.contract import AsyncContract
from web3.exceptions import ContractCustomError, ContractLogicError, Web3Exception

from scn_node.registry.artifact import load_artifact
from scn_node.registry.chain import Chain, http_web3, read
from scn_node.registry.errors import NotARegistry, RegistryError
from scn_node.registry.listings import TransactionReceipt
from scn_node.registry.signing import SignedAction, sign_action
from scn_node.registry.transactions import SentCallback, TransactionSender
from scn_node.scpi.party import PartyId

T = TypeVar("T")
PAGE_SIZE = 100


class ScnContract:
    """One deployed SCN contract."""

    ARTIFACT: ClassVar[str]
    ACTIONS: ClassVar[frozenset[str]]
    DOMAIN: ClassVar[str]
    """Its EIP-712 domain name, which `verify` also checks."""
    KIND: ClassVar[str]
    """How messages name the contract: "registry", "permissions contract"."""

    def __init__(self, w3: AsyncWeb3[Any], address: str, *, receipt_timeout: float = 120.0) -> None:
        self.w3 = w3
        self.address = to_checksum_address(address)
        self.chain = Chain(w3)
        self.transactions = TransactionSender(self.chain, receipt_timeout=receipt_timeout)
        self._contract: AsyncContract = w3.eth.contract(
            address=self.address, abi=load_artifact(self.ARTIFACT)["abi"]
        )

    @classmethod
    async def connect(
        cls, rpc_url: str, address: str, *, rpc_timeout: float = 10.0, verify: bool = True
    ) -> Self:
        """Connect over HTTP and check that the contract is deployed at `address` (unless
        `verify` is off: a node that starts while the chain is away checks it later)."""
        contract = cls(http_web3(rpc_url, rpc_timeout=rpc_timeout), address)
        if not verify:
            return contract
        try:
            await contract.verify()
        except BaseException:
            await contract.close()
            raise
        return contract

    async def close(self) -> None:
        """Close the connection, which a wrapper built on another's `w3` shares with it."""
        await self.chain.close()

    async def verify(self) -> None:
        if not await self.chain.code_at(self.address):
            raise NotARegistry(f"no contract at {self.address}")
        wrong = NotARegistry(f"the contract at {self.address} is not an {self.DOMAIN}")
        try:
            domain = await self._contract.functions.eip712Domain().call()
        except (ContractLogicError, ContractCustomError, Web3Exception):
            raise wrong from None
        if domain[1] != self.DOMAIN:
            raise wrong

    @classmethod
    async def _deploy(
        cls,
        w3: AsyncWeb3[Any],
        account: LocalAccount,
        args: list[Any],
        at_nonce: int | None,
        on_sent: SentCallback | None,
    ) -> tuple[Self, TransactionReceipt]:
        """`at_nonce`: see TransactionSender.spend_nonces_up_to."""
        artifact = load_artifact(cls.ARTIFACT)
        factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        sender = TransactionSender(Chain(w3))
        if at_nonce is not None:
            await sender.spend_nonces_up_to(account, at_nonce)
        receipt = await sender.transact(account, factory.constructor(*args), on_sent)
        assert receipt.contract_address is not None
        return cls(w3, receipt.contract_address), receipt

    # ------------------------------------------------------------------ the chain

    async def chain_id(self) -> int:
        return await self.chain.chain_id()

    async def block_number(self) -> int:
        return await self.chain.block_number()

    async def balance_of(self, address: str) -> int:
        return await self.chain.balance_of(address)

    async def changes_between(self, first_block: int, last_block: int) -> int:
        """How many events the contract emitted in these blocks (listings created, changed,
        deleted): what tells a cache to drop its answers."""
        return await self.chain.event_count(self.address, first_block, last_block)

    # ------------------------------------------------------------------ signed on-behalf calls

    async def nonce_of(self, signer: str) -> int:
        nonce: int = await self._read(
            self._contract.functions.nonces(to_checksum_address(signer)).call()
        )
        return nonce

    async def sign(
        self,
        signer: LocalAccount,
        action: str,
        fields: dict[str, Any],
        *,
        valid_for: int = 3600,
    ) -> SignedAction:
        """Sign `action` offline for a spender to submit; reads only the signer's nonce and the chain id."""
        if action not in self.ACTIONS:
            raise RegistryError(f"{action} is not an action of the {self.KIND}")
        return sign_action(
            signer,
            action,
            fields,
            nonce=await self.nonce_of(signer.address),
            deadline=int(time.time()) + valid_for,
            chain_id=await self.chain_id(),
            contract=self.address,
        )

    async def submit(
        self, spender: LocalAccount, signed: SignedAction, *, on_sent: SentCallback | None = None
    ) -> TransactionReceipt:
        if to_checksum_address(signed.contract) != self.address:
            raise RegistryError(
                f"signed for the {self.KIND} at {signed.contract}, not {self.address}"
            )
        if signed.action not in self.ACTIONS:
            raise RegistryError(f"{signed.action} is not an action of the {self.KIND}")
        if signed.chain_id != await self.chain_id():
            raise RegistryError(f"signed for chain {signed.chain_id}, not {await self.chain_id()}")
        # Said plainly here; the contract would only answer "Invalid signature.".
        nonce = await self.nonce_of(signed.subject)
        if int(signed.message["nonce"]) < nonce:
            raise RegistryError(
                f"this signed {signed.action} was already used: {signed.subject}'s nonce is now {nonce}"
            )
        if signed.deadline < time.time():
            raise RegistryError(f"this signed {signed.action} expired; sign it again")
        function, args = signed.function_call()
        return await self._call(spender, function, args, on_sent)

    # ------------------------------------------------------------------ for the wrappers

    async def _read(self, awaitable: Awaitable[T]) -> T:
        return await read(awaitable)

    async def _call(
        self, account: LocalAccount, function: str, args: list[Any], on_sent: SentCallback | None
    ) -> TransactionReceipt:
        call = self._contract.functions[function](*args)
        return await self.transactions.transact(account, call, on_sent)


def ocpi_key(party: PartyId) -> tuple[bytes, bytes]:
    """How the contracts key a party: its country code and party id as bytes2 and bytes3."""
    return party.country_code.encode("ascii"), party.party_id.encode("ascii")


async def all_pages(page: Callable[[int, int], Awaitable[list[T]]]) -> list[T]:
    """Every row of a paged listing view, called as page(offset, limit)."""
    rows: list[T] = []
    while True:
        size = PAGE_SIZE
        batch = await page(len(rows), size)
        rows.extend(batch)
        if len(batch) < size:
            return rows
