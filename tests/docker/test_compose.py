"""`docker compose up` for real: a Docker engine of our own, the Dockerfile built on a stand-in for
its FROM image (images cannot be pulled here), the whole compose topology up on free ports, the
tour run against it, and everything taken down again.

The engine is Debian's dockerd with its own data root, exec root and socket, and no bridge or
firewall rules (every service uses the host's network), so it touches nothing else on the machine.
If it cannot start, the test fails: scripts/docker-engine installs what is missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from scn_node.devnet.chain import free_port
from tests.process_stop import stop

ROOT = Path(__file__).resolve().parents[2]
ENGINE_SCRIPT = ROOT / "scripts" / "docker-engine"
ADMIN_KEY = "randomkey"  # docker-compose.yml's SCN_ADMIN_API_KEY
ENGINE_START = 60.0
BUILD_TIMEOUT = 900.0  # a first run also makes the stand-in image (debootstrap, about 7 minutes)
NETWORK_UP = 240.0
POLL = 0.5  # the polling interval of the readiness checks below


@dataclass
class Timings:
    start: float = field(default_factory=time.monotonic)
    marks: list[tuple[str, float]] = field(default_factory=list)

    def mark(self, step: str) -> None:
        self.marks.append((step, time.monotonic()))
        print(f"docker test: {step} at {self.marks[-1][1] - self.start:.0f} s", flush=True)


@dataclass
class Engine:
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def host(self) -> str:
        return f"unix://{self.root / 'docker.sock'}"

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": self.host, **extra}

    def log_tail(self, lines: int = 30) -> str:
        text = (self.root / "dockerd.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def run(
    args: list[str], env: dict[str, str], timeout: float, *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        args,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check:
        assert result.returncode == 0, (
            f"{' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


def _unmount_under(root: Path) -> None:
    """Mounts the engine may leave behind if it is killed (overlays, shm), deepest first."""
    with open("/proc/mounts") as mounts:
        points = [line.split()[1] for line in mounts]
    for point in sorted((p for p in points if p.startswith(str(root))), reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    subprocess.run(["bash", str(ENGINE_SCRIPT), "install"], check=True, timeout=600)
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    # Short: a unix socket path has at most 107 bytes.
    root = Path(tempfile.mkdtemp(prefix="scn-dockerd-", dir="/tmp"))
    with open(root / "dockerd.log", "wb") as log:
        process = subprocess.Popen(
            [
                dockerd,
                f"--data-root={root / 'data'}",
                f"--exec-root={root / 'exec'}",
                f"--pidfile={root / 'dockerd.pid'}",
                f"--host=unix://{root / 'docker.sock'}",
                "--bridge=none",
                "--iptables=false",
                "--ip6tables=false",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its group holds containerd too, for the teardown
        )
    engine = Engine(root, process)
    try:
        deadline = time.monotonic() + ENGINE_START
        while run(["docker", "info"], engine.env(), 30, check=False).returncode != 0:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"dockerd did not start:\n{engine.log_tail()}")
            time.sleep(POLL)
        yield engine
    finally:
        # dockerd stops its containers and containerd on SIGTERM; the group is killed after that.
        stop(process, timeout=60)
        _unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)


def compose_command() -> list[str]:
    """Debian 12 has docker-compose v1; the Compose plugin (`docker compose`) where installed."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return ["docker", "compose"]


def network_ports() -> dict[str, str]:
    names = ("CHAIN", "NODE1", "NODE2", "CPO", "CPX", "EMSP")
    return {f"SCN_{name}_PORT": str(free_port()) for name in names}


def connected(client: httpx.Client, node_port: str, country_code: str, party_id: str) -> bool:
    url = f"http://127.0.0.1:{node_port}/admin/connection-status/{country_code}/{party_id}"
    try:
        answer = client.get(url, headers={"Authorization": f"Token {ADMIN_KEY}"})
    except httpx.TransportError:
        return False
    return answer.status_code == 200 and answer.json()["status"] == "CONNECTED"


def registry_failed(engine: Engine, env: dict[str, str]) -> str | None:
    """The one-shot registry service's output, if it exited with an error."""
    compose = compose_command()
    ids = run([*compose, "ps", "-q", "registry"], env, 60, check=False).stdout.split()
    for container in ids:
        state = run(
            ["docker", "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", container],
            engine.env(),
            60,
            check=False,
        ).stdout.split()
        if state[:1] == ["exited"] and state[1:] != ["0"]:
            return run([*compose, "logs", "registry"], env, 60, check=False).stdout
    return None


def test_compose_up_runs_the_tutorial_network_and_the_tour(engine: Engine) -> None:
    timings = Timings()
    run(["bash", str(ENGINE_SCRIPT), "base-image"], engine.env(), BUILD_TIMEOUT)
    timings.mark("stand-in base image ready")

    ports = network_ports()
    env = engine.env(COMPOSE_PROJECT_NAME=f"scntest{uuid.uuid4().hex[:8]}", **ports)
    compose = compose_command()
    run([*compose, "build"], env, BUILD_TIMEOUT)
    timings.mark("image built from the Dockerfile")

    up = False
    try:
        run([*compose, "up", "-d"], env, NETWORK_UP)
        up = True
        timings.mark("compose up -d returned")
        node1, node2 = ports["SCN_NODE1_PORT"], ports["SCN_NODE2_PORT"]
        deadline = time.monotonic() + NETWORK_UP
        with httpx.Client(timeout=5.0) as client:
            while not (
                connected(client, node1, "DE", "CPO") and connected(client, node2, "NL", "CPX")
            ):
                failure = registry_failed(engine, env)
                assert failure is None, f"the registry service failed:\n{failure}"
                assert time.monotonic() < deadline, "the demo parties did not connect in time"
                time.sleep(POLL)
            for port in (node1, node2):
                health = client.get(f"http://127.0.0.1:{port}/health")
                assert health.status_code == 200, health.text
        timings.mark("both nodes healthy, DE CPO and NL CPX connected")

        tour = subprocess.run(
            [
                str(Path(sys.executable).with_name("scn-devnet")),
                "tour",
                "--rpc-url",
                f"http://127.0.0.1:{ports['SCN_CHAIN_PORT']}",
            ],
            env={k: v for k, v in os.environ.items() if k not in ("SIGNER", "SPENDER")},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert tour.returncode == 0, tour.stdout + tour.stderr
        assert "tour complete: every step checked" in tour.stdout
        assert f"http://localhost:{node1}" in tour.stdout  # step 1 found node 1 in the registry
        timings.mark("tour complete against the containers")
    except BaseException:
        if up:
            print(run([*compose, "logs", "--no-color"], env, 120, check=False).stdout[-20000:])
        raise
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            run([*compose, "down", "--volumes", "--remove-orphans"], env, 180, check=False)
        timings.mark("compose down")
    assert run(["docker", "ps", "-aq"], engine.env(), 60).stdout == ""
