"""scn-registry: list and look up SCN nodes and parties in the SCN Registry, and services and
their users' agreements in SCN Permissions."""

from __future__ import annotations

from pathlib import Path

import click
from eth_utils.address import to_checksum_address

from registry_cli.commands import admin, nodes, parties, services, signed
from registry_cli.commands.writes import transaction_commands
from registry_cli.output import Output
from registry_cli.params import address
from registry_cli.session import Session, http_web3
from scn_node.registry.networks import UnknownNetwork, network


@click.group()
@click.option("-n", "--network", "network_name", default="local", show_default=True)
@click.option(
    "--networks-file",
    envvar="SCN_NETWORKS_FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file of extra networks: {name: {rpc_url, registry}}",
)
@click.option("--rpc-url", envvar="SCN_RPC_URL", help="overrides the network's RPC URL")
@click.option(
    "--registry", envvar="SCN_REGISTRY_ADDRESS", callback=address, help="registry contract address"
)
@click.option(
    "--permissions",
    envvar="SCN_PERMISSIONS_ADDRESS",
    callback=address,
    help="permissions contract address (services and agreements)",
)
@click.option("-s", "--signer", envvar="SIGNER", help="private key of the data owner [env SIGNER]")
@click.option(
    "-x", "--spender", envvar="SPENDER", help="private key that pays for signed calls [env SPENDER]"
)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def cli(
    ctx: click.Context,
    network_name: str,
    networks_file: Path | None,
    rpc_url: str | None,
    registry: str | None,
    permissions: str | None,
    signer: str | None,
    spender: str | None,
    as_json: bool,
) -> None:
    """List and look up Smart Charging Network nodes and parties in the SCN Registry, and
    services and agreements in SCN Permissions."""
    try:
        chosen = network(network_name, networks_file)
    except UnknownNetwork as error:
        raise click.UsageError(str(error)) from None
    make_web3 = (ctx.obj or {}).get("make_web3", http_web3)
    # The network's permissions contract reads the network's registry, not another one.
    if permissions is None and registry in (None, to_checksum_address(chosen.registry)):
        permissions = chosen.permissions
    ctx.obj = Session(
        rpc_url or chosen.rpc_url,
        registry or chosen.registry,
        permissions,
        signer,
        spender,
        Output(as_json),
        make_web3,
    )


for command in (
    *transaction_commands(None),
    *nodes.COMMANDS,
    *parties.COMMANDS,
    *services.COMMANDS,
    *signed.COMMANDS,
    *admin.COMMANDS,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="scn-registry")


if __name__ == "__main__":
    main()
