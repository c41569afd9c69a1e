"""Two nodes on one registry, over real sockets: a request crosses to the receiver's node through
POST /scn/message and back. The peer protocol itself (signatures, replays, tampering, pages and
command results across nodes, a party that moves) is tested in memory: tests/hub/test_peer.py."""

from __future__ import annotations

from scn_node.scpi.party import Role
from tests.node.conftest import Network


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
