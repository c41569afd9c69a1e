"""`scn-devnet up` names the real cause of a failure in one line, and starts again on its workdir."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scn_node.devnet.chain import free_port, port_in_use
from tests.process_stop import run

OPTIONS = ("--chain-port", "--node-port", "--node2-port", "--cpo-port", "--cpx-port", "--emsp-port")


def up(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> tuple[int, str, str]:
    done = run(
        [sys.executable, "-c", "from scn_node.devnet.cli import main; main()", "up", *args],
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    return done.returncode, done.stdout, done.stderr


def free_ports() -> dict[str, int]:
    return {option: free_port() for option in OPTIONS}


def arguments(ports: dict[str, int], *more: str) -> list[str]:
    return [*(str(part) for item in ports.items() for part in item), *more]


@pytest.fixture
def listening() -> Iterator[int]:
    """A port something already listens on, as a first `scn-devnet up` would."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.mark.parametrize("option", ["--chain-port", "--node2-port", "--emsp-port"])
def test_a_busy_port_is_named_with_its_option(option: str, listening: int) -> None:
    ports = {**free_ports(), option: listening}
    code, out, err = up(*arguments(ports))
    assert (code, out, err) == (2, "", f"scn-devnet: port {listening} ({option}) is in use\n")


def test_a_port_given_twice_is_refused() -> None:
    ports = free_ports()
    ports["--cpo-port"] = ports["--node-port"]
    code, out, err = up(*arguments(ports))
    port = ports["--node-port"]
    assert (code, out, err) == (
        2,
        "",
        f"scn-devnet: port {port} is given to both --node-port and --cpo-port\n",
    )


def test_ganache_that_does_not_start_is_one_line(tmp_path: Path) -> None:
    ports = free_ports()
    code, out, err = up(*arguments(ports), env={"SCN_GANACHE": "/bin/false"}, timeout=60)
    assert code == 1
    chain = ports["--chain-port"]
    assert err == (f"scn-devnet: ganache exited with code 1 (is port {chain} already in use?)\n")
    assert "Traceback" not in out


@pytest.mark.ganache
def test_a_node_that_does_not_start_is_one_line(tmp_path: Path) -> None:
    ports = free_ports()
    # A setting the devnet leaves to the environment, made invalid: the node refuses to start.
    code, out, err = up(
        *arguments(ports, "--workdir", str(tmp_path)), env={"SCN_PARTY_TIMEOUT": "soon"}
    )
    assert code == 1, out + err
    assert err == (
        f"scn-devnet: node 1 did not start (no output); see {tmp_path / 'node1.log'}\n"
    ), err
    assert "Traceback" not in out
    assert out.endswith("stopped ganache\n")
    assert "SCN_PARTY_TIMEOUT" in (tmp_path / "node1.log").read_text()
    assert not port_in_use(ports["--chain-port"])


@pytest.mark.ganache
def test_up_starts_again_on_the_same_workdir(tmp_path: Path) -> None:
    """The chain is new each run, so the nodes' databases are too (no "already connected")."""
    for attempt in (1, 2):
        code, out, err = up(*arguments(free_ports(), "--workdir", str(tmp_path), "--exit"))
        assert code == 0, f"attempt {attempt}:\n{out}{err}"
        assert "CPO  DE CPO" in out and "CPO  NL CPX" in out and "Traceback" not in err
    assert f"new databases in {tmp_path}: removed node1.db, node2.db (the chain is new too)" in out
    assert out.endswith("stopped the nodes\nstopped ganache\n")
