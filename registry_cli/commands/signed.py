"""Signed on-behalf calls: `sign …` signs an action offline with SIGNER (its commands are the
ACTIONS table's signed rows), `submit` sends it as SPENDER, who pays the gas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from registry_cli.actions import ACTIONS, Action, Signed
from registry_cli.params import key_options
from registry_cli.session import Session, pass_session
from scn_node.registry import (
    InvalidAuthorisation,
    PermissionsContract,
    RegistryContract,
    SignedAction,
    TransactionReceipt,
)


@click.group()
@key_options
@click.option(
    "-w",
    "--write",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    help="file to write the signed action to (default: stdout)",
)
@click.option(
    "--valid-for", default=3600, show_default=True, help="seconds until the signature expires"
)
@click.pass_context
def sign(ctx: click.Context, target: Path | None, valid_for: int) -> None:
    """Sign an action offline with SIGNER, for a spender to submit with `submit`."""
    ctx.meta["sign"] = (target, valid_for)


def signing_command(action: Action[Any, Any], signed: Signed[Any]) -> click.Command:
    @pass_session
    def sign_action(session: Session, /, **values: Any) -> None:
        target, valid_for = click.get_current_context().meta["sign"]
        fields = signed.fields(action.arguments(**values))
        signer, document = session.sign(action.contract, signed.type, fields, valid_for=valid_for)
        if target:
            target.write_text(document.to_json() + "\n")
            click.echo(f"signed {signed.type} for {signer.address}, written to {target}", err=True)
        else:
            click.echo(document.to_json())

    return click.command(action.name, help=signed.help)(key_options(action.params(sign_action)))


for _action in ACTIONS:
    if _action.signed is not None:
        sign.add_command(signing_command(_action, _action.signed))


@click.command()
@key_options
@click.argument("source", type=click.File("r"))
@pass_session
def submit(session: Session, source: Any) -> None:
    """Send a signed action (a file, or - for stdin) as the spender, who pays the gas."""
    try:
        signed = SignedAction.from_json(source.read())
        signed.verify()
    except InvalidAuthorisation as error:
        raise click.UsageError(str(error)) from None
    spender = session.spender()
    label = f"submit {signed.action}"

    async def send(contract: RegistryContract | PermissionsContract) -> TransactionReceipt:
        return await contract.submit(spender, signed, on_sent=session.output.sent(label))

    if signed.action in PermissionsContract.ACTIONS:
        receipt = session.run_on(PermissionsContract, send)
    else:
        receipt = session.run_on(RegistryContract, send)
    session.output.receipt(label, receipt, signer=signed.subject, spender=spender.address)


COMMANDS = (sign, submit)
