"""Two nodes on one registry: requests cross to the receiver's node, signed, both ways."""

from __future__ import annotations

import asyncio
import json

import httpx
from aiohttp import web

from scn_node.hub.message import ScpiRequest
from scn_node.hub.peer import NodeMessage, answer_to_sign
from scn_node.registry.wallet import NodeWallet
from scn_node.scpi.headers import RoutingHeaders
from scn_node.scpi.party import Role
from scn_node.scpi.versions import InterfaceRole
from tests.node.conftest import PARTY_ACCOUNTS, Network
from tests.node.parties import FakeParty, Received


async def test_a_request_reaches_a_party_on_the_peer_node(peers: tuple[Network, Network]) -> None:
    one, two = peers
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    body = b'{ "odd" :  1.0, "last_updated":"2020-01-01T00:00:00.1234567Z"}'
    response = await one.send(
        emsp, "PUT", "/scpi/receiver/2.2/tokens/DE/MSP/T1?type=RFID", to=cpo, body=body
    )
    assert response.status_code == 200, response.text
    got = cpo.module_requests()[-1]
    assert got.path.endswith("/tokens/receiver/DE/MSP/T1") and got.query == "type=RFID"
    assert got.body == body
    assert got.headers["X-Correlation-ID"] == "corr-1"
    assert got.headers["Authorization"] == f"Token {cpo.token_b}"
    assert (got.headers["SCPI-from-party-id"], got.headers["SCPI-to-party-id"]) == ("MSP", "CPO")
    assert response.headers["X-Request-ID"] == "req-1"


async def test_a_command_result_crosses_back_from_the_peer(peers: tuple[Network, Network]) -> None:
    one, two = peers
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    delivered: asyncio.Future[Received] = asyncio.get_running_loop().create_future()

    async def result_arrives(request: web.Request, received: Received) -> web.Response:
        delivered.set_result(received)
        return web.json_response({"status_code": 1000, "timestamp": "2026-01-01T00:00:00Z"})

    async def start_session(request: web.Request, received: Received) -> web.Response:
        url = json.loads(received.body)["response_url"]
        assert url.startswith(two.url)  # the CPO only ever sees its own node
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                url, headers=two.headers(cpo, emsp), content=b'{"result":"ACCEPTED"}'
            )
        assert answer.json()["status_code"] == 1000, answer.text
        return web.json_response(
            {"status_code": 1000, "data": {"result": "ACCEPTED", "timeout": 30},
             "timestamp": "2026-01-01T00:00:00Z"}
        )  # fmt: skip

    emsp.on("POST", "/scpi/emsp/2.2/commands/START_SESSION/42", result_arrives)
    cpo.on("POST", cpo.endpoint_path("commands", "RECEIVER"), start_session)
    command = json.dumps(
        {"response_url": f"{emsp.base_url}/scpi/emsp/2.2/commands/START_SESSION/42",
         "token": {"uid": "T1"}, "location_id": "LOC1"}
    )  # fmt: skip
    response = await one.send(
        emsp, "POST", "/scpi/receiver/2.2/commands/START_SESSION", to=cpo, body=command
    )
    assert response.json()["data"]["result"] == "ACCEPTED", response.text
    result = await asyncio.wait_for(delivered, timeout=10)
    assert result.body == b'{"result":"ACCEPTED"}'
    assert result.headers["SCPI-from-party-id"] == "CPO"


async def test_pages_and_cdr_locations_cross_nodes(peers: tuple[Network, Network]) -> None:
    one, two = peers
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)

    async def page(request: web.Request, received: Received) -> web.Response:
        following = f"{cpo.endpoint('locations', 'SENDER')}?offset=1&limit=1"
        headers = {"Link": f'<{following}>; rel="next"'} if not received.query else {}
        return web.json_response(
            {"status_code": 1000, "data": [received.query], "timestamp": "2026-01-01T00:00:00Z"},
            headers=headers,
        )

    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), page)
    first = await one.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    link = first.headers["Link"]
    assert link.startswith(f"<{one.url}/scpi/2.2/proxy/")
    second = await one.send(emsp, "GET", link[1 : link.index(">")], to=cpo)
    assert second.json()["data"] == ["offset=1&limit=1"], second.text
    assert "Link" not in second.headers

    async def stored(request: web.Request, received: Received) -> web.Response:
        return web.json_response(
            {"status_code": 1000, "timestamp": "2026-01-01T00:00:00Z"},
            headers={"Location": f"{emsp.base_url}/scpi/emsp/2.2/cdrs/7"},
        )

    emsp.on("POST", emsp.endpoint_path("cdrs", "RECEIVER"), stored)
    posted = await two.send(cpo, "POST", "/scpi/receiver/2.2/cdrs", to=emsp, body=b'{"id":"7"}')
    location = posted.headers["Location"]
    assert location.startswith(f"{two.url}/scpi/2.2/proxy/")
    fetched = await two.send(cpo, "GET", location, to=emsp)
    assert fetched.status_code == 200
    assert emsp.module_requests()[-1].path == "/scpi/emsp/2.2/cdrs/7"


async def a_node_message(one: Network, two: Network) -> tuple[FakeParty, FakeParty, bytes]:
    """An eMSP on node one, a CPO on node two, and a node message between them."""
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    message = NodeMessage(
        ScpiRequest(
            "GET", "locations", InterfaceRole.SENDER,
            RoutingHeaders("r", "c", emsp.party, cpo.party),
        )
    ).encode()  # fmt: skip
    return emsp, cpo, message


