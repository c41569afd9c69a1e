"""RegistryContract: the one async wrapper over the SCN Registry, shared by the node and the CLI.

ScnContract holds what every SCN contract wrapper shares (reads, transactions, signed calls);
PermissionsContract (permissions.py) builds on it too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, Self, TypeVar

import aiohttp
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import AsyncHTTPProvider, AsyncWeb3
from web3.contract import AsyncContract
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    TimeExhausted,
    Web3Exception,
)

from scn_node.registry.artifact import load_artifact
from scn_node.registry.errors import (
    InsufficientFunds,
    NotARegistry,
    RegistryError,
    RegistryRevert,
    RegistryUnavailable,
    TransactionFailed,
)
from scn_node.registry.listings import (
    ZERO_ADDRESS,
    NodeListing,
    PartyListing,
    TransactionReceipt,
    module_indices,
    modules_of,
    role_indices,
    roles_of,
)
from scn_node.registry.signing import DOMAIN_NAME, REGISTRY_ACTIONS, SignedAction, sign_action
from scn_node.scpi.party import ModuleId, PartyId, Role

T = TypeVar("T")
GAS_MARGIN = (
    1.25  # estimates can fall short when storage is warm in the estimate but cold when mined
)
PAGE_SIZE = 100
SentCallback = Callable[[str], None]


class ScnContract:
    """One deployed SCN contract: reads that turn failures into RegistryError, transactions with
    one estimate and per-account nonces, and EIP-712 signed calls."""

    ARTIFACT: ClassVar[str]
    ACTIONS: ClassVar[frozenset[str]]
    DOMAIN: ClassVar[str]
    """Its EIP-712 domain name, which `verify` also checks."""
    KIND: ClassVar[str]
    """How messages name the contract: "registry", "permissions contract"."""

    def __init__(self, w3: AsyncWeb3[Any], address: str, *, receipt_timeout: float = 120.0) -> None:
        self.w3 = w3
        self.address = to_checksum_address(address)
        self._contract: AsyncContract = w3.eth.contract(
            address=self.address, abi=load_artifact(self.ARTIFACT)["abi"]
        )
        self._receipt_timeout = receipt_timeout
        # One lock and one next-nonce per sending account: concurrent sends never reuse a nonce.
        self._send_locks: dict[str, asyncio.Lock] = {}
        self._next_nonce: dict[str, int] = {}
        self._chain_id: int | None = None

    @classmethod
    async def connect(
        cls, rpc_url: str, address: str, *, rpc_timeout: float = 10.0, verify: bool = True
    ) -> Self:
        """Connect over HTTP and check that the contract is deployed at `address` (unless
        `verify` is off: a node that starts while the chain is away checks it later).

        Each call is tried once: web3's own retries would multiply a hung endpoint's
        `rpc_timeout`, and the callers decide what a failure means (the node's cache serves
        its last answers)."""
        provider = AsyncHTTPProvider(
            rpc_url, request_kwargs={"timeout": rpc_timeout}, exception_retry_configuration=None
        )
        contract = cls(AsyncWeb3(provider), address)
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
        await self.w3.provider.disconnect()

    async def verify(self) -> None:
        code = await self._read(self.w3.eth.get_code(self.address))
        if not code:
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
        """`at_nonce` first spends the account's nonces up to that value with empty transfers, so
        the contract lands at a known address (the local network's, which OCN tools also know)."""
        artifact = load_artifact(cls.ARTIFACT)
        factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        deployer = cls(w3, ZERO_ADDRESS)
        if at_nonce is not None:
            current = await deployer._read(w3.eth.get_transaction_count(account.address, "pending"))
            if current > at_nonce:
                raise RegistryError(
                    f"{account.address} has already used nonce {at_nonce}; "
                    "deploy on a fresh chain or without --at-nonce"
                )
            for _ in range(at_nonce - current):
                await deployer._send(account, {"to": account.address, "value": 0, "gas": 21_000})
        receipt = await deployer._transact(account, factory.constructor(*args), on_sent)
        assert receipt.contract_address is not None
        return cls(w3, receipt.contract_address), receipt

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

    # ------------------------------------------------------------------ plumbing

    async def block_number(self) -> int:
        number: int = await self._read(self.w3.eth.block_number)
        return number

    async def changes_between(self, first_block: int, last_block: int) -> int:
        """How many events the contract emitted in these blocks (listings created, changed,
        deleted): what tells a cache to drop its answers."""
        logs = await self._read(
            self.w3.eth.get_logs(
                {"address": self.address, "fromBlock": first_block, "toBlock": last_block}
            )
        )
        return len(logs)

    async def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = await self._read(self.w3.eth.chain_id)
        return self._chain_id

    async def balance_of(self, address: str) -> int:
        balance: int = await self._read(self.w3.eth.get_balance(to_checksum_address(address)))
        return balance

    async def _call(
        self, account: LocalAccount, function: str, args: list[Any], on_sent: SentCallback | None
    ) -> TransactionReceipt:
        return await self._transact(account, self._contract.functions[function](*args), on_sent)

    async def _transact(
        self, account: LocalAccount, call: Any, on_sent: SentCallback | None
    ) -> TransactionReceipt:
        balance = await self.balance_of(account.address)
        if balance == 0:
            # Checked first: some chains refuse even to estimate for an empty account.
            raise InsufficientFunds(f"{account.address} holds no ETH: fund the account first")
        gas = await self._estimate(call.estimate_gas({"from": account.address}))
        # Fees and nonce are set in _send; placeholders keep web3 from looking them up here.
        params = {"from": account.address, "gas": gas, "gasPrice": 0, "nonce": 0, "chainId": 0}
        tx = await self._read(call.build_transaction(params))
        return await self._send(account, dict(tx), balance=balance, on_sent=on_sent)

    async def _estimate(self, estimate: Awaitable[int]) -> int:
        """Estimate once, with a margin; a revert surfaces here with its reason, before any cost."""
        gas = await self._read(estimate)
        return int(gas * GAS_MARGIN)

    async def _send(
        self,
        account: LocalAccount,
        tx: dict[str, Any],
        *,
        balance: int | None = None,
        on_sent: SentCallback | None = None,
    ) -> TransactionReceipt:
        sender = account.address
        lock = self._send_locks.setdefault(sender, asyncio.Lock())
        async with lock:
            gas_price = await self._read(self.w3.eth.gas_price)
            if balance is None:
                balance = await self.balance_of(sender)
            cost = int(tx["gas"]) * gas_price + int(tx.get("value", 0))
            if balance < cost:
                raise InsufficientFunds(
                    f"{sender} holds {balance / 1e18:.6f} ETH but the transaction may cost "
                    f"{cost / 1e18:.6f} ETH: fund the account first"
                )
            pending = await self._read(self.w3.eth.get_transaction_count(sender, "pending"))
            nonce = max(pending, self._next_nonce.get(sender, 0))
            tx.update(
                nonce=nonce, gasPrice=gas_price, chainId=await self.chain_id(), **{"from": sender}
            )
            signed = account.sign_transaction(tx)
            tx_hash = await self._read(self.w3.eth.send_raw_transaction(signed.raw_transaction))
            self._next_nonce[sender] = nonce + 1
        if on_sent:
            on_sent("0x" + bytes(tx_hash).hex())
        try:
            receipt = await self.w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=self._receipt_timeout
            )
        except TimeExhausted:
            raise RegistryUnavailable(
                f"transaction 0x{bytes(tx_hash).hex()} not mined within {self._receipt_timeout:.0f} s"
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

    async def _read(self, awaitable: Awaitable[T]) -> T:
        """Await a chain call, turning transport failures and reverts into RegistryError."""
        try:
            return await awaitable
        except (ContractLogicError, ContractCustomError) as error:
            raise RegistryRevert(_revert_reason(error)) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise RegistryUnavailable(
                f"the registry's RPC endpoint does not answer: {error}"
            ) from None
        except Web3Exception as error:  # e.g. a JSON-RPC error: rate limits, unknown block
            raise RegistryUnavailable(
                f"the registry's RPC endpoint answered with an error: {error}"
            ) from None


class RegistryContract(ScnContract):
    """Reads and writes the SCN Registry. Methods are named by intent; results are frozen values."""

    ARTIFACT = "Registry"
    ACTIONS = frozenset(REGISTRY_ACTIONS)
    DOMAIN = DOMAIN_NAME
    KIND = "registry"

    @classmethod
    async def deploy(
        cls,
        w3: AsyncWeb3[Any],
        account: LocalAccount,
        *,
        at_nonce: int | None = None,
        on_sent: SentCallback | None = None,
    ) -> tuple[RegistryContract, TransactionReceipt]:
        """Deploy a new registry owned by `account` (at nonce `at_nonce`, see ScnContract._deploy)."""
        return await cls._deploy(w3, account, [], at_nonce, on_sent)

    # ------------------------------------------------------------------ nodes

    async def get_node(self, operator: str) -> NodeListing | None:
        url = await self._read(
            self._contract.functions.getNode(to_checksum_address(operator)).call()
        )
        return NodeListing(to_checksum_address(operator), url) if url else None

    async def node_count(self) -> int:
        count: int = await self._read(self._contract.functions.nodeCount().call())
        return count

    async def list_nodes(self) -> list[NodeListing]:
        async def page(offset: int, limit: int) -> list[NodeListing]:
            rows = await self._read(self._contract.functions.listNodes(offset, limit).call())
            return [NodeListing(to_checksum_address(r[0]), r[1]) for r in rows]

        return await all_pages(page)

    async def set_node(
        self, account: LocalAccount, url: str, *, on_sent: SentCallback | None = None
    ) -> TransactionReceipt:
        return await self._call(account, "setNode", [url], on_sent)

    async def delete_node(
        self, account: LocalAccount, *, on_sent: SentCallback | None = None
    ) -> TransactionReceipt:
        return await self._call(account, "deleteNode", [], on_sent)

    # ------------------------------------------------------------------ parties

    async def get_party(self, party: PartyId) -> PartyListing | None:
        row = await self._read(
            self._contract.functions.getPartyDetailsByOcpi(*credentials(party)).call()
        )
        address, roles, sender, receiver, operator, url = row
        if operator == ZERO_ADDRESS:
            return None
        return PartyListing(
            to_checksum_address(address),
            party,
            roles_of(roles),
            modules_of(sender),
            modules_of(receiver),
            to_checksum_address(operator),
            url,
        )

    async def get_party_by_address(self, address: str) -> PartyListing | None:
        row = await self._read(
            self._contract.functions.getPartyDetailsByAddress(to_checksum_address(address)).call()
        )
        cc, pid, sender, receiver, roles, operator, url = row
        if operator == ZERO_ADDRESS:
            return None
        return PartyListing(
            to_checksum_address(address),
            PartyId(cc.decode("ascii"), pid.decode("ascii")),
            roles_of(roles),
            modules_of(sender),
            modules_of(receiver),
            to_checksum_address(operator),
            url,
        )

    async def party_count(self) -> int:
        count: int = await self._read(self._contract.functions.partyCount().call())
        return count

    async def list_parties(self) -> list[PartyListing]:
        return await all_pages(
            lambda offset, limit: self._party_page(
                self._contract.functions.listParties(offset, limit)
            )
        )

    async def list_parties_of(self, operator: str) -> list[PartyListing]:
        """The parties that name `operator`'s node: what a node expects to connect to it."""
        checksummed = to_checksum_address(operator)
        return await all_pages(
            lambda offset, limit: self._party_page(
                self._contract.functions.listPartiesOf(checksummed, offset, limit)
            )
        )

    async def set_party(
        self,
        account: LocalAccount,
        party: PartyId,
        roles: Sequence[Role],
        operator: str,
        *,
        on_sent: SentCallback | None = None,
    ) -> TransactionReceipt:
        args = [*credentials(party), role_indices(roles), to_checksum_address(operator)]
        return await self._call(account, "setParty", args, on_sent)

    async def set_party_modules(
        self,
        account: LocalAccount,
        sender: Sequence[ModuleId],
        receiver: Sequence[ModuleId],
        *,
        on_sent: SentCallback | None = None,
    ) -> TransactionReceipt:
        args = [module_indices(sender), module_indices(receiver)]
        return await self._call(account, "setPartyModules", args, on_sent)

    async def delete_party(
        self, account: LocalAccount, *, on_sent: SentCallback | None = None
    ) -> TransactionReceipt:
        return await self._call(account, "deleteParty", [], on_sent)

    # ------------------------------------------------------------------ owner

    async def owner(self) -> str:
        owner: str = await self._read(self._contract.functions.owner().call())
        return owner

    async def admin_delete_node(
        self, owner: LocalAccount, operator: str, *, on_sent: SentCallback | None = None
    ) -> TransactionReceipt:
        args = [to_checksum_address(operator)]
        return await self._call(owner, "adminDeleteOperator", args, on_sent)

    async def admin_delete_party(
        self, owner: LocalAccount, party: PartyId, *, on_sent: SentCallback | None = None
    ) -> TransactionReceipt:
        return await self._call(owner, "adminDeleteParty", list(credentials(party)), on_sent)

    async def transfer_ownership(
        self, owner: LocalAccount, new_owner: str, *, on_sent: SentCallback | None = None
    ) -> TransactionReceipt:
        args = [to_checksum_address(new_owner)]
        return await self._call(owner, "transferOwnership", args, on_sent)

    async def accept_ownership(
        self, account: LocalAccount, *, on_sent: SentCallback | None = None
    ) -> TransactionReceipt:
        return await self._call(account, "acceptOwnership", [], on_sent)

    # ------------------------------------------------------------------ plumbing

    async def _party_page(self, call: Any) -> list[PartyListing]:
        rows = await self._read(call.call())
        return [
            PartyListing(
                to_checksum_address(r[0]),
                PartyId(r[1].decode("ascii"), r[2].decode("ascii")),
                roles_of(r[3]),
                modules_of(r[4]),
                modules_of(r[5]),
                to_checksum_address(r[6]),
                r[7],
            )
            for r in rows
        ]


def credentials(party: PartyId) -> tuple[bytes, bytes]:
    return party.country_code.encode("ascii"), party.party_id.encode("ascii")


def _revert_reason(error: ContractLogicError | ContractCustomError) -> str:
    message = str(error.message if error.message else error)
    for prefix in (  # what geth-style nodes and ganache put before the contract's own reason
        "execution reverted: ",
        "execution reverted",
        "VM Exception while processing transaction: revert ",
        "VM Exception while processing transaction: revert",
    ):
        message = message.removeprefix(prefix)
    return message.strip() or "the contract reverted without a reason"


async def all_pages(page: Callable[[int, int], Awaitable[list[T]]]) -> list[T]:
    """Every row of a paged listing view, called as page(offset, limit)."""
    rows: list[T] = []
    while True:
        size = PAGE_SIZE
        batch = await page(len(rows), size)
        rows.extend(batch)
        if len(batch) < size:
            return rows
