"""What one `scn-registry` invocation works with: the resolved global options, and the one way
a command reaches the chain (connect, open a contract, run, close, word the failure)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import click
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import AsyncHTTPProvider, AsyncWeb3

from registry_cli.output import Output, plain_error
from scn_node.registry import (
    PermissionsContract,
    RegistryContract,
    RegistryError,
    SignedAction,
    TransactionReceipt,
)

T = TypeVar("T")
# The two contracts a command talks to; a command's work is typed for the one it opens.
C = TypeVar("C", RegistryContract, PermissionsContract)
Web3Factory = Callable[[str], AsyncWeb3[Any]]
OnSent = Callable[[str], None]
"""Called with the transaction hash as soon as it is sent."""


def http_web3(rpc_url: str) -> AsyncWeb3[Any]:
    return AsyncWeb3(AsyncHTTPProvider(rpc_url, request_kwargs={"timeout": 30}))


@dataclass
class Session:
    """What the global options resolved to; `make_web3` is replaceable so tests can use any chain."""

    rpc_url: str
    registry: str
    permissions: str | None
    signer_key: str | None
    spender_key: str | None
    output: Output
    make_web3: Web3Factory

    def signer(self) -> LocalAccount:
        return _account(self.signer_key, "signer", "-s/--signer or SIGNER")

    def spender(self) -> LocalAccount:
        return _account(self.spender_key, "spender", "-x/--spender or SPENDER")

    def connected(self, work: Callable[[AsyncWeb3[Any]], Awaitable[T]]) -> T:
        """Run `work` on a new connection to the RPC URL, closed afterwards. A registry failure
        that escapes `work` is reported with the URL: it is about reaching the network."""

        async def session() -> T:
            w3 = self.make_web3(self.rpc_url)
            try:
                return await work(w3)
            finally:
                await w3.provider.disconnect()

        try:
            return asyncio.run(session())
        except RegistryError as error:
            raise click.ClickException(f"{plain_error(error)} (RPC {self.rpc_url})") from None

    def run_on(self, kind: type[C], work: Callable[[C], Awaitable[T]]) -> T:
        """Run `work` on the registry or the permissions contract, once the address is known to
        hold it (and the permissions contract to read this registry)."""
        address = self.registry if kind is RegistryContract else self._permissions_address()

        async def opened(w3: AsyncWeb3[Any]) -> T:
            contract = kind(w3, address)
            await contract.verify()
            if isinstance(contract, PermissionsContract):
                await self._check_reads_registry(contract)
            try:
                return await work(contract)
            except RegistryError as error:
                # The network answered: the contract's own refusal needs no RPC URL.
                raise click.ClickException(plain_error(error)) from None

        return self.connected(opened)

    def run(self, work: Callable[[RegistryContract], Awaitable[T]]) -> T:
        return self.run_on(RegistryContract, work)

    def run_permissions(self, work: Callable[[PermissionsContract], Awaitable[T]]) -> T:
        return self.run_on(PermissionsContract, work)

    def transact(
        self,
        label: str,
        kind: type[C],
        send: Callable[[C, LocalAccount, OnSent], Awaitable[TransactionReceipt]],
        *,
        signer_as: str,
        shown: Mapping[str, str],
    ) -> None:
        """Send one transaction signed by SIGNER, showing progress, then the receipt with
        SIGNER's address as `signer_as` and `shown`."""
        signer = self.signer()
        on_sent = self.output.sent(label)
        receipt = self.run_on(kind, lambda contract: send(contract, signer, on_sent))
        self.output.receipt(label, receipt, **{signer_as: signer.address}, **shown)

    def sign(
        self, kind: type[C], action: str, fields: dict[str, Any], *, valid_for: int
    ) -> tuple[LocalAccount, SignedAction]:
        """SIGNER's EIP-712 signature of `action` with `fields`, for the contract of `kind`."""
        signer = self.signer()
        signed = self.run_on(kind, lambda c: c.sign(signer, action, fields, valid_for=valid_for))
        return signer, signed

    def _permissions_address(self) -> str:
        if self.permissions is None:
            raise click.UsageError(
                "no permissions contract on this network: pass --permissions or "
                "SCN_PERMISSIONS_ADDRESS"
            )
        return self.permissions

    async def _check_reads_registry(self, permissions: PermissionsContract) -> None:
        reads = await permissions.registry_address()
        if reads != to_checksum_address(self.registry):
            raise RegistryError(
                f"the permissions contract at {permissions.address} reads the registry at "
                f"{reads}, not {self.registry}"
            )


pass_session = click.make_pass_decorator(Session)


def _account(key: str | None, who: str, where: str) -> LocalAccount:
    if not key:
        raise click.UsageError(f"no {who} key: pass {where}")
    try:
        account: LocalAccount = Account.from_key(key)
    except (ValueError, TypeError):
        raise click.UsageError(f"the {who} key is not a 32-byte hex private key") from None
    return account
