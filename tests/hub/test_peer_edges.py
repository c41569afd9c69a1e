"""Edges of the node-to-node protocol as a unit: bodies that are not UTF-8, the replay guard's
window and memory, and messages a peer node must refuse."""

from __future__ import annotations

import json

import pytest

from scn_node.hub.message import ScpiRequest
from scn_node.hub.peer import NodeMessage, PeerLink, ReplayGuard
from scn_node.registry.wallet import NodeWallet
from scn_node.scpi.errors import InvalidNodeSignature, InvalidParameters, ReplayedMessage
from scn_node.scpi.headers import RoutingHeaders
from scn_node.scpi.party import PartyId
from scn_node.scpi.versions import InterfaceRole
from tests.fakes.hub import key
from tests.fakes.registry import InMemoryRegistry
from tests.fakes.transport import FakeNetwork

MSP, CPO = PartyId.parse("DE", "MSP"), PartyId.parse("NL", "CPO")
T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z
SENT_AT_T0 = "2023-11-14T22:13:20.000Z"


def _message(body: bytes = b"") -> NodeMessage:
    headers = RoutingHeaders("r", "c", MSP, CPO)
    return NodeMessage(
        ScpiRequest("PUT", "tokens", InterfaceRole.RECEIVER, headers, tail="T1", body=body)
    )


class _Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def test_a_body_that_is_not_utf8_crosses_as_base64_and_arrives_byte_for_byte() -> None:
    raw = _message(b"\xff\xfe\x00binary").encode()
    assert json.loads(raw)["body"] is None
    assert NodeMessage.decode(raw).request.body == b"\xff\xfe\x00binary"


def test_a_message_with_an_empty_request_id_is_not_a_node_message() -> None:
    data = json.loads(_message().encode())
    data["request_id"] = ""
    with pytest.raises(InvalidParameters, match="Not a node message") as caught:
        NodeMessage.decode(json.dumps(data).encode())
    assert caught.value.status == 2001


def test_a_message_whose_signature_is_not_text_is_not_a_node_message() -> None:
    data = json.loads(_message().encode())
    data["signature"] = 42
    with pytest.raises(InvalidParameters, match="Not a node message"):
        NodeMessage.decode(json.dumps(data).encode())


def test_a_message_sent_outside_the_window_is_refused_with_its_time() -> None:
    clock = _Clock()
    guard = ReplayGuard(clock=clock, max_age=120)
    clock.now = T0 + 121
    with pytest.raises(ReplayedMessage) as caught:
        guard.check("m1", SENT_AT_T0)
    assert caught.value.message == (
        f"Node message m1 was sent at {SENT_AT_T0}, outside the 120 s window"
    )
    assert (caught.value.http_status, caught.value.status) == (409, 4902)


def test_an_id_is_forgotten_after_twice_the_window_and_refused_before() -> None:
    clock = _Clock()
    guard = ReplayGuard(clock=clock, max_age=120)
    assert guard.check("m1", SENT_AT_T0) == T0
    with pytest.raises(ReplayedMessage, match="delivered before"):
        guard.check("m1", SENT_AT_T0)
    clock.now = T0 + 241  # older than twice max_age: the memory lets it go
    later = "2023-11-14T22:17:21.000Z"
    assert guard.check("m1", later) == T0 + 241


async def test_a_message_about_a_party_listed_with_no_node_is_refused() -> None:
    wallet = NodeWallet(key(1))
    registry = InMemoryRegistry()  # MSP is not listed at all
    link = PeerLink(wallet, registry, FakeNetwork())
    raw = _message().encode()
    with pytest.raises(InvalidNodeSignature) as caught:
        await link.accept(raw, wallet.sign(raw))
    assert caught.value.message == "DE MSP is not listed in the SCN Registry with a node"
    assert (caught.value.http_status, caught.value.status) == (403, 4901)
