"""bench/scenarios.py in its smallest run: ganache, one `scn-node serve` and the party server,
and the three hub scenarios measured through them. The bench exits 1 when any request did not
get what it needs (a broadcast leg that never arrived, with the receiver's TOKEN_B; a GET All
missing a source's CDRs or its X-Total-Count; an open authorize not reaching the eMSP)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SMALLEST = ["--receivers", "2", "--burst", "2", "--pushes", "2", "--sources", "2", "--page", "2",
            "--lists", "2", "--authorizations", "2"]  # fmt: skip


def test_the_hub_scenarios_bench_runs_without_an_error() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scenarios.py"), *SMALLEST],
        capture_output=True, text=True, timeout=300, env=env, cwd=ROOT,
    )  # fmt: skip

    assert run.returncode == 0, run.stdout + run.stderr
    for row in ("broadcast to 2", "2 at once to 2", "GET All via hub", "open, token index",
                "open, eMI3 contract id"):  # fmt: skip
        assert row in run.stdout
