"""The committed artifact is what the node and the CLI load; it must match the contract source."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from scn_node.registry.artifact import load_artifact

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["Registry", "Permissions"])
def test_committed_artifact_matches_the_contract_source(name: str) -> None:
    artifact = load_artifact(name)
    sources = {artifact["source"]: artifact["sourceSha256"], **artifact["importsSha256"]}
    # A full recompile runs in scripts/check (compile_contracts.py --check); this catches it offline.
    for path, digest in sources.items():
        assert digest == hashlib.sha256((ROOT / path).read_bytes()).hexdigest(), (
            f"{path} changed: run scripts/compile_contracts.py"
        )


def test_artifact_targets_an_evm_ganache_runs() -> None:
    artifact = load_artifact("Registry")
    assert artifact["compiler"]["evmVersion"] == "shanghai"
    assert artifact["compiler"]["version"].startswith("0.8.")
    assert artifact["bytecode"].startswith("0x") and len(artifact["bytecode"]) > 1000
