"""scn-registry: list and look up SCN nodes and parties in the SCN Registry, and services and
their users' agreements in SCN Permissions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import (
    is_address,
    is_checksum_address,
    is_checksum_formatted_address,
    to_checksum_address,
)
from web3 import AsyncHTTPProvider, AsyncWeb3

from registry_cli.output import Output, plain_error
from scn_node.registry import (
    InvalidAuthorisation,
    RegistryContract,
    RegistryError,
    SignedAction,
    TransactionReceipt,
)
from scn_node.registry.contract import ScnContract
from scn_node.registry.listings import (
    REGISTRY_MODULES,
    REGISTRY_ROLES,
    ServiceListing,
    module_indices,
    permission_mask,
    role_indices,
)
from scn_node.registry.networks import UnknownNetwork, network
from scn_node.registry.permissions import PermissionsContract
from scn_node.registry.signing import PERMISSIONS_ACTIONS
from scn_node.scpi.party import InvalidPartyId, ModuleId, PartyId, Role
from scn_node.scpi.services import ServicePermission

T = TypeVar("T")
C = TypeVar("C", bound=ScnContract)
Web3Factory = Callable[[str], AsyncWeb3[Any]]
# A RegistryContract or PermissionsContract transaction method, called as (contract, signer, …).
Send = Callable[..., Coroutine[Any, Any, TransactionReceipt]]


def http_web3(rpc_url: str) -> AsyncWeb3[Any]:
    return AsyncWeb3(AsyncHTTPProvider(rpc_url, request_kwargs={"timeout": 30}))


@dataclass
class Session:
    """What the global options resolved to; `make_web3` is replaceable so tests can use any chain."""

    rpc_url: str
    registry: str
    permissions: str | None
    signer_key: str | None
    spender_key: str | None
    output: Output
    make_web3: Web3Factory

    def signer(self) -> LocalAccount:
        return _account(self.signer_key, "signer", "-s/--signer or SIGNER")

    def spender(self) -> LocalAccount:
        return _account(self.spender_key, "spender", "-x/--spender or SPENDER")

    def run(self, work: Callable[[RegistryContract], Coroutine[Any, Any, T]]) -> T:
        async def registry(w3: AsyncWeb3[Any]) -> RegistryContract:
            contract = RegistryContract(w3, self.registry)
            await contract.verify()
            return contract

        return self._run(registry, work)

    def run_permissions(self, work: Callable[[PermissionsContract], Coroutine[Any, Any, T]]) -> T:
        """Run `work` on the permissions contract, once it is known to read this registry."""
        if self.permissions is None:
            raise click.UsageError(
                "no permissions contract on this network: pass --permissions or "
                "SCN_PERMISSIONS_ADDRESS"
            )
        address = self.permissions

        async def permissions(w3: AsyncWeb3[Any]) -> PermissionsContract:
            contract = PermissionsContract(w3, address)
            await contract.verify()
            reads = await contract.registry_address()
            if reads != to_checksum_address(self.registry):
                raise RegistryError(
                    f"the permissions contract at {contract.address} reads the registry at "
                    f"{reads}, not {self.registry}"
                )
            return contract

        return self._run(permissions, work)

    def _run(
        self,
        open_contract: Callable[[AsyncWeb3[Any]], Awaitable[C]],
        work: Callable[[C], Coroutine[Any, Any, T]],
    ) -> T:
        async def session() -> T:
            w3 = self.make_web3(self.rpc_url)
            try:
                try:
                    contract = await open_contract(w3)
                except RegistryError as error:
                    raise click.ClickException(
                        f"{plain_error(error)} (RPC {self.rpc_url})"
                    ) from None
                try:
                    return await work(contract)
                except RegistryError as error:
                    raise click.ClickException(plain_error(error)) from None
            finally:
                await w3.provider.disconnect()

        return asyncio.run(session())

    def run_for(self, action: str, work: Callable[[ScnContract], Coroutine[Any, Any, T]]) -> T:
        """Run `work` on the contract that checks signed `action`s (an EIP-712 type name)."""
        return (self.run_permissions if action in PERMISSIONS_ACTIONS else self.run)(work)

    def transact(self, label: str, send: Send, *args: Any, signer_as: str, **shown: Any) -> None:
        """Send one registry transaction signed by SIGNER, showing progress, then the receipt
        with SIGNER's address `signer_as` and `shown`. `send` is a RegistryContract method,
        called with the signer, then `args`."""
        self._transact(self.run, label, send, args, signer_as, shown)

    def transact_permissions(
        self, label: str, send: Send, *args: Any, signer_as: str, **shown: Any
    ) -> None:
        """`transact` with a PermissionsContract method."""
        self._transact(self.run_permissions, label, send, args, signer_as, shown)

    def _transact(
        self,
        run: Callable[
            [Callable[[Any], Coroutine[Any, Any, TransactionReceipt]]], TransactionReceipt
        ],
        label: str,
        send: Send,
        args: tuple[Any, ...],
        signer_as: str,
        shown: dict[str, Any],
    ) -> None:
        signer = self.signer()
        receipt = run(
            lambda contract: send(contract, signer, *args, on_sent=self.output.sent(label))
        )
        self.output.receipt(label, receipt, **{signer_as: signer.address}, **shown)


def _account(key: str | None, who: str, where: str) -> LocalAccount:
    if not key:
        raise click.UsageError(f"no {who} key: pass {where}")
    try:
        account: LocalAccount = Account.from_key(key)
    except (ValueError, TypeError):
        raise click.UsageError(f"the {who} key is not a 32-byte hex private key") from None
    return account


class GreedyOption(click.Option):
    """`-r CPO EMSP`: takes every value up to the next option, as the OCN CLI did."""

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


def _address(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    if not is_address(value) or (
        is_checksum_formatted_address(value) and not is_checksum_address(value)
    ):
        raise click.BadParameter(f"{value!r} is not an Ethereum address (0x + 40 hex digits)")
    return to_checksum_address(value)


def _url(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"{value!r} is not an http(s) URL")
    # The registry stores it verbatim and nodes compare it, so store one spelling only.
    return value.strip().rstrip("/")


def _party(_ctx: click.Context, _param: click.Parameter, value: tuple[str, str] | None) -> Any:
    if not value:
        return None
    try:
        return PartyId.parse(*value)
    except InvalidPartyId as error:
        raise click.BadParameter(str(error)) from None


def _choices(kind: str, allowed: tuple[Any, ...]) -> Callable[..., Any]:
    names = {str(m).upper(): m for m in allowed}

    def convert(_ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> list[Any]:
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


def _permission_list(
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


def _service_name(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    name = value.strip()
    if not 1 <= len(name.encode()) <= 64:
        raise click.BadParameter("a service name is 1 to 64 bytes")
    return name


def _service_url(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url.encode()) > 253:
        raise click.BadParameter(f"{value!r} is not an http(s) URL of at most 253 bytes")
    return url


def service_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "-p",
        "--permission",
        "permissions",
        cls=GreedyOption,
        multiple=True,
        required=True,
        callback=_permission_list,
        metavar="PERMISSION [PERMISSION…]",
        help="what the service gets copies of: FORWARD_ALL, FORWARD_MODULE_CDRS_SENDER, … or ids",
    )(command)
    command = click.option(
        "--url", required=True, callback=_service_url, help="where users learn about the service"
    )(command)
    return click.option("--name", required=True, callback=_service_name, help="the service's name")(
        command
    )


def credentials_option(*, required: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "-c",
        "--credentials",
        "party",
        nargs=2,
        required=required,
        metavar="CC PID",
        callback=_party,
        help="SCPI country code and party id, e.g. DE MSP",
    )


def lookup_options(who: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """-c CC PID or -a ADDRESS: the two ways to name a party to look up."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(
            "-a", "--address", callback=_address, help=f"the {who}'s wallet address"
        )(command)
        return credentials_option(required=False)(command)

    return decorate


