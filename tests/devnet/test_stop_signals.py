"""Ctrl-C stops the chain script and `scn-devnet up` even when SIGINT came in ignored.

A background job of a non-interactive shell (`scripts/test &` from a script, CI runners) starts
with SIGINT ignored, and Python keeps an inherited SIG_IGN. The programs must set their handlers
themselves, or a SIGINT does nothing and ganache is left running.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scn_node.devnet.chain import free_port, port_in_use
from tests.process_stop import stop

pytestmark = pytest.mark.ganache

ROOT = Path(__file__).resolve().parents[2]


class Output:
    """A program's output lines, read as they come (so a full pipe never blocks it)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._process = process
        self._reader = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._reader.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, within: float) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(line)
            if text in line:
                return
        pytest.fail(f"no {text!r} within {within} s:\n{''.join(self.seen)}")

    def rest(self) -> str:
        """Everything, once the program has exited."""
        self._reader.join(timeout=30)
        assert self._process.stdout is not None
        self._process.stdout.close()
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen)


def start(args: list[str]) -> tuple[subprocess.Popen[str], Output]:
    # exec keeps the ignored SIGINT, as a background job of a non-interactive shell has it.
    process = subprocess.Popen(
        ["bash", "-c", 'trap "" INT; exec "$@"', "bash", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    return process, Output(process)


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_the_chain_script_stops_on_sigint_that_came_in_ignored() -> None:
    port = free_port()
    script, output = start(
        [sys.executable, str(ROOT / "ganache" / "start.py"), "--port", str(port), "--no-deploy"]
    )
    try:
        output.wait_for("press Ctrl-C to stop", within=60)
        ganache = children(script.pid)
        assert ganache and all(alive(pid) for pid in ganache)
        script.send_signal(signal.SIGINT)
        assert script.wait(timeout=30) == 0
        assert not any(alive(pid) for pid in ganache)
        assert not port_in_use(port)
    finally:
        stop(script)
        output.rest()


def test_devnet_up_stops_on_sigint_while_starting(tmp_path: Path) -> None:
    chain_port, node1, node2, cpo, cpx, emsp = (free_port() for _ in range(6))
    devnet, output = start(
        [sys.executable, "-c", "from scn_node.devnet.cli import main; main()", "up",
         "--chain-port", str(chain_port), "--node-port", str(node1), "--node2-port", str(node2),
         "--cpo-port", str(cpo), "--cpx-port", str(cpx), "--emsp-port", str(emsp),
         "--workdir", str(tmp_path)],
    )  # fmt: skip
    try:
        output.wait_for("starting node 1", within=120)
        started = children(devnet.pid)
        devnet.send_signal(signal.SIGINT)
        assert devnet.wait(timeout=60) == 130
    finally:
        stop(devnet)
        shown = output.rest()
    assert "Traceback" not in shown, shown
    assert shown.endswith(
        "stopped ganache\nscn-devnet: interrupted while starting; stopped what had started\n"
    ), shown
    left = [Path(f"/proc/{pid}/cmdline").read_text() for pid in started if alive(pid)]
    assert started and not left, (left, shown)
    assert not any(port_in_use(port) for port in (chain_port, node1))
