"""Looking parties up. (set-party, set-party-modules and delete-party are rows of the ACTIONS
table.)"""

from __future__ import annotations

import click

from registry_cli import params
from registry_cli.session import Session, pass_session
from scn_node.scpi.party import PartyId


@click.command("get-party")
@params.lookup_options("party")
@pass_session
def get_party(session: Session, party: PartyId | None, address: str | None) -> None:
    """Look a party up by -c CC PID or by -a ADDRESS."""
    params.exactly_one(party, address)
    if party is not None:
        not_listed = f"SCPI party {party} is not listed in the registry"
        session.output.party(session.run(lambda r: r.get_party(party)), not_listed)
    else:
        assert address is not None
        listing = session.run(lambda r: r.get_party_by_address(address))
        session.output.party(listing, f"no SCPI party is listed in the registry for {address}")


@click.command("list-parties")
@click.option(
    "-o", "--operator", callback=params.address, help="only the parties of this node operator"
)
@pass_session
def list_parties(session: Session, operator: str | None) -> None:
    """List every party in the registry (or those of one node operator)."""
    session.output.parties(
        session.run(lambda r: r.list_parties_of(operator) if operator else r.list_parties())
    )


COMMANDS = (get_party, list_parties)