async def test_a_forged_or_replayed_node_message_is_refused(
    peers: tuple[Network, Network],
) -> None:
    one, two = peers
    _, cpo, message = await a_node_message(one, two)
    forged = NodeWallet("0x" + "11" * 32).sign(message)
    refused = await two.client.post(
        "/scn/message", content=message, headers={"SCN-Signature": forged}
    )
    assert (refused.status_code, refused.json()["status_code"]) == (403, 4901)
    real = NodeWallet("0x" + bytes(one.node_account.key).hex()).sign(message)
    accepted = await two.client.post(
        "/scn/message", content=message, headers={"SCN-Signature": real}
    )
    assert accepted.status_code == 200 and accepted.json()["status_code"] == 1000
    replayed = await two.client.post(
        "/scn/message", content=message, headers={"SCN-Signature": real}
    )
    assert (replayed.status_code, replayed.json()["status_code"]) == (409, 4902)
    assert len(cpo.module_requests()) == 1


async def test_a_peer_node_down_is_named(peers: tuple[Network, Network]) -> None:
    one, two = peers
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    peer_url = two.url
    await two.stop_node()
    response = await one.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert response.json()["status_code"] == 4003
    assert f"The node {peer_url} of receiver NL CPO could not be reached" in response.text
    await two.start_node()
    await cpo.stop()
    behind = await one.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert behind.json()["status_code"] == 4003
    assert "NL CPO" in behind.text


async def test_a_party_that_moves_node_is_routed_to_its_new_node(
    peers: tuple[Network, Network],
) -> None:
    one, two = peers
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await one.connect("NL", "CPO", Role.CPO)
    cpo_account = one.accounts[PARTY_ACCOUNTS[1]]  # the second account `one` handed out
    assert (await one.registry.get_party(cpo.party)).address == cpo_account.address  # type: ignore[union-attr]
    local = await one.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert local.json()["status_code"] == 1000
    # The CPO lists itself with node two and connects there.
    await one.registry.set_party(cpo_account, cpo.party, [Role.CPO], two.node_account.address)
    token = await two.token_a()
    registered = await two.post_credentials(cpo, token)
    assert registered.json()["status_code"] == 1000, registered.text
    cpo.token_c = registered.json()["data"]["token"]
    admin = {"Authorization": "Token test-admin-key"}
    deadline = asyncio.get_running_loop().time() + 10
    while True:  # node one learns of the move from the registry's events
        status = await one.client.get("/admin/connection-status/NL/CPO", headers=admin)
        if status.json()["status"] == "SUSPENDED":
            break
        assert asyncio.get_running_loop().time() < deadline, status.text
        await asyncio.sleep(0.05)
    before = len(cpo.module_requests())
    moved = await one.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert moved.json()["status_code"] == 1000, moved.text  # now through node two
    assert len(cpo.module_requests()) == before + 1


async def test_every_answer_to_a_node_message_is_signed_by_the_node(
    peers: tuple[Network, Network],
) -> None:
    one, two = peers
    *_, message = await a_node_message(one, two)
    node_two = NodeWallet("0x" + bytes(two.node_account.key).hex())

    def signer_of(answer: httpx.Response, sent: bytes) -> str:
        headers = {k.lower(): v for k, v in answer.headers.items()}
        signed = answer_to_sign(sent, answer.status_code, headers, answer.content)
        return node_two.recover(signed, answer.headers["SCN-Signature"])

    real = NodeWallet("0x" + bytes(one.node_account.key).hex()).sign(message)
    accepted = await two.client.post(
        "/scn/message", content=message, headers={"SCN-Signature": real}
    )
    assert accepted.json()["status_code"] == 1000
    assert signer_of(accepted, message) == two.node_account.address
    other = message.replace(b'"request_id":"r"', b'"request_id":"s"')
    assert signer_of(accepted, other) != two.node_account.address  # bound to its message
    refused = await two.client.post(  # an error answer is signed too
        "/scn/message", content=message, headers={"SCN-Signature": real}
    )
    assert (refused.status_code, refused.json()["status_code"]) == (409, 4902)
    assert signer_of(refused, message) == two.node_account.address


async def test_an_answer_changed_between_the_nodes_is_refused(
    peers: tuple[Network, Network],
) -> None:
    one, two = peers
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    tamper = {"strip": False}

    async def in_the_middle(request: web.Request) -> web.Response:
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"{two.url}/scn/message", content=await request.read(),
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            )  # fmt: skip
        headers = {k: v for k, v in answer.headers.items() if k.lower() == "scn-signature"}
        if tamper["strip"]:
            headers = {}
        body = answer.content + b" "  # still the same JSON, but not the signed bytes
        return web.Response(status=answer.status_code, body=body, headers=headers)

    app = web.Application()
    app.router.add_post("/scn/message", in_the_middle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        # Node 2's listing now points at the man in the middle: node 1 sends through it.
        await one.registry.set_node(two.node_account, f"http://127.0.0.1:{port}")

        async def through_the_middle() -> httpx.Response:
            return await one.send(emsp, "GET", "/scpi/sender/2.2/locations/1", to=cpo)

        for _ in range(100):  # until node 1 has seen the registry event (polled every 0.1 s)
            answer = await through_the_middle()
            if answer.json()["status_code"] != 1000:
                break
            await asyncio.sleep(0.05)
        assert answer.json()["status_code"] == 4000, answer.text
        assert "not by its operator" in answer.json()["status_message"]
        tamper["strip"] = True
        stripped = await through_the_middle()
        assert stripped.json()["status_code"] == 4000
        assert "is not signed" in stripped.json()["status_message"]
    finally:
        await one.registry.set_node(two.node_account, two.url)
        await runner.cleanup()
