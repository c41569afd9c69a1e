"""The Postman collection, run by newman against `scn-devnet up`, after the tutorial's set-party.

It runs any number of times against the same network (its last request disconnects DE MSP
again), checks that the async command results and the CDRs reach the demo eMSP, and stops with a
hint when the credentials POST fails. Its hub scenario folders (GET All via the hub, Broadcast
push, Open routing) run against the network as the tour leaves it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from scn_node.devnet.chain import dev_account, free_port
from tests.e2e.conftest import ROOT
from tests.process_stop import stop

pytestmark = pytest.mark.ganache


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    """`scn-devnet up --tour` (what scripts/demo runs) on free ports: the tour lists and
    registers DE MSP, as a user who ran the demo first has it.

    One network for the module: the collection must run against it again and again."""
    tmp_path = tmp_path_factory.mktemp("devnet")
    ports = dict(
        zip(
            ("chain", "node1", "node2", "cpo", "cpx", "emsp"),
            (free_port() for _ in range(6)),
            strict=True,
        )
    )
    log = tmp_path / "devnet.out"  # a file, not a pipe: a full pipe would block the devnet
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from scn_node.devnet.cli import main; main()", "up",
             "--chain-port", str(ports["chain"]), "--node-port", str(ports["node1"]),
             "--node2-port", str(ports["node2"]), "--cpo-port", str(ports["cpo"]),
             "--cpx-port", str(ports["cpx"]), "--emsp-port", str(ports["emsp"]),
             "--result-delay", "0.2", "--workdir", str(tmp_path / "work"), "--tour"],
            stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while "press Ctrl-C to stop" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)  # polling interval of the readiness check
        listed = subprocess.run(
            [sys.executable, "-m", "registry_cli", "--rpc-url", f"http://127.0.0.1:{ports['chain']}",
             "set-party", "-c", "DE", "MSP", "-r", "EMSP", "-o", dev_account(14).address],
            env={**os.environ, "SIGNER": "0x" + bytes(dev_account(19).key).hex()},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        yield ports
    finally:
        code = stop(process)
    output = log.read_text()
    assert code == 0, output
    assert "stopped ganache" in output and "Traceback" not in output


def newman(ports: dict[str, int], *env: str) -> subprocess.CompletedProcess[str]:
    emsp_base = f"http://localhost:{ports['emsp']}/scpi/emsp"  # the tutorial's spelling
    variables = [
        f"NODE_URL=http://localhost:{ports['node1']}",
        f"EMSP_VERSIONS_URL={emsp_base}/versions",
        f"EMSP_COMMANDS_URL={emsp_base}/2.2/commands",
        *env,
    ]
    return subprocess.run(
        [str(ROOT / "node_modules" / ".bin" / "newman"), "run",
         str(ROOT / "postman" / "collection.json"),
         "-e", str(ROOT / "postman" / "environment.json"),
         *(arg for variable in variables for arg in ("--env-var", variable)),
         "--reporters", "cli", "--color", "off"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_newman_runs_the_collection_twice_against_the_same_devnet(
    devnet: dict[str, int],
) -> None:
    for run in (1, 2):
        result = newman(devnet)
        assert result.returncode == 0, f"run {run}:\n" + result.stdout[-6000:] + result.stderr
        assert "AssertionError" not in result.stdout
        for passed in (
            "DE MSP received the async START_SESSION result ACCEPTED from DE CPO",
            "DE MSP received the async STOP_SESSION result ACCEPTED from NL CPX",
            "DE MSP received the CDR of SESSION-",
            "SCPI status_code 1000: DE MSP is disconnected, TOKEN_C no longer works",
            # The hub's own scenarios: GET All, broadcast push, open routing.
            "GET All: LOC1 of DE CPO (node 1) and of NL CPX (node 2)",
            "GET All: tariffs xxx-123 and xyz-456 of DE CPO and of NL CPX",
            "GET All: X-Total-Count is the sum over the CPOs, and every page was fetched",
            "GET All: page 4 (the Link) answered 1000 FROM DE SCN",  # tariffs, one a page
            "the answer comes FROM the hub, DE SCN, TO DE MSP",
            "DE MSP received DE CPO's EVSE 1234 PATCHes, CHARGING then AVAILABLE, FROM DE SCN",
            "DE MSP received NL CPX's EVSE 1234 PATCHes, CHARGING then AVAILABLE, FROM DE SCN",
            "SCPI status_code 2002: LOC1 is at two CPOs, so the hub cannot choose",
            "SCPI status_code 2001: a GET of a list without SCPI-to-* is refused",
        ):
            assert f"✓  {passed}" in result.stdout, result.stdout[-6000:]


def test_a_failed_credentials_post_stops_the_run_with_a_hint(devnet: dict[str, int]) -> None:
    # The node cannot fetch the eMSP's versions with a wrong TOKEN_B: the handshake fails.
    result = newman(devnet, "EMSP_TOKEN_B=not-the-emsp-token")
    assert result.returncode == 1
    assert (
        "POST Credentials succeeded (the run stops here). Fix: check that scn-devnet up runs"
        in (result.stdout)
    )
    assert "GET Location List" not in result.stdout  # nothing ran after it
    assert "Reset: DELETE Credentials" not in result.stdout
    # The failed attempt left nothing behind: a correct run still passes.
    assert newman(devnet).returncode == 0
