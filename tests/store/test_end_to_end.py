"""One pass through a real node on each database: the rest of the suite runs nodes on SQLite only.

Two parties register, route a request and a command whose result comes back through a proxy,
see each other in hubclientinfo, survive a node restart, and the CPO rotates its token and
leaves: every kind of row the store keeps is written and read back through the node's HTTP API.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from scn_node.scpi.party import Role
from tests.node.conftest import Network, network  # noqa: F401 (the fixture, on both databases)
from tests.node.parties import FakeParty

LOCATIONS = "/scpi/sender/2.2/locations"
COMMANDS = "/scpi/receiver/2.2/commands/START_SESSION"
HUB_CLIENT_INFO = "/scpi/2.2/hubclientinfo"
CREDENTIALS = "/scpi/2.2/credentials"


def body_of(response: httpx.Response, http_status: int = 200, status_code: int = 1000) -> Any:
    assert response.status_code == http_status, response.text
    body = response.json()
    assert body["status_code"] == status_code, body
    return body


async def statuses(net: Network, asking: FakeParty) -> dict[str, str]:
    response = await net.client.get(
        HUB_CLIENT_INFO, headers={"Authorization": asking.authorization()}
    )
    return {i["party_id"]: i["status"] for i in body_of(response)["data"]}


async def test_register_route_restart_rotate_and_leave(network: Network) -> None:  # noqa: F811
    cpo = await network.connect("DE", "CPO")
    emsp = await network.connect("DE", "MSP", Role.EMSP)

    routed = await network.send(emsp, "GET", LOCATIONS, to=cpo)
    assert body_of(routed)["data"]["path"] == cpo.endpoint_path("locations", "SENDER")
    assert await statuses(network, emsp) == {"CPO": "CONNECTED", "MSP": "CONNECTED"}

    # A command's response_url becomes a proxy the CPO posts the result to.
    result_url = emsp.base_url + "/scpi/emsp/2.2/commands/START_SESSION/1"
    command = json.dumps({"response_url": result_url, "location_id": "LOC1"})
    body_of(await network.send(emsp, "POST", COMMANDS, to=cpo, body=command))
    proxy_url = cpo.module_requests()[-1].json()["response_url"]
    assert proxy_url.startswith(f"{network.url}/scpi/2.2/proxy/")

    await network.stop_node()
    await network.start_node()

    result = b'{"result":"ACCEPTED"}'
    headers = {**network.headers(cpo, emsp), "Content-Type": "application/json"}
    body_of(await network.client.post(proxy_url, headers=headers, content=result))
    delivered = emsp.module_requests()[-1]
    assert (delivered.path, delivered.body) == ("/scpi/emsp/2.2/commands/START_SESSION/1", result)

    old_c = cpo.token_c
    rotated = await network.client.put(
        CREDENTIALS, headers={"Authorization": f"Token {old_c}"}, json=cpo.credentials()
    )
    cpo.token_c = body_of(rotated)["data"]["token"]
    old = await network.client.get(CREDENTIALS, headers={"Authorization": f"Token {old_c}"})
    body_of(old, 401, 2000)
    body_of(await network.send(cpo, "GET", LOCATIONS, to=emsp))

    left = await network.client.delete(CREDENTIALS, headers={"Authorization": cpo.authorization()})
    body_of(left)
    body_of(await network.send(emsp, "GET", LOCATIONS, to=cpo), 200, 4003)
    assert await statuses(network, emsp) == {"CPO": "SUSPENDED", "MSP": "CONNECTED"}
