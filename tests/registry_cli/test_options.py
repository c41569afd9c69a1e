"""The global options: network, networks file, RPC URL, registry address, signer, output format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from scn_node.registry.networks import LOCAL_REGISTRY, LOCAL_RPC_URL
from tests.registry_cli.conftest import Chain, Stages, assert_fails, key_of

STAGING_RPC = "http://rpc.staging.example:8545"


@pytest.fixture
def other_registry(deployed: Chain, stages: Stages, accounts: list[LocalAccount]) -> str:
    """A second registry on the same chain, with one node listed, so it is told apart by `info`."""

    def deploy() -> str:
        address: str = deployed.json("deploy", signer=accounts[1])["registry"]
        deployed.ok("--registry", address, "set-node", "http://other.example", signer=accounts[14])
        return address

    return stages.enter("other registry", deploy)


def write_networks(path: Path, networks: dict[str, dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(networks))
    return path


@pytest.mark.parametrize("args", [[], ["-n", "local"], ["--network", "local"]])
def test_the_local_network_is_built_in_and_the_default(deployed: Chain, args: list[str]) -> None:
    info = deployed.json(*args, "info")
    assert (info["rpcUrl"], info["registry"]) == (LOCAL_RPC_URL, LOCAL_REGISTRY)
    assert deployed.rpc_urls[-1] == LOCAL_RPC_URL


def test_an_unknown_network_is_a_usage_error(deployed: Chain) -> None:
    result = deployed.invoke("-n", "mainnet", "info")
    assert_fails(result, 2, "unknown network 'mainnet'; known: local")


@pytest.mark.parametrize("how", ["option", "env", "home"])
def test_a_networks_file_adds_networks(
    deployed: Chain, other_registry: str, tmp_path: Path, how: str
) -> None:
    networks = {"staging": {"rpc_url": STAGING_RPC, "registry": other_registry}}
    if how == "option":
        path = write_networks(tmp_path / "networks.json", networks)
        args, env = ["--networks-file", str(path)], {}
    elif how == "env":
        path = write_networks(tmp_path / "networks.json", networks)
        args, env = [], {"SCN_NETWORKS_FILE": str(path)}
    else:
        write_networks(deployed.home / ".config" / "scn" / "networks.json", networks)
        args, env = [], {}

    info = json.loads(deployed.ok(*args, "--json", "-n", "staging", "info", env=env).stdout)

    assert (info["rpcUrl"], info["registry"], info["nodes"]) == (STAGING_RPC, other_registry, 1)
    assert deployed.rpc_urls[-1] == STAGING_RPC
    # The built-in network is still there.
    local = json.loads(deployed.ok(*args, "--json", "info", env=env).stdout)
    assert (local["registry"], local["nodes"]) == (LOCAL_REGISTRY, 0)


def test_a_networks_file_entry_may_override_part_of_a_built_in_network(
    deployed: Chain, tmp_path: Path
) -> None:
    path = write_networks(tmp_path / "networks.json", {"local": {"rpc_url": STAGING_RPC}})
    info = deployed.json("--networks-file", str(path), "info")
    assert (info["rpcUrl"], info["registry"]) == (STAGING_RPC, LOCAL_REGISTRY)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "does not exist", id="missing"),
        pytest.param("{not json", "cannot read networks file", id="not-json"),
        pytest.param(
            '{"staging": {"rpc_url": "http://x"}}', "needs rpc_url and registry", id="partial"
        ),
    ],
)
def test_a_bad_networks_file_is_a_usage_error(
    deployed: Chain, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "networks.json"
    if content is not None:
        path.write_text(content)
    result = deployed.invoke("--networks-file", str(path), "-n", "staging", "info")
    assert_fails(result, 2, message)


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        pytest.param(["--rpc-url", "http://rpc.option"], {}, "http://rpc.option", id="option"),
        pytest.param([], {"SCN_RPC_URL": "http://rpc.env"}, "http://rpc.env", id="env"),
        pytest.param(
            ["--rpc-url", "http://rpc.option"],
            {"SCN_RPC_URL": "http://rpc.env"},
            "http://rpc.option",
            id="option-beats-env",
        ),
    ],
)
def test_rpc_url_overrides_the_network(
    deployed: Chain, args: list[str], env: dict[str, str], expected: str
) -> None:
    info = json.loads(deployed.ok(*args, "--json", "info", env=env).stdout)
    assert info["rpcUrl"] == expected
    assert deployed.rpc_urls[-1] == expected


@pytest.mark.parametrize("how", ["option", "env", "option-beats-env"])
def test_registry_address_overrides_the_network(
    deployed: Chain, other_registry: str, how: str
) -> None:
    args = ["--registry", other_registry.lower()] if how != "env" else []
    env = {
        "option": {},
        "env": {"SCN_REGISTRY_ADDRESS": other_registry},
        "option-beats-env": {"SCN_REGISTRY_ADDRESS": LOCAL_REGISTRY},
    }[how]
    info = json.loads(deployed.ok(*args, "--json", "info", env=env).stdout)
    assert (info["registry"], info["nodes"]) == (other_registry, 1)
    node = deployed.ok(*args, "get-node", "0x9bC1169Ca09555bf2721A5C9eC6D69c8073bfeB4", env=env)
    assert node.stdout == "http://other.example\n"


@pytest.mark.parametrize("how", ["-s", "--signer", "env", "option-beats-env"])
def test_the_signer_comes_from_the_option_or_signer_env(
    deployed: Chain, accounts: list[LocalAccount], how: str
) -> None:
    signer = accounts[14]
    if how == "env":
        result = deployed.ok("--json", "set-node", "http://signer.example", signer=signer)
    else:
        flag = "-s" if how == "-s" else "--signer"
        decoy = accounts[15] if how == "option-beats-env" else None
        result = deployed.ok(
            flag, key_of(signer), "--json", "set-node", "http://signer.example", signer=decoy
        )
    doc = json.loads(result.stdout)
    assert doc["operator"] == signer.address
    assert deployed.receipt(doc["transactionHash"])["from"] == signer.address
    assert deployed.json("list-nodes") == [
        {"operator": signer.address, "url": "http://signer.example"}
    ]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["info"], id="info"),
        pytest.param(["list-nodes"], id="list-nodes"),
        pytest.param(["list-parties"], id="list-parties"),
        pytest.param(["get-node", "0x9bC1169Ca09555bf2721A5C9eC6D69c8073bfeB4"], id="get-node"),
        pytest.param(["get-party", "-c", "DE", "MSP"], id="get-party"),
    ],
)
def test_json_output_is_valid_json_and_nothing_else_while_human_output_is_not(
    listed: Chain, args: list[str]
) -> None:
    result = listed.ok("--json", *args)
    assert json.loads(result.stdout) is not None
    assert result.stderr == ""
    human = listed.ok(*args).stdout
    assert human.strip()
    with pytest.raises(json.JSONDecodeError):
        json.loads(human)
