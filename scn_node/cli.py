"""scn-node: run the SCN node and inspect its configuration."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path

import click

from scn_node.platforms_cli import platforms
from scn_node.settings import Settings, SettingsError

log = logging.getLogger("scn_node")


def _settings(config: str | None) -> Settings:
    try:
        return Settings.load(os.environ, config)
    except SettingsError as error:
        for problem in error.problems:
            click.echo(f"configuration: {problem}", err=True)
        sys.exit(2)


@click.group()
def cli() -> None:
    """The Smart Charging Network node."""


cli.add_command(platforms)


@cli.command()
def version() -> None:
    """Print the node's version."""
    from importlib.metadata import version as package_version

    click.echo(package_version("scn-node"))


@cli.command()
@click.option("--config", type=click.Path(dir_okay=False), help="TOML config file (or SCN_CONFIG).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def config(config: str | None, as_json: bool) -> None:
    """Print the effective configuration, secrets masked."""
    settings = _settings(config)
    shown = settings.masked()
    if as_json:
        click.echo(json.dumps(shown, indent=2))
        return
    width = max(len(k) for k in shown)
    for key, value in shown.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if key == "SCN_ALLOW_PRIVATE_URLS":
            text += f" ({settings.private_urls_reason()})"
        click.echo(f"{key.ljust(width)}  {text}")


@cli.command()
@click.option("--config", type=click.Path(dir_okay=False), help="TOML config file (or SCN_CONFIG).")
def migrate(config: str | None) -> None:
    """Upgrade the database's schema to what this node needs (also one made before Alembic)."""
    settings = _settings(config)
    sys.exit(asyncio.run(_migrate(settings)))


async def _migrate(settings: Settings) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from scn_node.store import Database
    from scn_node.store.database import MigrationFailed

    where = settings.masked()["SCN_DATABASE_URL"]
    folder = _missing_sqlite_folder(settings.database_url)
    if folder is not None:
        # Said before connecting: a failed aiosqlite connection's thread outlives the event
        # loop and prints a traceback at exit.
        click.echo(
            f"scn-node: the database at {where} cannot be migrated: "
            f"OperationalError: unable to open database file (no folder {folder})",
            err=True,
        )
        return 1
    database = Database(settings.database_url)
    try:
        before, after = await database.migrate()
    except (SQLAlchemyError, OSError, MigrationFailed) as error:
        cause = getattr(error, "orig", None) or error  # the driver's words, not SQLAlchemy's
        click.echo(
            f"scn-node: the database at {where} cannot be migrated: "
            f"{type(cause).__name__}: {cause}",
            err=True,
        )
        return 1
    finally:
        await database.close()
    click.echo(f"database schema: revision {before or 'none'} -> {after}")
    return 0


def _missing_sqlite_folder(url: str) -> Path | None:
    """The folder an SQLite file URL names, when it does not exist (SQLite makes no folders)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    folder = Path(str(parsed.database)).parent
    return None if folder.is_dir() else folder


@cli.command()
@click.option("--config", type=click.Path(dir_okay=False), help="TOML config file (or SCN_CONFIG).")
def serve(config: str | None) -> None:
    """Run the node until Ctrl-C or SIGTERM."""
    settings = _settings(config)
    from scn_node.log import configure

    configure(settings.log_level, settings.log_format)
    # A background job of a non-interactive shell starts with SIGINT ignored; Ctrl-C and
    # SIGINT must stop the node during start-up too (stop_signal takes over once it serves).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(asyncio.run(_serve(settings)))


async def _serve(settings: Settings) -> int:
    from scn_node.startup import new_sqlite_files

    # The SQLite files a failed start must not leave behind; emptied once the node listens.
    unused = new_sqlite_files(settings.database_url)
    try:
        return 0 if await _start(settings, unused) else 2
    finally:
        for path in unused:
            path.unlink(missing_ok=True)


async def _start(settings: Settings, unused: list[Path]) -> bool:
    """Check, serve until stopped, and say whether the node started at all."""
    from scn_node.app import create_app, node_address
    from scn_node.registry import RegistryContract
    from scn_node.startup import database_problems, registry_problems
    from scn_node.web import server

    if settings.private_key is None:
        click.echo("scn-node: SCN_PRIVATE_KEY is not set; the node needs its wallet key", err=True)
        return False
    address = node_address(settings)
    # Checked by registry_problems, which lets a node with saved registry answers start while
    # the chain is away.
    contract = await RegistryContract.connect(
        settings.rpc_url,
        settings.registry_address,
        rpc_timeout=settings.registry_timeout,
        verify=False,
    )
    try:
        problems, saved = await database_problems(settings)
        if not problems:
            problems = await registry_problems(
                contract, address, settings.node_url, saved_answers=saved
            )
        if problems:
            for problem in problems:
                click.echo(f"scn-node: {problem}", err=True)
            return False
        try:
            runner = await server.start(create_app(settings, contract=contract), settings)
        except OSError as error:
            click.echo(
                f"scn-node: cannot listen on {settings.host}:{settings.port}: {error}", err=True
            )
            return False
        unused.clear()  # the node runs: its database stays, whatever happens next
        try:
            click.echo(
                f"SCN node {settings.node_url} (wallet {address}) is listening on "
                f"{settings.host}:{settings.port}; press Ctrl-C to stop"
            )
            log.info("node %s started", settings.node_url)
            await stop_signal()
            click.echo("scn-node: stopping")
        finally:
            await runner.cleanup()
    finally:
        await contract.close()
    return True


async def stop_signal() -> None:
    """Wait for Ctrl-C or SIGTERM (used by scn-devnet too)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


def main() -> None:
    cli(prog_name="scn-node")
