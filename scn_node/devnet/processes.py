"""Stop what a test, the devnet or a benchmark started, and everything that started: SIGTERM,
then SIGKILL to the group.

Tests start programs with `start_new_session=True`, so each program and its children (ganache,
the nodes) form one process group that a test can clear even if the program hangs or dies first.
SIGTERM, not SIGINT: a background job of a non-interactive shell runs with SIGINT ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from typing import Any

STOP_TIMEOUT = 30.0


def _kill_group(pid: int) -> None:
    # Only a group the program leads: never the test run's own group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
            return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _group_leftovers(pid: int) -> None:
    """Children a program left in its group after it exited (it may already be reaped)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def stop(process: subprocess.Popen[Any], timeout: float = STOP_TIMEOUT) -> int:
    """SIGTERM the program, SIGKILL its group after `timeout`; its exit code (-9 if killed)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            process.wait()
    _group_leftovers(process.pid)
    return process.returncode


async def stop_async(process: asyncio.subprocess.Process, grace: float = STOP_TIMEOUT) -> int:
    """`stop` for a program started with asyncio.create_subprocess_exec."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            _kill_group(process.pid)
            await process.wait()
    _group_leftovers(process.pid)
    assert process.returncode is not None
    return process.returncode


def run(args: list[str], timeout: float, **options: Any) -> subprocess.CompletedProcess[str]:
    """subprocess.run in its own group; on a timeout (or Ctrl-C) the whole group is stopped."""
    process = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **options,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        stop(process)
    return subprocess.CompletedProcess(args, process.returncode, out, err)
