"""The commands that send a transaction, made from the rows of the ACTIONS table."""

from __future__ import annotations

from typing import Any

import click

from registry_cli.actions import ACTIONS, Action
from registry_cli.params import key_options
from registry_cli.session import Session, pass_session


def transaction_command(action: Action[Any, Any]) -> click.Command:
    @pass_session
    def send(session: Session, /, **values: Any) -> None:
        arguments = action.arguments(**values)
        session.transact(
            action.label,
            action.contract,
            lambda contract, signer, on_sent: action.send(contract, signer, arguments, on_sent),
            signer_as=action.signer_as,
            shown=action.shown(arguments),
        )

    return click.command(action.name, help=action.help)(key_options(action.params(send)))


def transaction_commands(group: str | None) -> list[click.Command]:
    """The commands of `group` (None: the top level) that send a transaction."""
    return [transaction_command(a) for a in ACTIONS if a.group == group]
