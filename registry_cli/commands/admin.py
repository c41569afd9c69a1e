"""The registry's own life: deploy, info, and the owner-only `admin …` commands (rows of the
ACTIONS table)."""

from __future__ import annotations

import contextlib
from typing import Any

import click
from web3 import AsyncWeb3

from registry_cli.commands.writes import transaction_commands
from registry_cli.params import key_options
from registry_cli.session import Session, pass_session
from scn_node.registry import (
    PermissionsContract,
    RegistryContract,
    RegistryError,
    TransactionReceipt,
)


@click.command()
@key_options
@click.option(
    "--at-nonce",
    type=int,
    help="first use up the deployer's nonces to this one (the permissions contract takes the next)",
)
@click.option(
    "--permissions-only",
    is_flag=True,
    help="deploy only a permissions contract, for the registry of --registry or the network",
)
@pass_session
def deploy(session: Session, at_nonce: int | None, permissions_only: bool) -> None:
    """Deploy a new SCN Registry owned by the signer, and SCN Permissions reading it."""
    signer = session.signer()
    output = session.output
    Deployed = tuple[TransactionReceipt | None, str, PermissionsContract, TransactionReceipt]

    async def work(w3: AsyncWeb3[Any]) -> Deployed:
        """The registry's receipt (None with --permissions-only) and address, then the
        permissions contract and its receipt."""
        registry_receipt = None
        permissions_nonce = at_nonce
        if permissions_only:
            await RegistryContract(w3, session.registry).verify()
            registry = session.registry
        else:
            contract, registry_receipt = await RegistryContract.deploy(
                w3, signer, at_nonce=at_nonce, on_sent=output.sent("deploy")
            )
            registry = contract.address
            if at_nonce is not None:
                permissions_nonce = at_nonce + 1
        permissions, receipt = await PermissionsContract.deploy(
            w3,
            signer,
            registry,
            at_nonce=permissions_nonce,
            on_sent=output.sent("deploy permissions"),
        )
        return registry_receipt, registry, permissions, receipt

    registry_receipt, registry, permissions, receipt = session.connected(work)
    if registry_receipt is None:
        output.receipt(
            "deploy permissions", receipt, permissions=permissions.address, registry=registry
        )
    else:
        output.deploy(registry_receipt, receipt, registry, permissions.address, signer.address)


@click.command()
@pass_session
def info(session: Session) -> None:
    """Show the registry's address, chain, owner and how many nodes and parties it lists, and
    the permissions contract with how many services it lists."""

    async def work(r: RegistryContract) -> dict[str, Any]:
        facts = {
            "rpcUrl": session.rpc_url,
            "registry": r.address,
            "chainId": await r.chain_id(),
            "owner": await r.owner(),
            "nodes": await r.node_count(),
            "parties": await r.party_count(),
            "permissions": session.permissions,
            "services": None,
        }
        if session.permissions is not None:
            permissions = PermissionsContract(r.w3, session.permissions)
            # Shown even when wrong: info is where a user finds out what the network holds.
            with contextlib.suppress(RegistryError):
                await permissions.verify()
                if await permissions.registry_address() == r.address:
                    facts["services"] = await permissions.service_count()
        return facts

    facts = session.run(work)
    if session.output.as_json:
        session.output.json(facts)
    else:
        for key, value in facts.items():
            click.echo(f"{key:<11} {'-' if value is None else value}")


@click.group()
@key_options
def admin() -> None:
    """Owner-only actions."""


for _command in transaction_commands("admin"):
    admin.add_command(_command)

COMMANDS = (deploy, info, admin)
