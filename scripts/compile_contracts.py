#!/usr/bin/env python3
"""Compile contracts/*.sol into the artifacts the node and the CLI load (scn_node/registry/*.json).

    python scripts/compile_contracts.py          # rebuild the committed artifacts
    python scripts/compile_contracts.py --check  # fail if a committed artifact is stale

The compiler is the npm `solc` package pinned in package.json, driven through py-solc-x's
compile_standard by a small shim; a native `solc` of the same version on PATH is used instead.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import solcx

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "contracts"
ARTIFACTS = ROOT / "scn_node" / "registry"
SHIM = ROOT / "scripts" / "solcjs-shim.js"
EVM_VERSION = "shanghai"  # ganache 7 rejects PUSH0/MCOPY from later targets
OPTIMIZER_RUNS = 200


def pinned_version() -> str:
    return str(json.loads((ROOT / "package.json").read_text())["dependencies"]["solc"])


def compiler() -> tuple[Path, str]:
    """A native solc of the pinned version if there is one, else the npm package through the shim."""
    wanted = pinned_version()
    native = shutil.which("solc")
    if native:
        out = subprocess.run([native, "--version"], capture_output=True, text=True, check=False)
        if f"Version: {wanted}+" in out.stdout:
            return Path(native), version_of(out.stdout)
    if not (ROOT / "node_modules" / "solc").is_dir():
        sys.exit("error: the npm solc package is missing; run `npm ci` first")
    out = subprocess.run(
        ["node", str(SHIM), "--version"], capture_output=True, text=True, check=True
    )
    return SHIM, version_of(out.stdout)


def version_of(banner: str) -> str:
    line = next(x for x in banner.splitlines() if x.startswith("Version:"))
    full = line.split(":", 1)[1].strip()  # 0.8.37+commit.f401782d.Emscripten.clang
    release, commit = full.split("+", 1)
    return f"{release}+{commit.split('.')[0]}.{commit.split('.')[1]}"


def build(binary: Path, version: str) -> dict[str, dict[str, Any]]:
    sources = sorted(CONTRACTS.glob("*.sol"))
    standard_input = {
        "language": "Solidity",
        "sources": {p.name: {"content": p.read_text()} for p in sources},
        "settings": {
            "evmVersion": EVM_VERSION,
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "outputSelection": {
                "*": {
                    "*": ["abi", "metadata", "evm.bytecode.object", "evm.deployedBytecode.object"]
                }
            },
        },
    }
    try:
        output = solcx.compile_standard(
            standard_input, solc_binary=binary, base_path=str(CONTRACTS)
        )
    except solcx.exceptions.SolcError as error:
        sys.exit(f"error: {error.message}")
    artifacts: dict[str, dict[str, Any]] = {}
    for source in sources:
        for name, contract in output["contracts"][source.name].items():
            if not contract["evm"]["bytecode"]["object"]:
                continue  # an interface or an abstract base, such as SignedCalls
            imports = sorted(set(json.loads(contract["metadata"])["sources"]) - {source.name})
            artifacts[name] = {
                "contractName": name,
                "source": f"contracts/{source.name}",
                "sourceSha256": sha256_of(source),
                # The other sources it is built from, so that a change to a base shows too.
                "importsSha256": {f"contracts/{i}": sha256_of(CONTRACTS / i) for i in imports},
                "compiler": {
                    "version": version,
                    "evmVersion": EVM_VERSION,
                    "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
                },
                "abi": contract["abi"],
                "bytecode": "0x" + contract["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + contract["evm"]["deployedBytecode"]["object"],
            }
    return artifacts


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def render(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, indent=1, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if an artifact is stale")
    args = parser.parse_args()
    binary, version = compiler()
    stale = []
    for name, artifact in build(binary, version).items():
        path = ARTIFACTS / f"{name}.json"
        text = render(artifact)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.relative_to(ROOT))
        else:
            path.write_text(text)
            size = (len(artifact["deployedBytecode"]) - 2) // 2
            print(f"{path.relative_to(ROOT)}: {size} bytes deployed, solc {version}")
    if stale:
        print(
            "stale contract artifacts (run scripts/compile_contracts.py):", *stale, file=sys.stderr
        )
        return 1
    if args.check:
        print("contract artifacts are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
