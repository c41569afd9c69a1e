"""The node-to-node protocol between two in-memory nodes: a request to a party on the other node
goes there signed, comes back signed, and nothing forged or replayed gets through."""

from __future__ import annotations

from scn_node.hub.message import ScpiRequest
from scn_node.hub.model import OutboundRequest
from scn_node.hub.peer import MESSAGE_PATH, NodeMessage, answer_to_sign
from scn_node.registry.wallet import NodeWallet
from scn_node.scpi.headers import NODE_SIGNATURE, RoutingHeaders
from scn_node.scpi.party import Role
from scn_node.scpi.versions import InterfaceRole
from tests.fakes.backoffice import FakeBackoffice, answer
from tests.fakes.hub import HubUnderTest, key

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


async def test_a_next_page_on_another_node_is_proxied_by_both(two_nodes: Nodes) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    page_two = f"{cpo.endpoint('locations', 'SENDER')}?offset=2"
    cpo.on(
        "GET",
        cpo.endpoint_path("locations", "SENDER"),
        lambda r: answer([r.query], headers={"Link": f'<{page_two}>; rel="next"'}),
    )
    first = await one.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    link = first.headers["Link"]
    assert link.startswith(f"<{one.url}/scpi/2.2/proxy/")
    second = await one.send(emsp, "GET", link[1 : link.index(">")], to=cpo)
    assert second.json()["data"] == ["offset=2"]


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


async def test_every_answer_is_bound_to_its_message(two_nodes: Nodes) -> None:
    one, two = two_nodes
    _, raw = await _message(one, two)
    status, headers, body = await _post(two, raw, one.wallet.sign(raw))
    lower = {k.lower(): v for k, v in headers.items()}
    assert (
        two.wallet.recover(
            answer_to_sign(raw, status, lower, body), headers[NODE_SIGNATURE.lower()]
        )
        == two.address
    )
    other = raw.replace(b'"request_id":"r"', b'"request_id":"s"')
    assert (
        two.wallet.recover(
            answer_to_sign(other, status, lower, body), headers[NODE_SIGNATURE.lower()]
        )
        != two.address
    )


async def test_an_answer_changed_between_the_nodes_is_refused(two_nodes: Nodes) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    serve = one.network.hosts[two.url]

    async def tampered(request: OutboundRequest):  # type: ignore[no-untyped-def]
        got = await serve(request)
        return type(got)(got.status, got.headers, got.body.replace(b"1000", b"1001"))

    one.network.serve(two.url, tampered)
    got = await one.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert got.status_code == 4000
    assert (
        f"The answer of the node {two.url} is signed by" in got.json()["status_message"]
        or "not signed" in got.json()["status_message"]
    )


async def test_a_peer_node_that_is_down_is_named(two_nodes: Nodes) -> None:
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
