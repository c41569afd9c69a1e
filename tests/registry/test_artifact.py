"""The committed artifact is what the node and the CLI load; it must match the contract source."""

from __future__ import annotations

import hashlib
from pathlib import Path

from scn_node.registry.artifact import load_artifact

ROOT = Path(__file__).resolve().parents[2]


def test_committed_artifact_matches_the_contract_source() -> None:
    artifact = load_artifact("Registry")
    source = (ROOT / artifact["source"]).read_bytes()
    # A full recompile runs in scripts/check (compile_contracts.py --check); this catches it offline.
    assert artifact["sourceSha256"] == hashlib.sha256(source).hexdigest(), (
        "contracts/Registry.sol changed: run scripts/compile_contracts.py"
    )


def test_artifact_targets_an_evm_ganache_runs() -> None:
    artifact = load_artifact("Registry")
    assert artifact["compiler"]["evmVersion"] == "shanghai"
    assert artifact["compiler"]["version"].startswith("0.8.")
    assert artifact["bytecode"].startswith("0x") and len(artifact["bytecode"]) > 1000
