"""Looking nodes up. (set-node and delete-node are rows of the ACTIONS table.)"""

from __future__ import annotations

import click

from registry_cli import params
from registry_cli.session import Session, pass_session


@click.command("get-node")
@click.argument("address", callback=params.address)
@pass_session
def get_node(session: Session, address: str) -> None:
    """Show the URL of the node run by operator ADDRESS."""
    session.output.node(session.run(lambda r: r.get_node(address)), address)


@click.command("list-nodes")
@pass_session
def list_nodes(session: Session) -> None:
    """List every node in the registry."""
    session.output.nodes(session.run(lambda r: r.list_nodes()))


COMMANDS = (get_node, list_nodes)
