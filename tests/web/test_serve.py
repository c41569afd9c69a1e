"""`scn-node serve`: its start-up checks, what a failed start leaves behind, and the server options
it runs the node with. The registry is the in-process one; the node runs on a free port."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from eth_account.signers.local import LocalAccount

from scn_node import cli
from scn_node.registry import RegistryContract
from scn_node.settings import Settings
from tests.node.conftest import NODE_ACCOUNT

DATABASE = "scn-node.db"


def files() -> list[str]:
    """What the node's working directory holds."""
    return sorted(path.name for path in Path().iterdir())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def node_settings(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    registry: RegistryContract,
    accounts: list[LocalAccount],
) -> Settings:
    """The settings of a node started in an empty directory, with the default SQLite database
    (./scn-node.db) and the in-process registry in place of the chain's."""
    monkeypatch.chdir(tmp_path)

    async def connect(*args: object, **kwargs: object) -> RegistryContract:
        return registry

    monkeypatch.setattr(RegistryContract, "connect", staticmethod(connect))
    port = free_port()
    return Settings(
        node_url=f"http://127.0.0.1:{port}",
        port=port,
        private_key="0x" + bytes(accounts[NODE_ACCOUNT].key).hex(),
        permissions_address="",
    )


def serve_until(monkeypatch: pytest.MonkeyPatch, visit: Callable[[], Awaitable[None]]) -> None:
    """Run `visit` once the node listens, then stop the node as Ctrl-C would."""
    monkeypatch.setattr(cli, "stop_signal", visit)


async def test_a_start_refused_by_the_registry_leaves_no_database_file(
    node_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli._serve(node_settings) == 2
    assert files() == []
    hint = f"scn-registry -s <node private key> set-node {node_settings.node_url}"
    assert hint in capsys.readouterr().err


async def test_a_failed_start_keeps_an_existing_database(node_settings: Settings) -> None:
    Path(DATABASE).touch()  # noqa: ASYNC240 (an empty file, before the node starts)
    assert await cli._serve(node_settings) == 2
    assert files() == [DATABASE]


async def test_a_start_that_cannot_listen_removes_the_database_it_made(
    node_settings: Settings,
    registry: RegistryContract,
    accounts: list[LocalAccount],
    capsys: pytest.CaptureFixture[str],
) -> None:
    await registry.set_node(accounts[NODE_ACCOUNT], node_settings.node_url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", node_settings.port))
        taken.listen()
        assert await cli._serve(node_settings) == 2
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err
    assert files() == []


async def test_serve_takes_20_kb_headers_and_logs_no_warnings(
    node_settings: Settings,
    registry: RegistryContract,
    accounts: list[LocalAccount],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await registry.set_node(accounts[NODE_ACCOUNT], node_settings.node_url)
    caplog.set_level(logging.INFO)
    big = {"SCN-Signature": "x" * 20_000, "Authorization": "Token unknown"}
    answers: list[httpx.Response] = []

    async def visit() -> None:
        async with httpx.AsyncClient(base_url=node_settings.node_url) as kept_alive:
            for _ in range(25):
                answers.append(await kept_alive.get("/scpi/versions", headers=big))
        for _ in range(25):
            async with httpx.AsyncClient(base_url=node_settings.node_url) as fresh:
                answers.append(await fresh.get("/scpi/versions", headers=big))

    serve_until(monkeypatch, visit)
    assert await cli._serve(node_settings) == 0
    assert len(answers) == 50
    for answer in answers:
        assert answer.status_code == 401, answer.text
        assert json.loads(answer.content)["status_code"] == 2000
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert DATABASE in files()  # a node that ran keeps its database
