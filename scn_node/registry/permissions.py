"""PermissionsContract: the async wrapper over SCN Permissions (services and their users'
agreements), shared by the node and the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import AsyncWeb3

from scn_node.hub.model import Service
from scn_node.registry.listings import TransactionReceipt, permission_mask, service_from_chain
from scn_node.registry.scn_contract import ScnContract, all_pages, ocpi_key
from scn_node.registry.signing import PERMISSIONS_ACTIONS, PERMISSIONS_DOMAIN_NAME
from scn_node.registry.transactions import SentCallback
from scn_node.scpi.party import PartyId
from scn_node.scpi.services import ServicePermission


class PermissionsContract(ScnContract):
    """Reads and writes SCN Permissions. A service whose provider has left the registry is not
    shown: no node can reach it."""

    ARTIFACT = "Permissions"
    ACTIONS = frozenset(PERMISSIONS_ACTIONS)
    DOMAIN = PERMISSIONS_DOMAIN_NAME
    KIND = "permissions contract"

    @classmethod
    async def deploy(
        cls,
        w3: AsyncWeb3[Any],
        account: LocalAccount,
        registry: str,
        *,
        at_nonce: int | None = None,
        on_sent: SentCallback | None = None,
    ) -> tuple[PermissionsContract, TransactionReceipt]:
        """Deploy a permissions contract that reads the registry at `registry` (at nonce
        `at_nonce`, see ScnContract._deploy)."""
        return await cls._deploy(w3, account, [to_checksum_address(registry)], at_nonce, on_sent)

    async def registry_address(self) -> str:
        """The registry whose party listings this contract reads."""
        address: str = await self._read(self._contract.functions.registry().call())
        return to_checksum_address(address)

    # ------------------------------------------------------------------ services

    async def get_service(self, provider: str) -> Service | None:
        checksummed = to_checksum_address(provider)
        row = await self._read(self._contract.functions.getService(checksummed).call())
        cc, pid, name, url, mask, exists = row
        if not exists or cc == bytes(2):
            return None
        return service_from_chain([checksummed, cc, pid, name, url, mask])

    async def service_count(self) -> int:
        """Services set and not deleted, including any whose provider has left the registry."""
        count: int = await self._read(self._contract.functions.serviceCount().call())
        return count

    async def list_services(self) -> list[Service]:
        async def page(offset: int, limit: int) -> list[Service]:
            rows = await self._read(self._contract.functions.listServices(offset, limit).call())
            return [service_from_chain(r) for r in rows if r[1] != bytes(2)]

        return await all_pages(page)

    async def set_service(
        self,
        account: LocalAccount,
        name: str,
        url: str,
        permissions: Sequence[ServicePermission],
        *,
        on_sent: SentCallback | None = None,
    ) -> TransactionReceipt:
        """Offer (or change) the account's service. Adding permissions lapses the agreements its
        users gave: they agree again to the wider set."""
        args = [name, url, permission_mask(permissions)]
        return await self._call(account, "setService", args, on_sent)

    async def delete_service(
        self, account: LocalAccount, *, on_sent: SentCallback | None = None
    ) -> TransactionReceipt:
        return await self._call(account, "deleteService", [], on_sent)

    # ------------------------------------------------------------------ agreements

    async def agree(
        self, account: LocalAccount, provider: str, *, on_sent: SentCallback | None = None
    ) -> TransactionReceipt:
        """Agree, as the account's party, to `provider`'s service."""
        args = [to_checksum_address(provider)]
        return await self._call(account, "createAgreement", args, on_sent)

    async def revoke(
        self, account: LocalAccount, provider: str, *, on_sent: SentCallback | None = None
    ) -> TransactionReceipt:
        """Withdraw the account's agreement to `provider`: it leaves the account's list at once."""
        args = [to_checksum_address(provider)]
        return await self._call(account, "revokeAgreement", args, on_sent)

    async def agreements_of(self, user_address: str) -> tuple[str, ...]:
        """The providers whose current services the party at `user_address` agreed to."""
        call = self._contract.functions.agreementsOf(to_checksum_address(user_address))
        providers = await self._read(call.call())
        return tuple(to_checksum_address(p) for p in providers)

    async def has_agreement(self, user: PartyId, provider: str) -> bool:
        call = self._contract.functions.hasAgreementByOcpi(
            *ocpi_key(user), to_checksum_address(provider)
        )
        held: bool = await self._read(call.call())
        return held

    async def services_of(self, user: PartyId) -> tuple[Service, ...]:
        """The services `user` agreed to, in one chain call: whom a node copies its requests to."""
        rows = await self._read(self._contract.functions.servicesOfParty(*ocpi_key(user)).call())
        return tuple(service_from_chain(r) for r in rows)
