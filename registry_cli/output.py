"""How the CLI speaks: human text by default, JSON with --json; progress goes to stderr."""

from __future__ import annotations

import json
import re
from typing import Any

import click

from scn_node.registry import (
    ListedParty,
    NodeListing,
    RegistryError,
    RegistryRevert,
    Service,
    TransactionReceipt,
)

# ganache words a revert "VM Exception while processing transaction: revert REASON".
_CHAIN_WORDING = re.compile(r"^(VM Exception while processing transaction: )?revert\b:? ?")

# The contracts' revert reasons that name contract methods or Solidity modifiers, said the way a
# CLI user acts on them. Other reasons are plain enough as they are.
PLAIN_REVERTS = {
    "Provided operator not registered.": (
        "the operator (-o) has no node listed in the registry: its node is listed first, "
        "with `scn-registry set-node URL -s OPERATOR_KEY`"
    ),
    "Domain name already registered.": "another operator already lists a node at this URL",
    "Cannot delete node that does not exist.": "the signer has no node listed in the registry",
    "Party not registered. Use setParty method first.": (
        "the signer has no party listed in the registry: list it first with `set-party`"
    ),
    "Cannot delete party that does not exist. No operator found for given party.": (
        "that party is not listed in the registry"
    ),
    "Ownable: caller is not the owner": "the signer is not the registry's owner",
    "Ownable: caller is not the pending owner": (
        "the signer has not been offered ownership of the registry (admin transfer-ownership)"
    ),
    "Signature expired.": "the signed action has expired: sign it again",
    "Invalid signature.": "the signature is not the signed action's signer's",
}


class NotListed(click.ClickException):
    """A lookup found nothing: exit 1, so scripts can tell "not listed" from a listing."""


def plain_error(error: RegistryError) -> str:
    """What a registry failure means to a CLI user: the one place revert reasons are worded."""
    if not isinstance(error, RegistryRevert):
        return str(error)
    reason = _CHAIN_WORDING.sub("", error.reason.strip()) or "no reason given"
    return PLAIN_REVERTS.get(reason, f"the contract refused: {reason}")


def party_json(p: ListedParty) -> dict[str, object]:
    """A party listing as `--json` prints it."""
    return {
        "countryCode": p.party.country_code,
        "partyId": p.party.party_id,
        "address": p.address,
        "roles": [str(r) for r in p.roles],
        "modules": {
            "sender": [str(m) for m in p.modules_sender],
            "receiver": [str(m) for m in p.modules_receiver],
        },
        "node": {"operator": p.operator, "url": p.node_url},
    }


def service_json(s: Service) -> dict[str, object]:
    """A service listing as `--json` prints it: permissions by name."""
    return {
        "provider": s.provider,
        "countryCode": s.party.country_code,
        "partyId": s.party.party_id,
        "name": s.name,
        "url": s.url,
        "permissions": [p.name for p in s.permissions],
    }


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def sent(self, label: str) -> Any:
        """A callback for the wrapper: shows the hash as soon as the transaction is sent."""

        def on_sent(tx_hash: str) -> None:
            click.echo(f"{label}: sent {tx_hash}, waiting for the receipt…", err=True)

        return on_sent

    def receipt(self, label: str, receipt: TransactionReceipt, **extra: Any) -> None:
        if self.as_json:
            self.json(
                {
                    "transactionHash": receipt.tx_hash,
                    "blockNumber": receipt.block_number,
                    "gasUsed": receipt.gas_used,
                    **extra,
                }
            )
            return
        click.echo(f"{label}: mined in block {receipt.block_number}, gas used {receipt.gas_used}")
        click.echo(f"  transaction {receipt.tx_hash}")
        for key, value in extra.items():
            click.echo(f"  {key} {value}")

    def deploy(
        self,
        registry_receipt: TransactionReceipt,
        permissions_receipt: TransactionReceipt,
        registry: str,
        permissions: str,
        owner: str,
    ) -> None:
        """The registry's receipt, then the permissions contract's."""
        if self.as_json:
            self.json(
                {
                    "transactionHash": registry_receipt.tx_hash,
                    "blockNumber": registry_receipt.block_number,
                    "gasUsed": registry_receipt.gas_used,
                    "registry": registry,
                    "owner": owner,
                    "permissions": permissions,
                    "permissionsDeploy": {
                        "transactionHash": permissions_receipt.tx_hash,
                        "blockNumber": permissions_receipt.block_number,
                        "gasUsed": permissions_receipt.gas_used,
                    },
                }
            )
            return
        self.receipt("deploy", registry_receipt, registry=registry, owner=owner)
        self.receipt("deploy permissions", permissions_receipt, permissions=permissions)

    def node(self, listing: NodeListing | None, operator: str) -> None:
        if self.as_json:
            self.json({"operator": operator, "url": listing.url if listing else None})
        elif listing:
            click.echo(listing.url)
        else:
            click.echo("Node operator not listed in registry.")

    def nodes(self, listings: list[NodeListing]) -> None:
        if self.as_json:
            self.json([{"operator": n.operator, "url": n.url} for n in listings])
            return
        if not listings:
            click.echo("No nodes listed.")
        for n in listings:
            click.echo(f"{n.operator}  {n.url}")

    def party(self, listing: ListedParty | None, not_listed: str) -> None:
        """One party's listing, or the error `not_listed` (with JSON null on stdout)."""
        if listing is None:
            if self.as_json:
                self.json(None)
            raise NotListed(not_listed)
        if self.as_json:
            self.json(party_json(listing))
        else:
            self._party_lines(listing)

    def parties(self, listings: list[ListedParty]) -> None:
        if self.as_json:
            self.json([party_json(p) for p in listings])
            return
        if not listings:
            click.echo("No parties listed.")
        for p in listings:
            self._party_lines(p)

    def _party_lines(self, p: ListedParty) -> None:
        node = p.node_url or "(the operator has no node listed)"
        click.echo(f"{p.party.country_code} {p.party.party_id}  {p.address}")
        click.echo(f"  roles     {', '.join(p.roles)}")
        click.echo(f"  modules   sender: {', '.join(p.modules_sender) or '-'}")
        click.echo(f"            receiver: {', '.join(p.modules_receiver) or '-'}")
        click.echo(f"  node      {p.operator}  {node}")

    def service(self, listing: Service | None) -> None:
        if self.as_json:
            self.json(service_json(listing) if listing else None)
        elif listing:
            self._service_lines(listing)
        else:
            click.echo("No service listed for this provider.")

    def services(self, listings: list[Service], empty: str) -> None:
        if self.as_json:
            self.json([service_json(s) for s in listings])
            return
        if not listings:
            click.echo(empty)
        for s in listings:
            self._service_lines(s)

    def _service_lines(self, s: Service) -> None:
        click.echo(f"{s.party.country_code} {s.party.party_id}  {s.provider}")
        click.echo(f"  name         {s.name}")
        click.echo(f"  url          {s.url}")
        click.echo(f"  permissions  {', '.join(p.name for p in s.permissions)}")

    def json(self, value: Any) -> None:
        click.echo(json.dumps(value, indent=2))
