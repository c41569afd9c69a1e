"""Looking services and agreements up. (set-service, delete-service, agree and revoke are rows of
the ACTIONS table.)"""

from __future__ import annotations

import click

from registry_cli import params
from registry_cli.session import Session, pass_session
from scn_node.registry import PermissionsContract, Service
from scn_node.scpi.party import PartyId


@click.command("get-service")
@click.argument("address", callback=params.address)
@pass_session
def get_service(session: Session, address: str) -> None:
    """Show the service of provider ADDRESS."""
    session.output.service(session.run_permissions(lambda p: p.get_service(address)))


@click.command("list-services")
@pass_session
def list_services(session: Session) -> None:
    """List every service whose provider is listed in the registry."""
    session.output.services(
        session.run_permissions(lambda p: p.list_services()), "No services listed."
    )


@click.command("list-agreements")
@params.lookup_options("user party")
@pass_session
def list_agreements(session: Session, party: PartyId | None, address: str | None) -> None:
    """List the services a party agreed to, by -c CC PID or by -a ADDRESS."""
    params.exactly_one(party, address)

    async def by_address(p: PermissionsContract) -> list[Service]:
        assert address is not None
        services = [await p.get_service(provider) for provider in await p.agreements_of(address)]
        return [s for s in services if s is not None]

    async def by_credentials(p: PermissionsContract) -> list[Service]:
        assert party is not None
        return list(await p.services_of(party))

    services = session.run_permissions(by_credentials if party else by_address)
    session.output.services(services, "No agreements.")


COMMANDS = (get_service, list_services, list_agreements)
