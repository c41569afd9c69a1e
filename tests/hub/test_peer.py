"""The node-to-node protocol between two in-memory nodes: a request to a party on the other node
goes there signed, comes back signed, and nothing forged or replayed gets through."""

from __future__ import annotations

import json

from scn_node.hub.message import ScpiRequest
from scn_node.hub.model import OutboundRequest, PartyResponse
from scn_node.hub.peer import MESSAGE_PATH, NodeMessage, answer_to_sign
from scn_node.registry.wallet import NodeWallet
from scn_node.scpi.headers import NODE_SIGNATURE, RoutingHeaders
from scn_node.scpi.hubclientinfo import ConnectionStatus
from scn_node.scpi.party import Role
from scn_node.scpi.versions import InterfaceRole
from tests.fakes.backoffice import FakeBackoffice, Received, answer
from tests.fakes.hub import HubUnderTest, key
from tests.fakes.transport import response

Nodes = tuple[HubUnderTest, HubUnderTest]


async def _message(one: HubUnderTest, two: HubUnderTest) -> tuple[FakeBackoffice, bytes]:
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    request = ScpiRequest(
        "GET", "locations", InterfaceRole.SENDER, RoutingHeaders("r", "c", emsp.party, cpo.party)
    )
    return cpo, NodeMessage(request).encode()


async def _post(
    node: HubUnderTest, raw: bytes, signature: str
) -> tuple[int, dict[str, str], bytes]:
    headers = {NODE_SIGNATURE: signature}
    got = await node.serve_peer(OutboundRequest("POST", node.url + MESSAGE_PATH, headers, raw))
    return got.status, dict(got.headers), got.body


async def test_a_party_on_another_node_is_reached(two_nodes: Nodes) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    got = await one.send(emsp, "GET", "/scpi/sender/2.2/locations/LOC1?x=1", to=cpo)
    assert (got.status, got.status_code) == (200, 1000)
    received = cpo.module_requests()[-1]
    assert (received.path, received.query) == ("/scpi/cpo/2.2/locations/sender/LOC1", "x=1")
    assert received.headers["X-Correlation-ID"] == "corr-1"
    assert (got.headers["SCPI-from-party-id"], got.headers["SCPI-to-party-id"]) == ("CPO", "MSP")


async def test_the_message_between_nodes_is_signed_by_the_sending_node(two_nodes: Nodes) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    await one.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    (sent,) = [r for r in one.network.sent if r.url == two.url + MESSAGE_PATH]
    assert one.wallet.recover(sent.body, sent.headers[NODE_SIGNATURE]) == one.address


