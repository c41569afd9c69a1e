"""A real ganache chain started by the README's script, and the CLIs as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scn_node.devnet.chain import Ganache, dev_account, free_port
from tests.process_stop import stop

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def chain() -> Iterator[Ganache]:
    """The README's chain script, without its deploy: the tests deploy with the CLI."""
    port = free_port()
    script = subprocess.Popen(
        [sys.executable, str(ROOT / "ganache" / "start.py"), "--port", str(port), "--no-deploy"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own group, so the teardown can clear ganache too
    )
    try:
        assert script.stdout is not None
        # The script prints this line once ganache answers RPC calls.
        for line in script.stdout:
            if "press Ctrl-C to stop" in line:
                break
        assert script.poll() is None, "ganache/start.py exited early"
        yield Ganache(port=port)
    finally:
        code = stop(script)
        script.stdout.close()  # type: ignore[union-attr]
    assert code == 0


def key(index: int) -> str:
    return "0x" + dev_account(index).key.hex().removeprefix("0x")


def scn_registry(chain: Ganache, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "registry_cli", *args],
        env={**os.environ, "SCN_RPC_URL": chain.rpc_url, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
