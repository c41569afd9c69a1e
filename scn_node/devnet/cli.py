"""scn-devnet: the local SCN network of the tutorial, in one command."""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import click
from web3 import AsyncHTTPProvider, AsyncWeb3

from scn_node.devnet.chain import (
    DEFAULT_PORT,
    MNEMONIC,
    Ganache,
    deploy_registry,
    dev_account,
    wait_for_stop_signal,
)
from scn_node.devnet.nodes import NodeProcess
from scn_node.registry import RegistryContract
from scn_node.registry.networks import LOCAL_REGISTRY

# Node wallets: node 1 is the tutorial's 0x9bC1… (account 14); node 2 is OCN's second node (account 2).
NODE_ACCOUNTS = {1: 14, 2: 2}
EMSP_ACCOUNT = 19  # the tutorial's SIGNER for DE MSP


def node_url(port: int) -> str:
    return f"http://localhost:{port}"


async def list_nodes(rpc_url: str, registry_address: str, ports: dict[int, int]) -> None:
    w3 = AsyncWeb3(AsyncHTTPProvider(rpc_url))
    registry = RegistryContract(w3, registry_address)
    try:
        for number, index in NODE_ACCOUNTS.items():
            account = dev_account(index)
            url = node_url(ports[number])
            listed = await registry.get_node(account.address)
            if listed is None or listed.url != url:
                await registry.set_node(account, url)
    finally:
        await registry.close()


@click.group()
def cli() -> None:
    """The local Smart Charging Network: ganache, the SCN Registry and two nodes."""


@cli.command()
@click.option("--chain-port", default=DEFAULT_PORT, show_default=True, envvar="SCN_CHAIN_PORT")
@click.option("--node-port", default=8080, show_default=True, envvar="SCN_NODE_PORT",
              help="node 1's port")  # fmt: skip
@click.option(
    "--node2-port", type=int, envvar="SCN_NODE2_PORT", help="node 2's port [node 1's + 1]"
)
@click.option("--workdir", type=click.Path(file_okay=False), envvar="SCN_DEVNET_DIR",
              help="where the nodes keep their databases and logs [a new temporary folder]")  # fmt: skip
@click.option("--tour", is_flag=True, help="walk through the tutorial's registry steps once up")
@click.option("--exit", "exit_when_done", is_flag=True, help="stop everything after the tour")
def up(
    chain_port: int,
    node_port: int,
    node2_port: int | None,
    workdir: str | None,
    tour: bool,
    exit_when_done: bool,
) -> None:
    """Start ganache, deploy the registry, list and start both nodes; Ctrl-C stops it all."""
    ports = {1: node_port, 2: node2_port or node_port + 1}
    folder = Path(workdir or tempfile.mkdtemp(prefix="scn-devnet-"))
    folder.mkdir(parents=True, exist_ok=True)
    chain = Ganache(port=chain_port)
    click.echo(f"starting ganache on {chain.rpc_url} …")
    chain.start()
    nodes: list[NodeProcess] = []
    try:
        address, receipt = asyncio.run(deploy_registry(chain.rpc_url))
        asyncio.run(list_nodes(chain.rpc_url, address, ports))
        for number, index in NODE_ACCOUNTS.items():
            node = NodeProcess(number, index, ports[number], chain.rpc_url, address, folder)
            click.echo(f"starting node {number} on {node.url} …")
            nodes.append(node.start())
        owner = dev_account(0).address
        click.echo("")
        click.echo("SCN local network")
        click.echo(f"  RPC provider     {chain.rpc_url} (chain id {chain.chain_id})")
        click.echo(f"  mnemonic         {MNEMONIC}")
        click.echo(f"  registry         {address} (owner {owner}, deploy gas {receipt.gas_used})")
        for node in nodes:
            click.echo(
                f"  node {node.number}           {node.url}  wallet {node.address}  "
                f"admin API key {node.admin_api_key}  (/health OK; log {node.log_path})"
            )
        if address != LOCAL_REGISTRY:
            click.echo(f"  note: not the usual local address {LOCAL_REGISTRY}")
        click.echo("")
        if tour:
            run_tour(chain.rpc_url, address)
        if exit_when_done:
            return
        click.echo("up; press Ctrl-C to stop")
        wait_for_stop_signal()
    finally:
        for node in reversed(nodes):
            node.stop()
        if nodes:
            click.echo("stopped the nodes")
        chain.stop()
        click.echo("stopped ganache")