def _exactly_one(party: PartyId | None, address: str | None) -> None:
    if (party is None) == (address is None):
        raise click.UsageError("give exactly one of -c/--credentials CC PID or -a/--address")


def party_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "-o",
        "--operator",
        required=True,
        callback=_address,
        help="wallet address of the node operator the party uses",
    )(command)
    command = click.option(
        "-r",
        "--roles",
        cls=GreedyOption,
        multiple=True,
        required=True,
        callback=_choices("role", REGISTRY_ROLES),
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
            callback=_choices("module", REGISTRY_MODULES),
            metavar="MODULE [MODULE…]",
            help="modules the party implements for this interface; none clears them",
        )(command)
    return command


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


@click.group()
@click.option("-n", "--network", "network_name", default="local", show_default=True)
@click.option(
    "--networks-file",
    envvar="SCN_NETWORKS_FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file of extra networks: {name: {rpc_url, registry}}",
)
@click.option("--rpc-url", envvar="SCN_RPC_URL", help="overrides the network's RPC URL")
@click.option(
    "--registry", envvar="SCN_REGISTRY_ADDRESS", callback=_address, help="registry contract address"
)
@click.option(
    "--permissions",
    envvar="SCN_PERMISSIONS_ADDRESS",
    callback=_address,
    help="permissions contract address (services and agreements)",
)
@click.option("-s", "--signer", envvar="SIGNER", help="private key of the data owner [env SIGNER]")
@click.option(
    "-x", "--spender", envvar="SPENDER", help="private key that pays for signed calls [env SPENDER]"
)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def cli(
    ctx: click.Context,
    network_name: str,
    networks_file: Path | None,
    rpc_url: str | None,
    registry: str | None,
    permissions: str | None,
    signer: str | None,
    spender: str | None,
    as_json: bool,
) -> None:
    """List and look up Smart Charging Network nodes and parties in the SCN Registry, and
    services and agreements in SCN Permissions."""
    try:
        chosen = network(network_name, networks_file)
    except UnknownNetwork as error:
        raise click.UsageError(str(error)) from None
    make_web3 = (ctx.obj or {}).get("make_web3", http_web3)
    # The network's permissions contract reads the network's registry, not another one.
    if permissions is None and registry in (None, to_checksum_address(chosen.registry)):
        permissions = chosen.permissions
    ctx.obj = Session(
        rpc_url or chosen.rpc_url,
        registry or chosen.registry,
        permissions,
        signer,
        spender,
        Output(as_json),
        make_web3,
    )


