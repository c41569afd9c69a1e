"""The ACTIONS table that makes every transaction command and its `sign …` twin."""

from __future__ import annotations

import dataclasses

import click
import pytest

from registry_cli.actions import ACTIONS
from registry_cli.cli import cli
from scn_node.registry import PermissionsContract, RegistryContract


def command_at(path: list[str]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group), path
        command = command.commands[name]
    return command


def test_every_action_either_contract_checks_has_exactly_one_signed_row() -> None:
    signed = [a.signed.type for a in ACTIONS if a.signed is not None]
    assert sorted(signed) == sorted(RegistryContract.ACTIONS | PermissionsContract.ACTIONS)
    for action in ACTIONS:
        if action.signed is not None:
            assert action.signed.type in action.contract.ACTIONS, action.label


def test_every_row_is_a_command_and_every_signed_row_a_sign_command() -> None:
    commands = {a.label for a in ACTIONS}
    twins = {a.name for a in ACTIONS if a.signed is not None}
    assert commands <= {
        *cli.commands,
        *(f"admin {name}" for name in command_at(["admin"]).commands),  # type: ignore[attr-defined]
    }
    assert twins == set(command_at(["sign"]).commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("label", "path"),
    [
        *[(a.label, a.label.split()) for a in ACTIONS],
        *[(a.label, ["sign", a.name]) for a in ACTIONS if a.signed is not None],
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_a_commands_parameters_are_exactly_its_rows_arguments(label: str, path: list[str]) -> None:
    """What click parses is what the row's `send` and `fields` read, for every command made."""
    action = next(a for a in ACTIONS if a.label == label)
    exposed = {p.name for p in command_at(path).params if p.expose_value}
    assert exposed == {f.name for f in dataclasses.fields(action.arguments)}