async def test_a_replayed_message_is_refused_and_the_refusal_is_signed(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpo, raw = await _message(one, two)
    signature = one.wallet.sign(raw)
    first = await _post(two, raw, signature)
    assert first[0] == 200
    status, headers, body = await _post(two, raw, signature)
    assert status == 409 and b'"status_code":4902' in body
    signed = answer_to_sign(raw, status, {k.lower(): v for k, v in headers.items()}, body)
    assert two.wallet.recover(signed, headers[NODE_SIGNATURE.lower()]) == two.address
    assert len(cpo.module_requests()) == 1


async def test_a_message_signed_by_another_key_is_refused(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpo, raw = await _message(one, two)
    status, _, body = await _post(two, raw, NodeWallet(key(99)).sign(raw))
    assert status == 403 and b'"status_code":4901' in body
    assert cpo.module_requests() == []


async def test_a_message_without_a_signature_is_refused(two_nodes: Nodes) -> None:
    one, two = two_nodes
    _, raw = await _message(one, two)
    status, _, body = await _post(two, raw, "")
    assert status == 403 and b"Missing SCN-Signature header" in body


async def test_a_party_gone_from_its_node_is_named_by_that_node(two_nodes: Nodes) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    two.network.drop(cpo.base_url)
    got = await one.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert got.status_code == 4003
    assert f"Receiver NL CPO on the node {two.url}" in got.json()["status_message"]


async def test_a_message_for_a_party_not_on_the_node_is_4001(two_nodes: Nodes) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = two.new_party("NL", "CPO")
    two.list_party(cpo)  # listed with node two, never connected there
    got = await one.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert got.status_code == 4001
    assert f"Receiver NL CPO is not connected to the node {two.url}" in got.json()["status_message"]


async def test_a_command_result_crosses_both_nodes_back(two_nodes: Nodes) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    body = f'{{"response_url": "{emsp.base_url}/results/9"}}'.encode()
    await one.send(emsp, "POST", "/scpi/receiver/2.2/commands/START_SESSION", to=cpo, body=body)
    hidden = cpo.module_requests()[-1].json()["response_url"]
    assert hidden.startswith(f"{two.url}/scpi/2.2/proxy/")  # each node puts in its own URL
    result = await two.send(cpo, "POST", hidden, to=emsp, body=b'{"result":"ACCEPTED"}')
    assert result.status_code == 1000
    assert emsp.module_requests()[-1].path == "/results/9"


async def test_a_command_result_crosses_back_from_the_peer(two_nodes: Nodes) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    results: list[Received] = []

    def result_arrives(received: Received) -> PartyResponse:
        results.append(received)
        return answer()

    async def start_session(received: Received) -> PartyResponse:
        url = received.json()["response_url"]
        assert url.startswith(two.url)  # the CPO only ever sees its own node
        posted = await two.send(cpo, "POST", url, to=emsp, body=b'{"result":"ACCEPTED"}')
        assert posted.status_code == 1000, posted.body
        return answer({"result": "ACCEPTED", "timeout": 30})

    emsp.on("POST", "/scpi/emsp/2.2/commands/START_SESSION/42", result_arrives)
    cpo.on("POST", cpo.endpoint_path("commands", "RECEIVER"), start_session)
    command = json.dumps(
        {"response_url": f"{emsp.base_url}/scpi/emsp/2.2/commands/START_SESSION/42",
         "token": {"uid": "T1"}, "location_id": "LOC1"}
    )  # fmt: skip
    got = await one.send(
        emsp, "POST", "/scpi/receiver/2.2/commands/START_SESSION", to=cpo, body=command
    )
    assert got.json()["data"]["result"] == "ACCEPTED", got.body
    (result,) = results
    assert result.body == b'{"result":"ACCEPTED"}'
    assert result.headers["SCPI-from-party-id"] == "CPO"


async def test_pages_and_cdr_locations_cross_nodes(two_nodes: Nodes) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    following = f"{cpo.endpoint('locations', 'SENDER')}?offset=1&limit=1"

    def page(received: Received) -> PartyResponse:
        headers = {"Link": f'<{following}>; rel="next"'} if not received.query else {}
        return answer([received.query], headers=headers)

    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), page)
    first = await one.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    link = first.headers["Link"]
    assert link.startswith(f"<{one.url}/scpi/2.2/proxy/")
    second = await one.send(emsp, "GET", link[1 : link.index(">")], to=cpo)
    assert second.json()["data"] == ["offset=1&limit=1"], second.body
    assert "Link" not in second.headers

    emsp.on(
        "POST",
        emsp.endpoint_path("cdrs", "RECEIVER"),
        lambda _: answer(headers={"Location": f"{emsp.base_url}/scpi/emsp/2.2/cdrs/7"}),
    )
    posted = await two.send(cpo, "POST", "/scpi/receiver/2.2/cdrs", to=emsp, body=b'{"id":"7"}')
    location = posted.headers["Location"]
    assert location.startswith(f"{two.url}/scpi/2.2/proxy/")
    fetched = await two.send(cpo, "GET", location, to=emsp)
    assert fetched.status == 200
    assert emsp.module_requests()[-1].path == "/scpi/emsp/2.2/cdrs/7"


