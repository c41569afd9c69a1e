"""RegistryContract: the SCN Registry's own methods (nodes, parties, owner), shared by the node
and the CLI. The plumbing is in chain.py, transactions.py and scn_contract.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import AsyncWeb3

from scn_node.hub.model import ListedParty
from scn_node.registry.listings import (
    ZERO_ADDRESS,
    NodeListing,
    TransactionReceipt,
    module_indices,
    party_from_chain,
    party_of,
    role_indices,
)
from scn_node.registry.scn_contract import ScnContract, all_pages, ocpi_key
from scn_node.registry.signing import DOMAIN_NAME, REGISTRY_ACTIONS
from scn_node.registry.transactions import SentCallback
from scn_node.scpi.party import ModuleId, PartyId, Role

__all__ = ["RegistryContract", "ScnContract", "SentCallback"]  # ScnContract: registry_cli's path


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

    async def get_party(self, party: PartyId) -> ListedParty | None:
        row = await self._read(
            self._contract.functions.getPartyDetailsByOcpi(*ocpi_key(party)).call()
        )
        address, roles, sender, receiver, operator, url = row
        if operator == ZERO_ADDRESS:
            return None
        return party_from_chain(address, party, roles, sender, receiver, operator, url)

    async def get_party_by_address(self, address: str) -> ListedParty | None:
        row = await self._read(
            self._contract.functions.getPartyDetailsByAddress(to_checksum_address(address)).call()
        )
        cc, pid, sender, receiver, roles, operator, url = row
        if operator == ZERO_ADDRESS:
            return None
        return party_from_chain(address, party_of(cc, pid), roles, sender, receiver, operator, url)

    async def party_count(self) -> int:
        count: int = await self._read(self._contract.functions.partyCount().call())
        return count

    async def list_parties(self) -> list[ListedParty]:
        return await all_pages(
            lambda offset, limit: self._party_page(
                self._contract.functions.listParties(offset, limit)
            )
        )

    async def list_parties_of(self, operator: str) -> list[ListedParty]:
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
        args = [*ocpi_key(party), role_indices(roles), to_checksum_address(operator)]
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
        return await self._call(owner, "adminDeleteParty", list(ocpi_key(party)), on_sent)

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

    async def _party_page(self, call: Any) -> list[ListedParty]:
        rows = await self._read(call.call())
        return [
            party_from_chain(address, party_of(cc, pid), roles, sender, receiver, op, url)
            for address, cc, pid, roles, sender, receiver, op, url in rows
        ]
