"""`scn-node serve` as a real process on a real chain: its startup checks and the tutorial's flow."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from scn_node.devnet.chain import Ganache, dev_account, free_port
from scn_node.devnet.nodes import NodeProcess
from scn_node.registry.networks import LOCAL_REGISTRY
from scn_node.scpi.party import PartyId, Role
from tests.e2e.conftest import key, scn_registry
from tests.node.parties import FakeParty
from tests.process_stop import stop_async

pytestmark = pytest.mark.ganache

TUTORIAL_NODE = "0x9bc1169ca09555bf2721a5c9ec6d69c8073bfeb4"
ADMIN_KEY = "randomkey"


def node_env(chain: Ganache, url: str, port: int, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "SCN_NODE_URL": url,
        "SCN_PORT": str(port),
        "SCN_PRIVATE_KEY": key(14),
        "SCN_ADMIN_API_KEY": ADMIN_KEY,
        "SCN_RPC_URL": chain.rpc_url,
        "SCN_DATABASE_URL": f"sqlite:///{tmp_path / 'node.db'}",
        **extra,
    }


async def run_node(env: dict[str, str]) -> tuple[int, str, str]:
    """Run `scn-node serve` expecting it to refuse to start: its exit code and output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scn_node", "serve", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        await stop_async(process)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def deployed(chain: Ganache) -> Ganache:
    assert scn_registry(chain, "deploy", "--at-nonce", "2", SIGNER=key(0)).returncode == 0
    return chain


async def test_the_node_refuses_to_start_without_its_key(chain: Ganache, tmp_path: Path) -> None:
    env = node_env(chain, "http://localhost:1", 1, tmp_path)
    del env["SCN_PRIVATE_KEY"]
    code, _, err = await run_node(env)
    assert code == 2 and "SCN_PRIVATE_KEY is not set" in err


async def test_the_node_refuses_a_chain_without_the_registry(
    chain: Ganache, tmp_path: Path
) -> None:
    code, _, err = await run_node(node_env(chain, "http://localhost:1", 1, tmp_path))
    assert code == 2 and "no contract at 0x345cA3e014Aaf5dcA488057592ee47305D9B3e10" in err


async def test_the_node_refuses_to_start_unlisted(deployed: Ganache, tmp_path: Path) -> None:
    code, _, err = await run_node(node_env(deployed, "http://localhost:1", 1, tmp_path))
    assert code == 2
    assert f"this node ({dev_account(14).address}) is not listed in the SCN Registry" in err
    assert "list it with: scn-registry" in err and "set-node http://localhost:1" in err


async def test_the_node_refuses_to_start_listed_with_another_url(
    deployed: Ganache, tmp_path: Path
) -> None:
    assert (
        scn_registry(deployed, "set-node", "http://elsewhere:8080", SIGNER=key(14)).returncode == 0
    )
    code, _, err = await run_node(node_env(deployed, "http://localhost:1", 1, tmp_path))
    assert code == 2 and "listed in the SCN Registry with the URL http://elsewhere:8080" in err


async def test_bad_settings_are_listed_plainly(chain: Ganache, tmp_path: Path) -> None:
    env = node_env(chain, "localhost", 1, tmp_path, SCN_PORT="eighty", SCN_LOG_FORMAT="xml")
    code, _, err = await run_node(env)
    assert code == 2
    assert "SCN_NODE_URL: 'localhost' is not an http(s) URL" in err
    assert "SCN_PORT" in err and "SCN_LOG_FORMAT: must be json or text" in err


@pytest.fixture
async def node(deployed: Ganache, tmp_path: Path) -> AsyncIterator[str]:
    """A listed node process; yields its URL and checks it stops cleanly on SIGTERM."""
    process = NodeProcess(
        number=1,
        account=dev_account(14),
        port=free_port(),
        rpc_url=deployed.rpc_url,
        registry_address=LOCAL_REGISTRY,
        workdir=tmp_path,
        admin_api_key=ADMIN_KEY,
        host="localhost",
        log_format=None,  # the default: JSON
    )
    # Listed with a trailing slash: compared normalised.
    assert scn_registry(deployed, "set-node", process.url + "/", SIGNER=key(14)).returncode == 0
    await process.start()
    try:
        yield process.url
    finally:
        code = await process.stop()
    logs = process.logs()
    assert code == 0, logs
    # JSON logs, one object per line, and no secret in them.
    entries = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert entries and all("level" in e and "message" in e for e in entries)
    assert ADMIN_KEY not in logs and key(14)[2:] not in logs


async def test_the_tutorial_flow_against_a_node_process(
    deployed: Ganache, node: str, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=node, timeout=30) as client:
        assert (await client.get("/health")).text == "OK"
        info = (await client.get("/scn/registry/node-info")).json()
        assert info == {"url": node, "address": TUTORIAL_NODE}

        cpo = FakeParty(party=PartyId("DE", "CPO"), role=Role.CPO, token_b="cpo-token-b")
        msp = FakeParty(party=PartyId("DE", "MSP"), role=Role.EMSP, token_b="msp-token-b")
        for party, signer in ((cpo, 1), (msp, 19)):
            await party.start()
            listed = await asyncio.to_thread(
                scn_registry, deployed, "set-party", "-c", party.party.country_code,
                party.party.party_id, "-r", party.role.value, "-o", info["address"],
                SIGNER=key(signer),
            )  # fmt: skip
            assert listed.returncode == 0, listed.stderr
            token = await client.get(
                "/admin/generate-registration-token",
                headers={"Authorization": f"Token {ADMIN_KEY}"},
            )
            assert token.json()["versions"] == f"{node}/scpi/versions"
            auth = {"Authorization": f"Token {token.json()['token']}"}
            versions = (await client.get("/scpi/versions", headers=auth)).json()
            assert versions["data"] == [
                {"version": "2.2.1", "url": f"{node}/scpi/2.2.1"},
                {"version": "2.2", "url": f"{node}/scpi/2.2"},
            ]
            registered = await client.post(
                "/scpi/2.2/credentials", headers=auth, json=party.credentials()
            )
            body = registered.json()
            assert body["status_code"] == 1000, body
            assert body["data"]["roles"][0]["party_id"] == "SCN"
            party.token_c = body["data"]["token"]

        response = await client.get(
            "/scpi/sender/2.2/locations",
            headers={
                "Authorization": msp.authorization(),
                "X-Request-ID": "1",
                "X-Correlation-ID": "1",
                "SCPI-from-country-code": "DE",
                "SCPI-from-party-id": "MSP",
                "SCPI-to-country-code": "DE",
                "SCPI-to-party-id": "CPO",
            },
        )
        assert response.status_code == 200
        assert response.json()["data"]["path"] == "/scpi/cpo/2.2/locations/sender"
        forwarded = cpo.module_requests()[-1]
        assert forwarded.headers["X-Correlation-ID"] == "1"
        assert forwarded.headers["X-Request-ID"] != "1"
        for party in (cpo, msp):
            await party.stop()