pass_session = click.make_pass_decorator(Session)


# ---------------------------------------------------------------------- nodes


@cli.command("set-node")
@key_options
@click.argument("url", callback=_url)
@pass_session
def set_node(session: Session, url: str) -> None:
    """List (or change) the signer's node at URL."""
    session.transact("set-node", RegistryContract.set_node, url, signer_as="operator", url=url)


@cli.command("get-node")
@click.argument("address", callback=_address)
@pass_session
def get_node(session: Session, address: str) -> None:
    """Show the URL of the node run by operator ADDRESS."""
    session.output.node(session.run(lambda r: r.get_node(address)), address)


@cli.command("delete-node")
@key_options
@pass_session
def delete_node(session: Session) -> None:
    """Remove the signer's node from the registry."""
    session.transact("delete-node", RegistryContract.delete_node, signer_as="operator")


@cli.command("list-nodes")
@pass_session
def list_nodes(session: Session) -> None:
    """List every node in the registry."""
    session.output.nodes(session.run(lambda r: r.list_nodes()))


# ---------------------------------------------------------------------- parties


@cli.command("set-party")
@key_options
@party_options
@pass_session
def set_party(session: Session, party: PartyId, roles: list[Role], operator: str) -> None:
    """List (or update) the signer as an SCPI party using OPERATOR's node."""
    session.transact(
        "set-party", RegistryContract.set_party, party, roles, operator, signer_as="party"
    )


