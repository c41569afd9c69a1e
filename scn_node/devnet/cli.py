"""scn-devnet: the local SCN network of the tutorial, in one command."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import aiohttp
import click
from web3 import AsyncHTTPProvider, AsyncWeb3
from web3.exceptions import Web3Exception

from scn_node.devnet.chain import (
    DEFAULT_PORT,
    MNEMONIC,
    ChainFailed,
    Ganache,
    LocalContracts,
    deploy_contracts,
    dev_account,
    port_in_use,
    stop_on_signals,
    wait_for_stop_signal,
)
from scn_node.devnet.cpo.server import DemoCpo
from scn_node.devnet.emsp import DemoEmsp
from scn_node.devnet.joining import RegistrationFailed
from scn_node.devnet.network import NODE_ACCOUNTS
from scn_node.devnet.nodes import ADMIN_API_KEY, NodeFailed, NodeProcess, remove_databases
from scn_node.devnet.tour import NodeTour, registry_steps, run_tour
from scn_node.registry import RegistryContract
from scn_node.registry.networks import LOCAL_REGISTRY
from scn_node.scpi.party import PartyId

CPO_ACCOUNTS = (1, 3)  # DE CPO and NL CPX list themselves with these keys
EMSP_TOKEN_B = "demo-emsp-token-b"  # noqa: S105 - a public demo value


def node_url(port: int) -> str:
    return f"http://localhost:{port}"


async def list_nodes(rpc_url: str, registry_address: str, ports: dict[int, int]) -> None:
    w3 = AsyncWeb3(AsyncHTTPProvider(rpc_url))
    registry = RegistryContract(w3, registry_address)
    try:
        for number, index in NODE_ACCOUNTS.items():
            account = dev_account(index)
            url = node_url(ports[number])
            listed = await registry.get_node(account.address)
            if listed is None or listed.url != url:
                await registry.set_node(account, url)
    finally:
        await registry.close()


@click.group()
def cli() -> None:
    """The local Smart Charging Network: ganache, the SCN Registry and two nodes."""


@cli.command()
@click.option("--chain-port", default=DEFAULT_PORT, show_default=True, envvar="SCN_CHAIN_PORT")
@click.option("--node-port", default=8080, show_default=True, envvar="SCN_NODE_PORT",
              help="node 1's port")  # fmt: skip
@click.option(
    "--node2-port", type=int, envvar="SCN_NODE2_PORT", help="node 2's port [node 1's + 1]"
)
@click.option("--workdir", type=click.Path(file_okay=False), envvar="SCN_DEVNET_DIR",
              help="where the nodes keep their databases and logs [a new temporary folder]")  # fmt: skip
@click.option("--cpo-port", default=8100, show_default=True, help="the demo CPO DE CPO (node 1)")
@click.option("--cpx-port", default=8101, show_default=True, help="the demo CPO NL CPX (node 2)")
@click.option("--emsp-port", default=8200, show_default=True, help="the demo eMSP DE MSP")
@click.option("--result-delay", default=5.0, show_default=True,
              help="seconds before a demo CPO posts an async command result")  # fmt: skip
@click.option("--admin-key", default=ADMIN_API_KEY, show_default=True, envvar="SCN_ADMIN_API_KEY",
              help="both nodes' admin API key")  # fmt: skip
@click.option("--tour", is_flag=True, help="walk through the tutorial's steps once up")
@click.option("--exit", "exit_when_done", is_flag=True, help="stop everything after the tour")
def up(
    chain_port: int,
    node_port: int,
    node2_port: int | None,
    workdir: str | None,
    cpo_port: int,
    cpx_port: int,
    emsp_port: int,
    result_delay: float,
    admin_key: str,
    tour: bool,
    exit_when_done: bool,
) -> None:
    """Start ganache, deploy the registry, list and start both nodes; Ctrl-C stops it all."""
    stop_on_signals()
    ports = {1: node_port, 2: node2_port or node_port + 1}
    check_ports(
        {
            "--chain-port": chain_port,
            "--node-port": ports[1],
            "--node2-port": ports[2],
            "--cpo-port": cpo_port,
            "--cpx-port": cpx_port,
            "--emsp-port": emsp_port,
        }
    )
    _show_demo_logs()
    folder = Path(workdir or tempfile.mkdtemp(prefix="scn-devnet-"))
    folder.mkdir(parents=True, exist_ok=True)
    removed = remove_databases(folder, tuple(NODE_ACCOUNTS))
    if removed:
        click.echo(
            f"new databases in {folder}: removed {', '.join(removed)} (the chain is new too)"
        )
    chain = Ganache(port=chain_port)
    try:
        with expected_failures():
            click.echo(f"starting ganache on {chain.rpc_url} …")
            chain.start()
            deployed = asyncio.run(deploy_contracts(chain.rpc_url))
            asyncio.run(list_nodes(chain.rpc_url, deployed.registry, ports))
            nodes = [
                NodeProcess(
                    number, dev_account(index), ports[number], chain.rpc_url, deployed.registry,
                    folder, admin_api_key=admin_key, host="localhost", log_format="text",
                    inherit_settings=True,  # a user's SCN_* settings reach the nodes
                )
                for number, index in NODE_ACCOUNTS.items()
            ]  # fmt: skip
            demo = Demo(
                chain.rpc_url,
                deployed.registry,
                (nodes[0].url, nodes[1].url),
                (cpo_port, cpx_port, emsp_port),
                result_delay,
                admin_key,
            )
            show = functools.partial(_show_network, chain, deployed)
            if asyncio.run(run_network(nodes, demo, show, tour=tour, stay_up=not exit_when_done)):
                raise KeyboardInterrupt
    finally:
        # A second Ctrl-C (or SIGTERM) must not cut the teardown short and leave processes behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if chain.process is not None:
            chain.stop()
            click.echo("stopped ganache")


async def run_network(
    nodes: list[NodeProcess],
    demo: Demo,
    show: Callable[[list[NodeProcess]], None],
    *,
    tour: bool,
    stay_up: bool,
) -> bool:
    """Start the nodes, then the demo; stop the nodes again. Whether a Ctrl-C (or SIGTERM)
    interrupted the start: then what had started is stopped and the caller says so."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    interrupted = False

    def interrupt() -> None:
        nonlocal interrupted
        interrupted = True
        main.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, interrupt)  # Demo.run takes them over once up
    started: list[NodeProcess] = []
    try:
        for node in nodes:
            click.echo(f"starting node {node.number} on {node.url} …")
            started.append(node)  # listed first: a Ctrl-C while it starts still stops it
            await node.start()
            if not await node.healthy():
                raise NodeFailed(
                    f"node {node.number} did not answer {node.url}/health; see {node.log_path}"
                )
        show(nodes)
        await demo.run(tour=tour, stay_up=stay_up)
    except asyncio.CancelledError:
        if not interrupted:
            raise
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, lambda: None)  # the teardown runs to its end
        for node in reversed(started):
            await node.stop()
        if started:
            click.echo("stopped the nodes")
    return interrupted


