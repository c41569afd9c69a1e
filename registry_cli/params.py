"""The CLI's parameters: what each option and argument accepts, how it is checked, and the option
sets several commands share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import click
from eth_utils.address import (
    is_address,
    is_checksum_address,
    is_checksum_formatted_address,
    to_checksum_address,
)

from registry_cli.session import Session
from scn_node.registry.listings import REGISTRY_MODULES, REGISTRY_ROLES
from scn_node.scpi.party import InvalidPartyId, PartyId
from scn_node.scpi.services import ServicePermission

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


class GreedyOption(click.Option):
    """`-r CPO EMSP`: takes every value up to the next option, as the OCN CLI did.

    It reaches into click's parser (`_long_opt`, `_short_opt`), which click does not promise to
    keep; tests/registry_cli/test_options.py and test_parties.py pin the behaviour."""

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        for name in self.opts:
            option = parser._long_opt.get(name) or parser._short_opt.get(name)
            if option is None:
                continue
            process = option.process

            def greedy(value: Any, state: Any, process: Any = process) -> None:
                process(value, state)
                while state.rargs and not state.rargs[0].startswith("-"):
                    process(state.rargs.pop(0), state)

            option.process = greedy


# ---------------------------------------------------------------------- checks (click callbacks)


def address(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    if not is_address(value) or (
        is_checksum_formatted_address(value) and not is_checksum_address(value)
    ):
        raise click.BadParameter(f"{value!r} is not an Ethereum address (0x + 40 hex digits)")
    return to_checksum_address(value)


def node_url(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"{value!r} is not an http(s) URL")
    # The registry stores it verbatim and nodes compare it, so store one spelling only.
    return value.strip().rstrip("/")


def party_id(
    _ctx: click.Context, _param: click.Parameter, value: tuple[str, str] | None
) -> PartyId | None:
    if not value:
        return None
    try:
        return PartyId.parse(*value)
    except InvalidPartyId as error:
        raise click.BadParameter(str(error)) from None


def choices(kind: str, allowed: tuple[Any, ...]) -> Callable[..., list[Any]]:
    """Names from `allowed` in any case, as separate values or comma-separated, each once."""
    names = {str(m).upper(): m for m in allowed}

    def convert(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> list[Any]:
        chosen: list[Any] = []
        for item in (v for raw in value for v in raw.split(",") if v):
            if item.upper() not in names:
                raise click.BadParameter(
                    f"unknown {kind} {item!r}; choose from {', '.join(map(str, allowed))}"
                )
            if names[item.upper()] not in chosen:
                chosen.append(names[item.upper()])
        return chosen

    return convert


def permission_list(
    _ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]
) -> list[ServicePermission]:
    """Permission names (any case) or ids, as separate values or comma-separated."""
    chosen: list[ServicePermission] = []
    for item in (v.strip() for raw in value for v in raw.split(",") if v.strip()):
        key = item.upper()
        if key.isdigit() and int(key) in ServicePermission._value2member_map_:
            permission = ServicePermission(int(key))
        elif key in ServicePermission.__members__:
            permission = ServicePermission[key]
        else:
            raise click.BadParameter(
                f"unknown permission {item!r}; choose from "
                f"{', '.join(p.name for p in ServicePermission)} or their ids 0 to "
                f"{max(ServicePermission).value}"
            )
        if permission not in chosen:
            chosen.append(permission)
    return chosen


def service_name(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    name = value.strip()
    if not 1 <= len(name.encode()) <= 64:
        raise click.BadParameter("a service name is 1 to 64 bytes")
    return name


def service_url(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url.encode()) > 253:
        raise click.BadParameter(f"{value!r} is not an http(s) URL of at most 253 bytes")
    return url


def exactly_one(party: PartyId | None, address: str | None) -> None:
    if (party is None) == (address is None):
        raise click.UsageError("give exactly one of -c/--credentials CC PID or -a/--address")


# ---------------------------------------------------------------------- parameter sets


def no_params(command: Callable[..., Any]) -> Callable[..., Any]:
    return command


def address_argument(name: str) -> Decorator:
    return click.argument(name, callback=address)


def url_argument(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.argument("url", callback=node_url)(command)


def credentials_option(*, required: bool) -> Decorator:
    return click.option(
        "-c",
        "--credentials",
        "party",
        nargs=2,
        required=required,
        metavar="CC PID",
        callback=party_id,
        help="SCPI country code and party id, e.g. DE MSP",
    )


def lookup_options(who: str) -> Decorator:
    """-c CC PID or -a ADDRESS: the two ways to name a party to look up."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(
            "-a", "--address", callback=address, help=f"the {who}'s wallet address"
        )(command)
        return credentials_option(required=False)(command)

    return decorate


def party_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "-o",
        "--operator",
        required=True,
        callback=address,
        help="wallet address of the node operator the party uses",
    )(command)
    command = click.option(
        "-r",
        "--roles",
        cls=GreedyOption,
        multiple=True,
        required=True,
        callback=choices("role", REGISTRY_ROLES),
        metavar="ROLE [ROLE…]",
        help="CPO EMSP HUB NAP NSP OTHER SCSP",
    )(command)
    return credentials_option(required=True)(command)


def module_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for flag, short in (("--receiver-interface", "--ri"), ("--sender-interface", "--si")):
        command = click.option(
            flag,
            short,
            cls=GreedyOption,
            multiple=True,
            callback=choices("module", REGISTRY_MODULES),
            metavar="MODULE [MODULE…]",
            help="modules the party implements for this interface; none clears them",
        )(command)
    return command


def service_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "-p",
        "--permission",
        "permissions",
        cls=GreedyOption,
        multiple=True,
        required=True,
        callback=permission_list,
        metavar="PERMISSION [PERMISSION…]",
        help="what the service gets copies of: FORWARD_ALL, FORWARD_MODULE_CDRS_SENDER, … or ids",
    )(command)
    command = click.option(
        "--url", required=True, callback=service_url, help="where users learn about the service"
    )(command)
    return click.option("--name", required=True, callback=service_name, help="the service's name")(
        command
    )


def _key_override(attribute: str) -> Callable[..., None]:
    """A subcommand's -s/-x replaces the group's (or the environment's) key for this command."""

    def override(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value is not None:
            setattr(ctx.find_object(Session), attribute, value)

    return override


def key_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """-s/--signer and -x/--spender after the subcommand too (`set-node URL -s KEY`), as the OCN
    CLI took them. No envvar here: SIGNER and SPENDER are read once, by the group."""
    command = click.option(
        "-x",
        "--spender",
        metavar="KEY",
        expose_value=False,
        callback=_key_override("spender_key"),
        help="private key that pays for signed calls [default: the group's -x, env SPENDER]",
    )(command)
    return click.option(
        "-s",
        "--signer",
        metavar="KEY",
        expose_value=False,
        callback=_key_override("signer_key"),
        help="private key of the data owner [default: the group's -s, env SIGNER]",
    )(command)
