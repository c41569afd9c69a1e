"""scn-node: run the SCN node and inspect its configuration."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys

import click

from scn_node.settings import Settings, SettingsError

SIGNATURE_HEADER_BYTES = 65536
log = logging.getLogger("scn_node")


def _settings(config: str | None) -> Settings:
    try:
        return Settings.load(os.environ, config)
    except SettingsError as error:
        for problem in error.problems:
            click.echo(f"configuration: {problem}", err=True)
        sys.exit(2)


@click.group()
def cli() -> None:
    """The Smart Charging Network node."""


@cli.command()
def version() -> None:
    """Print the node's version."""
    from importlib.metadata import version as package_version

    click.echo(package_version("scn-node"))


@cli.command()
@click.option("--config", type=click.Path(dir_okay=False), help="TOML config file (or SCN_CONFIG).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def config(config: str | None, as_json: bool) -> None:
    """Print the effective configuration, secrets masked."""
    shown = _settings(config).masked()
    if as_json:
        click.echo(json.dumps(shown, indent=2))
        return
    width = max(len(k) for k in shown)
    for key, value in shown.items():
        click.echo(f"{key.ljust(width)}  {value}")


@cli.command()
@click.option("--config", type=click.Path(dir_okay=False), help="TOML config file (or SCN_CONFIG).")
def serve(config: str | None) -> None:
    """Run the node until Ctrl-C or SIGTERM."""
    settings = _settings(config)
    from scn_node.log import configure

    configure(settings.log_level, settings.log_format)
    sys.exit(asyncio.run(_serve(settings)))


async def _serve(settings: Settings) -> int:
    from aiohttp import web

    from scn_node.app import create_app, node_address
    from scn_node.registry import RegistryContract, RegistryError
    from scn_node.startup import database_problems, registry_problems

    if settings.private_key is None:
        click.echo("scn-node: SCN_PRIVATE_KEY is not set; the node needs its wallet key", err=True)
        return 2
    address = node_address(settings)
    try:
        contract = await RegistryContract.connect(
            settings.rpc_url, settings.registry_address, rpc_timeout=settings.registry_timeout
        )
    except RegistryError as error:
        click.echo(
            f"scn-node: cannot use the SCN Registry at {settings.registry_address} "
            f"via {settings.rpc_url}: {error}",
            err=True,
        )
        return 2
    try:
        problems = await registry_problems(contract, address, settings.node_url)
        problems += await database_problems(settings)
        if problems:
            for problem in problems:
                click.echo(f"scn-node: {problem}", err=True)
            return 2
        runner = web.AppRunner(
            create_app(settings, contract=contract),
            access_log=None,
            # A Notary signature of a large body outgrows aiohttp's default 8 KB header line.
            handler_args={"max_field_size": SIGNATURE_HEADER_BYTES},
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, settings.host, settings.port)
            try:
                await site.start()
            except OSError as error:
                click.echo(
                    f"scn-node: cannot listen on {settings.host}:{settings.port}: {error}", err=True
                )
                return 2
            click.echo(
                f"SCN node {settings.node_url} (wallet {address}) is listening on "
                f"{settings.host}:{settings.port}; press Ctrl-C to stop"
            )
            log.info("node %s started", settings.node_url)
            await stop_signal()
            click.echo("scn-node: stopping")
        finally:
            await runner.cleanup()
    finally:
        await contract.close()
    return 0


async def stop_signal() -> None:
    """Wait for Ctrl-C or SIGTERM (used by scn-devnet too)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


def main() -> None:
    cli(prog_name="scn-node")
