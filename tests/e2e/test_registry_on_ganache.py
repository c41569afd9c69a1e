"""The tutorial's registry steps with the real CLI processes against a real ganache chain."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from scn_node.devnet.chain import Ganache, dev_account, free_port
from scn_node.registry.networks import LOCAL_PERMISSIONS, LOCAL_REGISTRY
from tests.e2e.conftest import ROOT, key, scn_registry
from tests.process_stop import run, stop

pytestmark = pytest.mark.ganache

TUTORIAL_SIGNER = "0x49b2e2b48cfc25fda1d1cbdb2197b83902142c6da502dcf1871c628ea524f11b"
TUTORIAL_NODE = "0x9bc1169ca09555bf2721a5c9ec6d69c8073bfeb4"


def rpc(chain: Ganache, method: str, *params: object) -> object:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    return httpx.post(chain.rpc_url, json=body).json()["result"]


def test_ganache_runs_with_the_tutorial_settings(chain: Ganache) -> None:
    assert int(str(rpc(chain, "eth_chainId")), 16) == 9
    assert rpc(chain, "net_version") == "9"
    accounts = rpc(chain, "eth_accounts")
    assert isinstance(accounts, list) and len(accounts) == 20
    assert accounts[0] == "0x627306090abaB3A6e1400e9345bC60c78a8BEf57".lower()
    assert accounts[14] == TUTORIAL_NODE
    assert int(str(rpc(chain, "eth_getBalance", accounts[19], "latest")), 16) == 100 * 10**18


def test_tutorial_sequence(chain: Ganache) -> None:
    deployed = scn_registry(chain, "--json", "deploy", "--at-nonce", "2", SIGNER=key(0))
    assert deployed.returncode == 0, deployed.stderr
    # OCN's local addresses: account 0 at nonces 2 and 3.
    assert json.loads(deployed.stdout)["registry"] == LOCAL_REGISTRY
    assert json.loads(deployed.stdout)["permissions"] == LOCAL_PERMISSIONS
    assert "waiting for the receipt" in deployed.stderr

    node = scn_registry(chain, "set-node", "http://localhost:8080", SIGNER=key(14))
    assert node.returncode == 0, node.stderr
    assert "mined in block" in node.stdout and "gas used" in node.stdout

    party = scn_registry(
        chain,
        "set-party",
        "-c",
        "DE",
        "MSP",
        "-r",
        "EMSP",
        "-o",
        TUTORIAL_NODE,
        SIGNER=TUTORIAL_SIGNER,
    )
    assert party.returncode == 0, party.stderr
    assert "0xcb0236B37Ff19001633E38808bd124b60B1fE1ba" in party.stdout

    by_credentials = scn_registry(chain, "--json", "get-party", "-c", "DE", "MSP")
    assert json.loads(by_credentials.stdout) == {
        "countryCode": "DE",
        "partyId": "MSP",
        "address": "0xcb0236B37Ff19001633E38808bd124b60B1fE1ba",
        "roles": ["EMSP"],
        "modules": {"sender": [], "receiver": []},
        "node": {
            "operator": "0x9bC1169Ca09555bf2721A5C9eC6D69c8073bfeB4",
            "url": "http://localhost:8080",
        },
    }
    by_address = scn_registry(
        chain, "get-party", "-a", "0xcb0236B37Ff19001633E38808bd124b60B1fE1ba"
    )
    assert by_address.returncode == 0
    assert "DE MSP" in by_address.stdout and "EMSP" in by_address.stdout
    assert "http://localhost:8080" in by_address.stdout

    listed_node = scn_registry(chain, "get-node", TUTORIAL_NODE)
    assert listed_node.stdout.strip() == "http://localhost:8080"


def test_signed_listing_paid_by_a_spender(chain: Ganache, tmp_path: Path) -> None:
    assert scn_registry(chain, "deploy", "--at-nonce", "2", SIGNER=key(0)).returncode == 0
    assert scn_registry(chain, "set-node", "http://localhost:8080", SIGNER=key(14)).returncode == 0
    signed = tmp_path / "set-party.json"
    made = scn_registry(
        chain,
        "sign",
        "-w",
        str(signed),
        "set-party",
        "-c",
        "NL",
        "CPX",
        "-r",
        "CPO",
        "-o",
        TUTORIAL_NODE,
        SIGNER=key(5),
    )
    assert made.returncode == 0, made.stderr
    sent = scn_registry(chain, "submit", str(signed), SPENDER=key(1))
    assert sent.returncode == 0, sent.stderr
    listed = scn_registry(chain, "--json", "get-party", "-c", "NL", "CPX")
    assert json.loads(listed.stdout)["address"] == dev_account(5).address
    again = scn_registry(chain, "submit", str(signed), SPENDER=key(1))
    assert again.returncode == 1
    assert "was already used" in again.stderr


def test_services_and_agreements_with_a_signed_revocation(chain: Ganache, tmp_path: Path) -> None:
    assert scn_registry(chain, "deploy", "--at-nonce", "2", SIGNER=key(0)).returncode == 0
    assert scn_registry(chain, "set-node", "http://localhost:8080", SIGNER=key(14)).returncode == 0
    for index, (cc, pid, role) in {3: ("CH", "SRV", "OTHER"), 19: ("DE", "MSP", "EMSP")}.items():
        listed = scn_registry(
            chain, "set-party", "-c", cc, pid, "-r", role, "-o", TUTORIAL_NODE, SIGNER=key(index)
        )
        assert listed.returncode == 0, listed.stderr
    provider = dev_account(3).address
    offered = scn_registry(
        chain,
        "set-service",
        "--name",
        "Payments",
        "--url",
        "https://pay.example",
        "-p",
        "FORWARD_MODULE_CDRS_SENDER",
        "forward_module_sessions_sender",
        SIGNER=key(3),
    )
    assert offered.returncode == 0, offered.stderr
    agreed = scn_registry(chain, "agree", provider, SIGNER=key(19))
    assert agreed.returncode == 0, agreed.stderr
    services = scn_registry(chain, "--json", "list-agreements", "-c", "DE", "MSP")
    assert json.loads(services.stdout) == [
        {
            "provider": provider,
            "countryCode": "CH",
            "partyId": "SRV",
            "name": "Payments",
            "url": "https://pay.example",
            "permissions": ["FORWARD_MODULE_SESSIONS_SENDER", "FORWARD_MODULE_CDRS_SENDER"],
        }
    ]

    signed = tmp_path / "revoke.json"
    made = scn_registry(chain, "sign", "-w", str(signed), "revoke", provider, SIGNER=key(19))
    assert made.returncode == 0, made.stderr
    sent = scn_registry(chain, "submit", str(signed), SPENDER=key(1))
    assert sent.returncode == 0, sent.stderr
    after = scn_registry(chain, "list-agreements", "-a", dev_account(19).address)
    assert after.stdout == "No agreements.\n"
    info = json.loads(scn_registry(chain, "--json", "info").stdout)
    assert (info["permissions"], info["services"]) == (LOCAL_PERMISSIONS, 1)


def test_the_chain_script_deploys_both_contracts() -> None:
    port = free_port()
    script = subprocess.Popen(
        [sys.executable, str(ROOT / "ganache" / "start.py"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    lines = []
    try:
        assert script.stdout is not None
        for line in script.stdout:
            lines.append(line.strip())
            if "press Ctrl-C to stop" in line:
                break
        chain = Ganache(port=port)
        info = json.loads(scn_registry(chain, "--json", "info").stdout)
    finally:
        code = stop(script)
        script.stdout.close()  # type: ignore[union-attr]
    assert code == 0
    assert any(line.startswith(f"registry {LOCAL_REGISTRY}, owner ") for line in lines)
    assert f"permissions {LOCAL_PERMISSIONS}" in lines
    assert (info["registry"], info["permissions"], info["services"]) == (
        LOCAL_REGISTRY,
        LOCAL_PERMISSIONS,
        0,
    )


def test_devnet_demo_runs_the_registry_tour(tmp_path: Path) -> None:
    node1, node2, cpo, cpx, emsp = (free_port() for _ in range(5))
    demo = run(
        [
            sys.executable,
            "-c",
            "from scn_node.devnet.cli import main; main()",
            "up",
            "--chain-port",
            str(free_port()),
            "--node-port",
            str(node1),
            "--node2-port",
            str(node2),
            "--workdir",
            str(tmp_path),
            "--cpo-port",
            str(cpo),
            "--cpx-port",
            str(cpx),
            "--emsp-port",
            str(emsp),
            "--result-delay",
            "0.2",
            "--tour",
            "--exit",
        ],
        timeout=300,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert f"registry         {LOCAL_REGISTRY}" in demo.stdout
    assert f"permissions      {LOCAL_PERMISSIONS}" in demo.stdout
    assert "0x9bC1169Ca09555bf2721A5C9eC6D69c8073bfeB4" in demo.stdout
    # Both nodes ran as `scn-node serve`, answered /health, and the tutorial's key is theirs.
    assert (
        f"node 1           http://localhost:{node1}  wallet 0x9bC1169Ca09555bf2721A5C9eC6D69c8073bfeB4"
        in demo.stdout
    )
    assert f"node 2           http://localhost:{node2}" in demo.stdout
    assert "admin API key randomkey" in demo.stdout
    assert "CPO  DE CPO" in demo.stdout and "CPO  NL CPX" in demo.stdout
    assert "eMSP DE MSP" in demo.stdout and "not registered" in demo.stdout
    # The registry steps and then the node steps, each checked; the demo eMSP saw it all.
    assert demo.stdout.count("tour complete: every step checked") == 2
    # One numbering, out of the real total: 4 registry steps, 6 node steps, 5 for each CPO, 3.
    assert "[step 1/23] Look up node 1 by its operator wallet" in demo.stdout
    assert "[step 5/23] GET Node Info" in demo.stdout
    assert "[step 23/23] GET sessions: the CPO has not implemented it" in demo.stdout
    assert "[node " not in demo.stdout
    for step in ("POST credentials", "from NL CPX (remote, via node 2)", "STOP_SESSION to NL CPX"):
        assert step in demo.stdout
    assert "the async result {'result': 'ACCEPTED'}" in demo.stdout
    assert "GET sessions" in demo.stdout and "not implemented" in demo.stdout
    assert "stopped the nodes" in demo.stdout and "stopped ganache" in demo.stdout
    assert f"node http://localhost:{node1} started" in (tmp_path / "node1.log").read_text()
