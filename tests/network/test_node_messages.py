"""`POST /scn/message` called as a peer node would: node signatures, replays, who may speak.

A message is JSON signed EIP-191 over its exact bytes in `SCN-Signature`. Parties: CPO CH/CPA
and eMSP DE/MSP on node 1, CPO CH/CPB on node 2 (OCN's topology), shared by the module.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from scn_node.scpi.party import PartyId, Role
from tests.network.harness import EXAMPLE_LOCATION, OcnParties, Party, TwoNodes

pytestmark = [pytest.mark.ganache, pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture
def two_nodes(shared_network: TwoNodes) -> TwoNodes:
    return shared_network


@pytest.fixture
def ocn(fresh_ocn: OcnParties) -> OcnParties:
    return fresh_ocn


def now_z(moment: datetime | None = None) -> str:
    moment = moment or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def node_message(
    sender: PartyId,
    receiver: PartyId,
    *,
    method: str = "GET",
    module: str = "locations",
    interface: str = "SENDER",
    path: str = "/1",
    sent_at: str | None = None,
) -> bytes:
    """One routed request as a peer node sends it to `POST /scn/message`."""
    request_id = str(uuid.uuid4())
    message = {
        "id": str(uuid.uuid4()),
        "timestamp": sent_at or now_z(),
        "method": method,
        "module": module,
        "interface": interface,
        "custom": False,
        "path": path,
        "query": "",
        "proxy": None,
        "request_id": request_id,
        "correlation_id": f"corr-{request_id}",
        "sender": {"country_code": sender.country_code, "party_id": sender.party_id},
        "receiver": {"country_code": receiver.country_code, "party_id": receiver.party_id},
        "body": None,
        "body_base64": None,
    }
    return json.dumps(message, separators=(",", ":")).encode()


def signed_by(account: LocalAccount, raw: bytes) -> str:
    """EIP-191 personal_sign over the exact bytes: 0x and 65 bytes of hex."""
    return "0x" + bytes(account.sign_message(encode_defunct(primitive=raw)).signature).hex()


async def post_message(
    network: TwoNodes, node: int, raw: bytes, signature: str | None
) -> httpx.Response:
    headers = {"Content-Type": "application/json", "X-Request-ID": str(uuid.uuid4())}
    if signature is not None:
        headers["SCN-Signature"] = signature
    return await network.client.post(
        f"{network.url(node)}/scn/message", content=raw, headers=headers
    )


def rejected(response: httpx.Response, http_status: int, status_code: int) -> None:
    assert response.status_code == http_status, f"HTTP {response.status_code}: {response.text}"
    body = response.json()
    assert body["status_code"] == status_code, body
    assert body.get("status_message"), body


def delivered(party: Party) -> list[Any]:
    return party.requests_to("locations")


# ------------------------------------------------------------------------ node signatures


async def test_a_message_signed_by_the_senders_node_is_delivered_once(
    two_nodes: TwoNodes, ocn: OcnParties
) -> None:
    raw = node_message(ocn.msp.party, ocn.cpb.party)
    signature = signed_by(two_nodes.node(1).account, raw)
    first = await post_message(two_nodes, 2, raw, signature)
    assert first.status_code == 200, first.text
    assert first.json()["data"] == EXAMPLE_LOCATION
    [arrived] = delivered(ocn.cpb)
    assert arrived.headers["Authorization"] == f"Token {ocn.cpb.token_b}"
    assert arrived.headers["SCPI-from-party-id"] == "MSP"

    replayed = await post_message(two_nodes, 2, raw, signature)
    rejected(replayed, 409, 4902)
    assert len(delivered(ocn.cpb)) == 1


async def test_an_old_message_is_refused_as_a_replay(two_nodes: TwoNodes, ocn: OcnParties) -> None:
    an_hour_ago = now_z(datetime.now(UTC) - timedelta(hours=1))
    raw = node_message(ocn.msp.party, ocn.cpb.party, sent_at=an_hour_ago)
    response = await post_message(two_nodes, 2, raw, signed_by(two_nodes.node(1).account, raw))
    rejected(response, 409, 4902)
    assert delivered(ocn.cpb) == []


async def test_a_forged_or_missing_node_signature_is_refused(
    two_nodes: TwoNodes, ocn: OcnParties
) -> None:
    raw = node_message(ocn.msp.party, ocn.cpb.party)
    forged = await post_message(two_nodes, 2, raw, signed_by(Account.create(), raw))
    rejected(forged, 403, 4901)
    missing = await post_message(two_nodes, 2, raw, None)
    rejected(missing, 403, 4901)
    garbage = await post_message(two_nodes, 2, raw, "0x" + "ab" * 65)
    rejected(garbage, 403, 4901)
    # Signed by node 1, but over other bytes than those sent.
    tampered = await post_message(
        two_nodes, 2, raw.replace(b'"/1"', b'"/2"'), signed_by(two_nodes.node(1).account, raw)
    )
    rejected(tampered, 403, 4901)
    assert delivered(ocn.cpb) == []


async def test_a_sender_not_listed_with_the_signing_node_is_refused(
    two_nodes: TwoNodes, ocn: OcnParties
) -> None:
    # NL/MSB is listed with node 2; node 1 cannot speak for it.
    msb = await two_nodes.connect(2, "NL", "MSB", Role.EMSP)
    node1 = two_nodes.node(1).account
    raw = node_message(msb.party, ocn.cpb.party)
    rejected(await post_message(two_nodes, 2, raw, signed_by(node1, raw)), 403, 4901)
    # A sender that is listed nowhere.
    raw = node_message(PartyId("XX", "NOP"), ocn.cpb.party)
    rejected(await post_message(two_nodes, 2, raw, signed_by(node1, raw)), 403, 4901)
    assert delivered(ocn.cpb) == []


async def test_a_message_for_a_party_not_on_the_node_is_refused(
    two_nodes: TwoNodes, ocn: OcnParties
) -> None:
    # Correctly signed by node 1 for its MSP, but CPA is on node 1, not on node 2.
    raw = node_message(ocn.msp.party, ocn.cpa.party)
    response = await post_message(two_nodes, 2, raw, signed_by(two_nodes.node(1).account, raw))
    assert response.json()["status_code"] == 4001, response.text
    assert delivered(ocn.cpa) == []


async def test_an_unknown_receiver_gets_4001(two_nodes: TwoNodes, ocn: OcnParties) -> None:
    response = await two_nodes.send(
        ocn.msp, "GET", "/scpi/sender/2.2/locations", to=PartyId("XX", "NOP")
    )
    assert response.status_code == 200 and response.json()["status_code"] == 4001, response.text
    assert "XX NOP" in response.json()["status_message"]
