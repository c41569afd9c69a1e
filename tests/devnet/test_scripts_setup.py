"""scripts/setup repairs a .venv left without pip, and skips what has not changed.

It runs on a copy in a throwaway folder: a one-module project (the real one would take minutes)
and an `npm` stand-in that records its calls. pip itself is real.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "scn-setup-probe"
version = "0"

[project.optional-dependencies]
dev = []

[project.scripts]
scn-devnet = "probe:main"

[tool.setuptools]
py-modules = ["probe"]
"""

NPM = """\
#!/bin/sh
echo "$@" >> npm-calls
mkdir -p node_modules
"""


def setup(project: Path) -> subprocess.CompletedProcess[str]:
    fake_bin = project / "fake-bin"
    return subprocess.run(
        [str(project / "scripts" / "setup")],
        cwd=project,
        env={**os.environ, "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_setup_rebuilds_a_venv_without_pip_then_skips_what_is_unchanged(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup", tmp_path / "scripts" / "setup")
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "probe.py").write_text("def main() -> None:\n    pass\n")
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3}\n')
    npm = tmp_path / "fake-bin" / "npm"
    npm.parent.mkdir()
    npm.write_text(NPM)
    npm.chmod(npm.stat().st_mode | stat.S_IXUSR)
    # What an interrupted first setup leaves: a .venv whose python has no pip.
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(tmp_path / ".venv")], check=True
    )

    first = setup(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.splitlines() == [
        "setup: .venv is broken (no working python or pip): making it again",
        "setup: Python packages into .venv (about 2 minutes the first time)",
        "setup: npm packages (solc, ganache, newman) into node_modules",
    ]
    pip = subprocess.run(
        [str(tmp_path / ".venv" / "bin" / "python"), "-m", "pip", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert pip.returncode == 0 and pip.stdout.startswith("pip ")
    assert (tmp_path / ".venv" / "bin" / "scn-devnet").exists()

    again = setup(tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.splitlines() == [
        "setup: Python packages in .venv are up to date (pyproject.toml unchanged)",
        "setup: npm packages in node_modules are up to date (package-lock.json unchanged)",
    ]
    assert (tmp_path / "npm-calls").read_text() == "ci --no-audit --no-fund --loglevel=error\n"

    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}\n')
    changed = setup(tmp_path)
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert changed.stdout.splitlines()[1] == (
        "setup: npm packages (solc, ganache, newman) into node_modules"
    )
    assert len((tmp_path / "npm-calls").read_text().splitlines()) == 2