def _show_network(chain: Ganache, deployed: LocalContracts, nodes: list[NodeProcess]) -> None:
    address, gas_used = deployed.registry, deployed.registry_receipt.gas_used
    owner = dev_account(0).address
    click.echo("")
    click.echo("SCN local network")
    click.echo(f"  RPC provider     {chain.rpc_url} (chain id {chain.chain_id})")
    click.echo(f"  mnemonic         {MNEMONIC}")
    click.echo(f"  registry         {address} (owner {owner}, deploy gas {gas_used})")
    click.echo(f"  permissions      {deployed.permissions}")
    for node in nodes:
        click.echo(
            f"  node {node.number}           {node.url}  wallet {node.address}  "
            f"admin API key {node.admin_api_key}  (/health OK; log {node.log_path})"
        )
    if address != LOCAL_REGISTRY:
        click.echo(f"  note: not the usual local address {LOCAL_REGISTRY}")
    click.echo("")


class DevnetFailed(click.ClickException):
    """An expected failure (a busy port, no ganache, a node that does not start, Ctrl-C while
    starting): one plain line on stderr and a non-zero exit, never a traceback."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"scn-devnet: {self.format_message()}", err=True)


class PortUnavailable(DevnetFailed):
    exit_code = 2


class Interrupted(DevnetFailed):
    exit_code = 130  # as a shell reports a Ctrl-C


def check_ports(ports: dict[str, int]) -> None:
    """Refuse at once, naming the option, when a port is taken or given twice (0: any port)."""
    given: dict[int, str] = {}
    for option, port in ports.items():
        if port == 0:
            continue
        if port in given:
            raise PortUnavailable(f"port {port} is given to both {given[port]} and {option}")
        given[port] = option
        try:
            busy = port_in_use(port)
        except OSError as error:
            raise PortUnavailable(
                f"port {port} ({option}) cannot be used: {error.strerror}"
            ) from None
        if busy:
            raise PortUnavailable(f"port {port} ({option}) is in use")


@contextlib.contextmanager
def expected_failures() -> Iterator[None]:
    """Turn the failures a user can cause or meet into one line each; bugs keep their traceback."""
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted("interrupted while starting; stopped what had started") from None
    except (ChainFailed, NodeFailed, RegistrationFailed) as error:
        raise DevnetFailed(str(error).splitlines()[0]) from None
    except (Web3Exception, aiohttp.ClientError, OSError) as error:
        raise DevnetFailed(f"{type(error).__name__}: {error}") from None


@cli.command()
@click.option("--node-url", default="http://localhost:8080", show_default=True)
@click.option("--node2-url", default="http://localhost:8081", show_default=True)
@click.option("--admin-key", default=ADMIN_API_KEY, show_default=True, envvar="SCN_ADMIN_API_KEY")
@click.option("--rpc-url", default=f"http://localhost:{DEFAULT_PORT}", envvar="SCN_RPC_URL")
@click.option("--registry", default=LOCAL_REGISTRY, envvar="SCN_REGISTRY_ADDRESS")
@click.option("--cpo-port", default=8100, show_default=True)
@click.option("--cpx-port", default=8101, show_default=True)
@click.option("--emsp-port", default=8200, show_default=True)
@click.option("--result-delay", default=5.0, show_default=True)
def demo(
    node_url: str,
    node2_url: str,
    admin_key: str,
    rpc_url: str,
    registry: str,
    cpo_port: int,
    cpx_port: int,
    emsp_port: int,
    result_delay: float,
) -> None:
    """Run the demo backoffices against nodes that are already up (docker-compose's demo)."""
    stop_on_signals()
    _show_demo_logs()
    ports = (cpo_port, cpx_port, emsp_port)
    runner = Demo(rpc_url, registry, (node_url, node2_url), ports, result_delay, admin_key)
    with expected_failures():
        asyncio.run(runner.run(tour=False, stay_up=True))


@cli.command()
@click.option("--port", default=DEFAULT_PORT, show_default=True, envvar="SCN_CHAIN_PORT")
@click.option("--no-deploy", is_flag=True, help="leave the chain empty")
def chain(port: int, no_deploy: bool) -> None:
    """Start the local chain alone (ganache and the registry deploy); Ctrl-C stops it."""
    stop_on_signals()
    check_ports({"--port": port})
    with expected_failures(), Ganache(port=port, log=sys.stderr) as ganache:
        click.echo(
            f"ganache on {ganache.rpc_url} (chain id {ganache.chain_id}), mnemonic: {MNEMONIC}"
        )
        if not no_deploy:
            deployed = asyncio.run(deploy_contracts(ganache.rpc_url))
            click.echo(
                f"registry {deployed.registry}, owner {dev_account(0).address}, "
                f"gas {deployed.registry_receipt.gas_used}"
            )
            click.echo(f"permissions {deployed.permissions}")
        # Callers (and the e2e tests) read this line as the readiness signal.
        wait_for_stop_signal(announce="press Ctrl-C to stop")


@cli.command("tour")
@click.option("--rpc-url", default=f"http://localhost:{DEFAULT_PORT}", envvar="SCN_RPC_URL")
@click.option("--registry", default=LOCAL_REGISTRY, envvar="SCN_REGISTRY_ADDRESS")
def tour_command(rpc_url: str, registry: str) -> None:
    """Walk through the tutorial's registry steps against a running local network."""
    run_tour(rpc_url, registry)


class Demo:
    """The demo backoffices on the running nodes, the tour, and the wait for Ctrl-C."""

    def __init__(
        self,
        rpc_url: str,
        registry: str,
        node_urls: tuple[str, str],
        ports: tuple[int, int, int],
        result_delay: float,
        admin_key: str = ADMIN_API_KEY,
    ) -> None:
        self.rpc_url, self.registry_address, self.node_urls = rpc_url, registry, node_urls
        self.ports, self.result_delay, self.admin_key = ports, result_delay, admin_key

    async def run(self, *, tour: bool, stay_up: bool) -> None:
        registry = RegistryContract(
            AsyncWeb3(AsyncHTTPProvider(self.rpc_url)), self.registry_address
        )
        one, two = self.node_urls
        cpos = [
            DemoCpo(PartyId("DE", "CPO"), one, admin_key=self.admin_key,
                    signer=dev_account(CPO_ACCOUNTS[0]), registry=registry,
                    port=self.ports[0], result_delay=self.result_delay),
            DemoCpo(PartyId("NL", "CPX"), two, admin_key=self.admin_key,
                    signer=dev_account(CPO_ACCOUNTS[1]), registry=registry,
                    port=self.ports[1], result_delay=self.result_delay),
        ]  # fmt: skip
        emsp = DemoEmsp(PartyId("DE", "MSP"), one, port=self.ports[2])
        emsp.token_b = EMSP_TOKEN_B  # fixed, so Postman's environment can name it
        parties = [*cpos, emsp]
        try:
            for party in parties:
                await party.start()
            for cpo in cpos:
                await cpo.register()
            click.echo("demo backoffices")
            for cpo in cpos:
                click.echo(
                    f"  CPO  {cpo.party}  {cpo.versions_url}  registered with {cpo.node_url}"
                )
            click.echo(
                f"  eMSP {emsp.party}  {emsp.versions_url}  TOKEN_B {emsp.token_b}  "
                "(not registered: the tutorial's next step)"
            )
            click.echo("")
            if tour:
                node_tour = NodeTour(one, self.admin_key, emsp, cpos)
                # One numbering for both parts: [step n/total].
                first_node_step = len(registry_steps()) + 1
                total = first_node_step - 1 + len(node_tour.steps())
                await asyncio.to_thread(run_tour, self.rpc_url, self.registry_address, total=total)
                await node_tour.run(first=first_node_step, total=total)
            if stay_up:
                # Handlers first, then the readiness line: a signal right after it still stops.
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for signum in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(signum, stop.set)
                click.echo("up; press Ctrl-C to stop")
                await stop.wait()
        finally:
            for party in parties:
                await party.stop()
            await registry.close()


def _show_demo_logs() -> None:
    """The demo backoffices narrate what they do, as the tutorial's demo servers do."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    demo = logging.getLogger("scn_node.devnet.demo")
    demo.addHandler(handler)
    demo.setLevel(logging.INFO)
    demo.propagate = False


def main(args: list[str] | None = None) -> None:
    cli(args, prog_name="scn-devnet")