async def test_a_forged_or_replayed_node_message_is_refused(two_nodes: Nodes) -> None:
    one, two = two_nodes
    cpo, message = await _message(one, two)
    forged = NodeWallet("0x" + "11" * 32).sign(message)
    refused = await _post(two, message, forged)
    assert (refused[0], json.loads(refused[2])["status_code"]) == (403, 4901)
    real = one.wallet.sign(message)
    accepted = await _post(two, message, real)
    assert accepted[0] == 200 and json.loads(accepted[2])["status_code"] == 1000
    replayed = await _post(two, message, real)
    assert (replayed[0], json.loads(replayed[2])["status_code"]) == (409, 4902)
    assert len(cpo.module_requests()) == 1


async def test_a_peer_node_down_is_named(two_nodes: Nodes) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    one.network.drop(two.url)
    got = await one.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert got.status_code == 4003
    assert (
        f"The node {two.url} of receiver NL CPO could not be reached"
        in got.json()["status_message"]
    )
    one.network.serve(two.url, two.serve_peer)  # back up, but the CPO behind it is down
    one.network.drop(cpo.base_url)
    behind = await one.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert behind.status_code == 4003
    assert "NL CPO" in behind.json()["status_message"]


async def test_a_party_that_moves_node_is_routed_to_its_new_node(two_nodes: Nodes) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await one.connect("NL", "CPO", Role.CPO)
    assert cpo.account is not None
    listed = await one.registry.party(cpo.party)
    assert listed is not None and listed.address == cpo.account.address
    local = await one.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert local.status_code == 1000
    # The CPO lists itself with node two and connects there.
    two.list_party(cpo)
    registered = await two.register(cpo, await two.token_a())
    assert registered.status_code == 1000, registered.body
    cpo.token_c = registered.json()["data"]["token"]
    await one.hub.handshake.release_moved_parties()  # what node one does on a registry change
    platform = await one.directory.platform_of(cpo.party)
    assert platform is not None and platform.status is ConnectionStatus.SUSPENDED
    before = len(cpo.module_requests())
    moved = await one.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert moved.status_code == 1000, moved.body  # now through node two
    assert len(cpo.module_requests()) == before + 1
    assert any(r.url == two.url + MESSAGE_PATH for r in one.network.sent)


async def test_every_answer_to_a_node_message_is_signed_by_the_node(two_nodes: Nodes) -> None:
    one, two = two_nodes
    _, message = await _message(one, two)

    def signer_of(answer: tuple[int, dict[str, str], bytes], sent: bytes) -> str:
        status, headers, body = answer
        lower = {k.lower(): v for k, v in headers.items()}
        signed = answer_to_sign(sent, status, lower, body)
        return two.wallet.recover(signed, lower[NODE_SIGNATURE.lower()])

    real = one.wallet.sign(message)
    accepted = await _post(two, message, real)
    assert json.loads(accepted[2])["status_code"] == 1000
    assert signer_of(accepted, message) == two.address
    other = message.replace(b'"request_id":"r"', b'"request_id":"s"')
    assert signer_of(accepted, other) != two.address  # bound to its message
    refused = await _post(two, message, real)  # an error answer is signed too
    assert (refused[0], json.loads(refused[2])["status_code"]) == (409, 4902)
    assert signer_of(refused, message) == two.address


async def test_an_answer_changed_between_the_nodes_is_refused(two_nodes: Nodes) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    serve = one.network.hosts[two.url]
    tamper = {"strip": False}

    async def in_the_middle(request: OutboundRequest) -> PartyResponse:
        got = await serve(request)
        signature = NODE_SIGNATURE.lower()
        headers = {} if tamper["strip"] else {signature: got.headers[signature]}
        # still the same JSON, but not the signed bytes
        return response(got.status, got.body + b" ", headers)

    one.network.serve(two.url, in_the_middle)
    got = await one.send(emsp, "GET", "/scpi/sender/2.2/locations/1", to=cpo)
    assert got.status_code == 4000, got.body
    assert "not by its operator" in got.json()["status_message"]
    tamper["strip"] = True
    stripped = await one.send(emsp, "GET", "/scpi/sender/2.2/locations/1", to=cpo)
    assert stripped.status_code == 4000
    assert "is not signed" in stripped.json()["status_message"]