@cli.command("get-party")
@lookup_options("party")
@pass_session
def get_party(session: Session, party: PartyId | None, address: str | None) -> None:
    """Look a party up by -c CC PID or by -a ADDRESS."""
    _exactly_one(party, address)
    if party is not None:
        not_listed = f"SCPI party {party} is not listed in the registry"
        session.output.party(session.run(lambda r: r.get_party(party)), not_listed)
    else:
        assert address is not None
        listing = session.run(lambda r: r.get_party_by_address(address))
        session.output.party(listing, f"no SCPI party is listed in the registry for {address}")


@cli.command("set-party-modules")
@key_options
@module_options
@pass_session
def set_party_modules(
    session: Session, sender_interface: list[ModuleId], receiver_interface: list[ModuleId]
) -> None:
    """Declare the SCPI modules the signer's party implements."""
    session.transact(
        "set-party-modules",
        RegistryContract.set_party_modules,
        sender_interface,
        receiver_interface,
        signer_as="party",
    )


@cli.command("delete-party")
@key_options
@pass_session
def delete_party(session: Session) -> None:
    """Remove the signer's party from the registry."""
    session.transact("delete-party", RegistryContract.delete_party, signer_as="party")


@cli.command("list-parties")
@click.option("-o", "--operator", callback=_address, help="only the parties of this node operator")
@pass_session
def list_parties(session: Session, operator: str | None) -> None:
    """List every party in the registry (or those of one node operator)."""
    session.output.parties(
        session.run(lambda r: r.list_parties_of(operator) if operator else r.list_parties())
    )


# ---------------------------------------------------------------------- services and agreements


@cli.command("set-service")
@key_options
@service_options
@pass_session
def set_service(
    session: Session, name: str, url: str, permissions: list[ServicePermission]
) -> None:
    """Offer (or change) the signer's party's service. Adding permissions lapses its users'
    agreements: they agree again to the wider set."""
    session.transact_permissions(
        "set-service",
        PermissionsContract.set_service,
        name,
        url,
        permissions,
        signer_as="provider",
        permissions=", ".join(p.name for p in sorted(permissions)),
    )


@cli.command("get-service")
@click.argument("address", callback=_address)
@pass_session
def get_service(session: Session, address: str) -> None:
    """Show the service of provider ADDRESS."""
    session.output.service(session.run_permissions(lambda p: p.get_service(address)))


@cli.command("delete-service")
@key_options
@pass_session
def delete_service(session: Session) -> None:
    """Withdraw the signer's service; its users' agreements lapse."""
    session.transact_permissions(
        "delete-service", PermissionsContract.delete_service, signer_as="provider"
    )


@cli.command("list-services")
@pass_session
def list_services(session: Session) -> None:
    """List every service whose provider is listed in the registry."""
    session.output.services(
        session.run_permissions(lambda p: p.list_services()), "No services listed."
    )


@cli.command()
@key_options
@click.argument("provider", callback=_address)
@pass_session
def agree(session: Session, provider: str) -> None:
    """Agree, as the signer's party, to PROVIDER's service: its node then copies the party's
    matching requests to the service."""
    session.transact_permissions(
        "agree", PermissionsContract.agree, provider, signer_as="user", provider=provider
    )


@cli.command()
@key_options
@click.argument("provider", callback=_address)
@pass_session
def revoke(session: Session, provider: str) -> None:
    """Withdraw the signer's agreement to PROVIDER's service, at once."""
    session.transact_permissions(
        "revoke", PermissionsContract.revoke, provider, signer_as="user", provider=provider
    )


@cli.command("list-agreements")
@lookup_options("user party")
@pass_session
def list_agreements(session: Session, party: PartyId | None, address: str | None) -> None:
    """List the services a party agreed to, by -c CC PID or by -a ADDRESS."""
    _exactly_one(party, address)

    async def by_address(p: PermissionsContract) -> list[ServiceListing]:
        assert address is not None
        services = [await p.get_service(provider) for provider in await p.agreements_of(address)]
        return [s for s in services if s is not None]

    async def by_credentials(p: PermissionsContract) -> list[ServiceListing]:
        assert party is not None
        return list(await p.services_of(party))

    services = session.run_permissions(by_credentials if party else by_address)
    session.output.services(services, "No agreements.")