@cli.command()
@click.option("--port", default=DEFAULT_PORT, show_default=True, envvar="SCN_CHAIN_PORT")
@click.option("--no-deploy", is_flag=True, help="leave the chain empty")
def chain(port: int, no_deploy: bool) -> None:
    """Start the local chain alone (ganache and the registry deploy); Ctrl-C stops it."""
    with Ganache(port=port, log=sys.stderr) as ganache:
        click.echo(
            f"ganache on {ganache.rpc_url} (chain id {ganache.chain_id}), mnemonic: {MNEMONIC}"
        )
        if not no_deploy:
            address, receipt = asyncio.run(deploy_registry(ganache.rpc_url))
            click.echo(
                f"registry {address}, owner {dev_account(0).address}, gas {receipt.gas_used}"
            )
        # Callers (and the e2e tests) read this line as the readiness signal.
        click.echo("press Ctrl-C to stop")
        wait_for_stop_signal()


@cli.command("tour")
@click.option("--rpc-url", default=f"http://localhost:{DEFAULT_PORT}", envvar="SCN_RPC_URL")
@click.option("--registry", default=LOCAL_REGISTRY, envvar="SCN_REGISTRY_ADDRESS")
def tour_command(rpc_url: str, registry: str) -> None:
    """Walk through the tutorial's registry steps against a running local network."""
    run_tour(rpc_url, registry)


def run_tour(rpc_url: str, registry: str) -> None:
    """The tutorial's registry steps, each run as the real CLI command and checked."""
    node1 = dev_account(NODE_ACCOUNTS[1]).address
    emsp = dev_account(EMSP_ACCOUNT)
    steps: list[tuple[str, list[str], dict[str, str], str]] = [
        ("Look up node 1 by its operator wallet", ["get-node", node1], {}, "http://localhost:"),
        (
            "List the eMSP DE MSP in the registry, linked to node 1",
            ["set-party", "-c", "DE", "MSP", "-r", "EMSP", "-o", node1.lower()],
            {"SIGNER": "0x" + emsp.key.hex().removeprefix("0x")},
            "mined in block",
        ),
        (
            "Look the party up by its SCPI credentials",
            ["get-party", "-c", "DE", "MSP"],
            {},
            emsp.address,
        ),
        ("Look the party up by its wallet", ["get-party", "-a", emsp.address], {}, "DE MSP"),
    ]
    env = {**os.environ, "SCN_RPC_URL": rpc_url, "SCN_REGISTRY_ADDRESS": registry}
    for number, (title, args, extra_env, expect) in enumerate(steps, 1):
        shown = " ".join(f"{k}={v[:10]}…" for k, v in extra_env.items())
        click.secho(f"[{number}/{len(steps)}] {title}", bold=True)
        click.echo(f"  $ {shown + ' ' if shown else ''}scn-registry {shlex.join(args)}")
        result = subprocess.run(
            [sys.executable, "-m", "registry_cli", *args],
            env={**env, **extra_env},
            capture_output=True,
            text=True,
            check=False,
        )
        for line in (result.stderr + result.stdout).splitlines():
            click.echo(f"    {line}")
        if result.returncode != 0 or expect not in result.stdout:
            raise click.ClickException(f"step {number} did not give the expected result")
    click.secho("tour complete: every step checked", fg="green")


def main(args: list[str] | None = None) -> None:
    cli(args, prog_name="scn-devnet")
