"""scn-node: the SCN node's command line (the server arrives with the node core)."""

from __future__ import annotations

import click


@click.group()
def cli() -> None:
    """The Smart Charging Network node."""


@cli.command()
def version() -> None:
    """Print the node's version."""
    from importlib.metadata import version as package_version

    click.echo(package_version("scn-node"))


def main() -> None:
    cli(prog_name="scn-node")