# ---------------------------------------------------------------------- signed on-behalf calls


@cli.group()
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


def _sign(action: str, fields: dict[str, Any]) -> None:
    ctx = click.get_current_context()
    session: Session = ctx.find_object(Session)  # type: ignore[assignment]
    target, valid_for = ctx.meta["sign"]
    signer = session.signer()
    signed = session.run_for(action, lambda c: c.sign(signer, action, fields, valid_for=valid_for))
    if target:
        target.write_text(signed.to_json() + "\n")
        click.echo(f"signed {action} for {signer.address}, written to {target}", err=True)
    else:
        click.echo(signed.to_json())


@sign.command("set-node")
@key_options
@click.argument("url", callback=_url)
def sign_set_node(url: str) -> None:
    """Sign listing the signer's node at URL."""
    _sign("SetNode", {"domain": url})


@sign.command("delete-node")
@key_options
def sign_delete_node() -> None:
    """Sign removing the signer's node."""
    _sign("DeleteNode", {})


@sign.command("set-party")
@key_options
@party_options
def sign_set_party(party: PartyId, roles: list[Role], operator: str) -> None:
    """Sign listing the signer as a party."""
    _sign(
        "SetParty",
        {
            "countryCode": party.country_code,
            "partyId": party.party_id,
            "roles": role_indices(roles),
            "operator": operator,
        },
    )


@sign.command("set-party-modules")
@key_options
@module_options
def sign_set_party_modules(
    sender_interface: list[ModuleId], receiver_interface: list[ModuleId]
) -> None:
    """Sign declaring the signer's party modules."""
    _sign(
        "SetPartyModules",
        {
            "sender": module_indices(sender_interface),
            "receiver": module_indices(receiver_interface),
        },
    )


@sign.command("delete-party")
@key_options
def sign_delete_party() -> None:
    """Sign removing the signer's party."""
    _sign("DeleteParty", {})


@sign.command("set-service")
@key_options
@service_options
def sign_set_service(name: str, url: str, permissions: list[ServicePermission]) -> None:
    """Sign offering the signer's service."""
    _sign("SetService", {"name": name, "url": url, "permissions": permission_mask(permissions)})


@sign.command("delete-service")
@key_options
def sign_delete_service() -> None:
    """Sign withdrawing the signer's service."""
    _sign("DeleteService", {})


@sign.command("agree")
@key_options
@click.argument("provider", callback=_address)
def sign_agree(provider: str) -> None:
    """Sign agreeing to PROVIDER's service."""
    _sign("CreateAgreement", {"provider": provider})


@sign.command("revoke")
@key_options
@click.argument("provider", callback=_address)
def sign_revoke(provider: str) -> None:
    """Sign withdrawing the agreement to PROVIDER's service."""
    _sign("RevokeAgreement", {"provider": provider})


@cli.command()
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

    async def send(contract: ScnContract) -> TransactionReceipt:
        return await contract.submit(spender, signed, on_sent=session.output.sent(label))

    receipt = session.run_for(signed.action, send)
    session.output.receipt(label, receipt, signer=signed.subject, spender=spender.address)


# ---------------------------------------------------------------------- registry admin


