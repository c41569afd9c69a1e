"""The Postman collection, run by newman against `scn-devnet up`, after the tutorial's set-party."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from scn_node.devnet.chain import dev_account, free_port
from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.ganache


def test_newman_runs_the_collection_against_the_devnet(tmp_path: Path) -> None:
    chain, node1, node2, cpo, cpx, emsp = (free_port() for _ in range(6))
    devnet = subprocess.Popen(
        [sys.executable, "-c", "from scn_node.devnet.cli import main; main()", "up",
         "--chain-port", str(chain), "--node-port", str(node1), "--node2-port", str(node2),
         "--cpo-port", str(cpo), "--cpx-port", str(cpx), "--emsp-port", str(emsp), "--result-delay", "0.2",
         "--workdir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output: list[str] = []
    try:
        assert devnet.stdout is not None
        for line in devnet.stdout:  # the readiness line, once everything answers
            output.append(line)
            if "press Ctrl-C to stop" in line:
                break
        assert devnet.poll() is None, "".join(output)
        # The tutorial's registry step for the eMSP, with its SIGNER.
        listed = subprocess.run(
            [sys.executable, "-m", "registry_cli", "--rpc-url", f"http://127.0.0.1:{chain}",
             "set-party", "-c", "DE", "MSP", "-r", "EMSP", "-o", dev_account(14).address],
            env={**os.environ, "SIGNER": "0x" + bytes(dev_account(19).key).hex()},
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        emsp_base = f"http://127.0.0.1:{emsp}/scpi/emsp"
        newman = subprocess.run(
            [str(ROOT / "node_modules" / ".bin" / "newman"), "run",
             str(ROOT / "postman" / "collection.json"),
             "-e", str(ROOT / "postman" / "environment.json"),
             "--env-var", f"NODE_URL=http://localhost:{node1}",
             "--env-var", f"EMSP_VERSIONS_URL={emsp_base}/versions",
             "--env-var", f"EMSP_COMMANDS_URL={emsp_base}/2.2/commands",
             "--reporters", "cli", "--color", "off"],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert newman.returncode == 0, newman.stdout[-4000:] + newman.stderr
        assert "AssertionError" not in newman.stdout
    finally:
        devnet.send_signal(signal.SIGINT)
        rest, _ = devnet.communicate(timeout=60)
        assert devnet.returncode == 0, "".join(output) + rest
        assert "stopped ganache" in rest
