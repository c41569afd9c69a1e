"""Registration picks 2.2.1 or 2.2 from what a party offers, keeps it, and the node then calls the
party only at that version's endpoints: module requests, HubClientInfo, credentials on rotation."""

from __future__ import annotations

import base64
import json

import pytest

from scn_node.scpi.party import Role
from tests.fakes.hub import HubUnderTest


@pytest.mark.parametrize(
    ("offered", "kept"),
    [(["2.2.1"], "2.2.1"), (["2.2"], "2.2"), (["2.2", "2.2.1"], "2.2.1")],
)
async def test_the_platform_keeps_the_version_picked_and_its_endpoints(
    node: HubUnderTest, offered: list[str], kept: str
) -> None:
    cpo = await node.connect("NL", "CPO", versions=offered)
    assert [r.path for r in cpo.received] == ["/scpi/versions", f"/scpi/{kept}"]
    platform = (await node.caller(cpo)).platform
    view = await node.platforms.show(platform.id)
    assert view.version == kept
    assert {e.url for e in view.endpoints if e.identifier == "locations"} == {
        f"{cpo.base_url}/scpi/cpo/{kept}/locations/sender",
        f"{cpo.base_url}/scpi/cpo/{kept}/locations/receiver",
    }
    (listed,), _ = await node.platforms.page(0, 10)
    assert listed.version == kept


async def test_a_party_offering_neither_version_gets_3002_naming_both(node: HubUnderTest) -> None:
    cpo = node.new_party("NL", "CPO", versions=["2.1.1", "2.3"])
    node.list_party(cpo)
    got = await node.register(cpo, await node.token_a())
    assert got.status_code == 3002
    assert got.json()["status_message"] == (
        f"{cpo.versions_url} offers no SCPI 2.2.1 or 2.2 (offered: 2.1.1, 2.3)"
    )


async def test_a_2_2_1_party_that_base64_encodes_is_called_so(node: HubUnderTest) -> None:
    cpo = await node.connect("NL", "CPO", versions=["2.2.1"], base64_tokens=True)
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert got.status_code == 1000
    encoded = base64.b64encode(cpo.token_b.encode()).decode()
    assert cpo.module_requests()[-1].headers["Authorization"] == f"Token {encoded}"


async def test_a_party_that_moves_to_2_2_1_is_called_there_after_its_update(
    node: HubUnderTest,
) -> None:
    cpo = await node.connect("NL", "CPO")
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo.versions = ["2.2.1"]  # the backoffice upgraded, and tells the node (PUT credentials)
    caller = await node.caller(cpo)
    cpo.token_c = await node.hub.handshake.update(caller, json.dumps(cpo.credentials()).encode())
    assert (await node.platforms.show(caller.platform.id)).version == "2.2.1"
    await node.send(emsp, "GET", "/scpi/sender/2.2/locations/LOC1", to=cpo)
    assert cpo.module_requests()[-1].path == "/scpi/cpo/2.2.1/locations/sender/LOC1"


async def test_the_node_connects_a_2_2_1_party_at_its_2_2_1_credentials(
    node: HubUnderTest,
) -> None:
    cpo = node.new_party("NL", "CPO", versions=["2.2.1"])
    node.list_party(cpo)
    body = json.dumps({"versions_url": cpo.versions_url, "token": cpo.token_b}).encode()
    platform = await node.hub.handshake.connect(body)
    assert platform.version == "2.2.1"
    assert [(r.method, r.path) for r in cpo.received if r.method != "GET"] == [
        ("POST", "/scpi/2.2.1/credentials")
    ]
    posted = next(r for r in cpo.received if r.method == "POST")
    assert json.loads(posted.body)["url"] == f"{node.url}/scpi/versions"


async def test_the_node_rotates_a_2_2_1_partys_credentials_at_its_2_2_1_endpoint(
    node: HubUnderTest,
) -> None:
    cpo = await node.connect("NL", "CPO", versions=["2.2.1"])
    platform = (await node.caller(cpo)).platform
    old = cpo.token_c
    rotated = await node.hub.handshake.rotate(platform.id)
    assert cpo.token_c != old
    assert rotated.version == "2.2.1"
    (put,) = [r for r in cpo.received if r.method == "PUT"]
    assert put.path == "/scpi/2.2.1/credentials"


async def test_hub_client_info_reaches_a_2_2_1_party_at_its_2_2_1_endpoint(
    node: HubUnderTest,
) -> None:
    emsp = await node.connect(
        "DE", "MSP", Role.EMSP, versions=["2.2.1"], modules=("hubclientinfo",)
    )
    await node.connect("NL", "CPO")
    await node.drain()
    (pushed,) = [r for r in emsp.module_requests() if r.method == "PUT"]
    assert pushed.path == "/scpi/emsp/2.2.1/hubclientinfo/receiver/NL/CPO"
    assert (pushed.json()["party_id"], pushed.json()["status"]) == ("CPO", "CONNECTED")