@cli.command()
@key_options
@click.option(
    "--at-nonce",
    type=int,
    help="first use up the deployer's nonces to this one (the permissions contract takes the next)",
)
@click.option(
    "--permissions-only",
    is_flag=True,
    help="deploy only a permissions contract, for the registry of --registry or the network",
)
@pass_session
def deploy(session: Session, at_nonce: int | None, permissions_only: bool) -> None:
    """Deploy a new SCN Registry owned by the signer, and SCN Permissions reading it."""
    signer = session.signer()
    output = session.output

    async def work() -> dict[str, tuple[ScnContract, TransactionReceipt]]:
        w3 = session.make_web3(session.rpc_url)
        deployed: dict[str, tuple[ScnContract, TransactionReceipt]] = {}
        permissions_nonce = at_nonce
        try:
            if permissions_only:
                await RegistryContract(w3, session.registry).verify()
                registry = session.registry
            else:
                deployed["registry"] = await RegistryContract.deploy(
                    w3, signer, at_nonce=at_nonce, on_sent=output.sent("deploy")
                )
                registry = deployed["registry"][0].address
                if at_nonce is not None:
                    permissions_nonce = at_nonce + 1
            deployed["permissions"] = await PermissionsContract.deploy(
                w3,
                signer,
                registry,
                at_nonce=permissions_nonce,
                on_sent=output.sent("deploy permissions"),
            )
        finally:
            await w3.provider.disconnect()
        return deployed

    try:
        deployed = asyncio.run(work())
    except RegistryError as error:
        raise click.ClickException(f"{plain_error(error)} (RPC {session.rpc_url})") from None
    permissions, permissions_receipt = deployed["permissions"]
    if permissions_only:
        output.receipt(
            "deploy permissions",
            permissions_receipt,
            permissions=permissions.address,
            registry=session.registry,
        )
        return
    registry, receipt = deployed["registry"]
    output.deploy(
        receipt, permissions_receipt, registry.address, permissions.address, signer.address
    )


@cli.command()
@pass_session
def info(session: Session) -> None:
    """Show the registry's address, chain, owner and how many nodes and parties it lists, and
    the permissions contract with how many services it lists."""

    async def work(r: RegistryContract) -> dict[str, Any]:
        facts = {
            "rpcUrl": session.rpc_url,
            "registry": r.address,
            "chainId": await r.chain_id(),
            "owner": await r.owner(),
            "nodes": await r.node_count(),
            "parties": await r.party_count(),
            "permissions": session.permissions,
            "services": None,
        }
        if session.permissions is not None:
            permissions = PermissionsContract(r.w3, session.permissions)
            # Shown even when wrong: info is where a user finds out what the network holds.
            with contextlib.suppress(RegistryError):
                await permissions.verify()
                if await permissions.registry_address() == r.address:
                    facts["services"] = await permissions.service_count()
        return facts

    facts = session.run(work)
    if session.output.as_json:
        session.output.json(facts)
    else:
        for key, value in facts.items():
            click.echo(f"{key:<11} {'-' if value is None else value}")


@cli.group()
@key_options
def admin() -> None:
    """Owner-only actions."""


@admin.command("delete-node")
@key_options
@click.argument("operator", callback=_address)
@pass_session
def admin_delete_node(session: Session, operator: str) -> None:
    """Remove OPERATOR's node (owner only)."""
    session.transact(
        "admin delete-node",
        RegistryContract.admin_delete_node,
        operator,
        signer_as="owner",
        operator=operator,
    )


@admin.command("delete-party")
@key_options
@credentials_option(required=True)
@pass_session
def admin_delete_party(session: Session, party: PartyId) -> None:
    """Remove a party by CC PID (owner only)."""
    session.transact(
        "admin delete-party",
        RegistryContract.admin_delete_party,
        party,
        signer_as="owner",
        party=str(party),
    )


@admin.command("transfer-ownership")
@key_options
@click.argument("new_owner", callback=_address)
@pass_session
def admin_transfer_ownership(session: Session, new_owner: str) -> None:
    """Offer ownership to NEW_OWNER, who must accept it."""
    session.transact(
        "admin transfer-ownership",
        RegistryContract.transfer_ownership,
        new_owner,
        signer_as="owner",
        pendingOwner=new_owner,
    )


@admin.command("accept-ownership")
@key_options
@pass_session
def admin_accept_ownership(session: Session) -> None:
    """Accept ownership offered to the signer."""
    session.transact("admin accept-ownership", RegistryContract.accept_ownership, signer_as="owner")


def main() -> None:
    cli(prog_name="scn-registry")


if __name__ == "__main__":
    main()
