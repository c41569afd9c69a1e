"""OCPI 2.2.1 over HTTP, through the whole node (create_app with injected fakes, no chain): the
node lists both versions, serves 2.2.1's details at their own URLs, and a 2.2.1-only party
completes the credentials handshake at /scpi/2.2.1/credentials."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit

from scn_node.scpi.party import PartyId, Role
from tests.fakes.backoffice import FakeBackoffice
from tests.web.test_injected import ADMIN, Node
from tests.web.test_injected import node as node  # the fixture

NODE_URL = "http://node.test"


def _token(token: str) -> dict[str, str]:
    """How a 2.2.1 party presents a token: Base64-encoded."""
    return {"Authorization": f"Token {base64.b64encode(token.encode()).decode()}"}


async def _data(got: Any, status: int = 200) -> Any:
    body = await got.json()
    assert (got.status, body["status_code"]) == (status, 1000), body
    return body["data"]


async def test_a_2_2_1_party_joins_at_the_2_2_1_credentials(node: Node) -> None:
    issued = await node.client.post("/admin/generate-registration-token", headers=ADMIN)
    token_a = (await issued.json())["token"]

    for prefix in ("scpi", "ocpi"):
        listed = await _data(await node.client.get(f"/{prefix}/versions", headers=_token(token_a)))
        assert listed == [
            {"version": "2.2.1", "url": f"{NODE_URL}/{prefix}/2.2.1"},
            {"version": "2.2", "url": f"{NODE_URL}/{prefix}/2.2"},
        ]
    details = await _data(await node.client.get("/scpi/2.2.1", headers=_token(token_a)))
    assert details["version"] == "2.2.1"
    urls = {(e["identifier"], e["role"]): e["url"] for e in details["endpoints"]}
    assert urls[("credentials", "SENDER")] == f"{NODE_URL}/scpi/2.2.1/credentials"
    assert urls[("locations", "RECEIVER")] == f"{NODE_URL}/scpi/receiver/2.2.1/locations"
    assert all("/2.2.1/" in url for url in urls.values())

    cpo = FakeBackoffice(
        PartyId("NL", "CPO"), Role.CPO, "token-b-cpo", versions=["2.2.1"], base64_tokens=True
    )
    node.network.serve(cpo.base_url, cpo.handle)
    node.registry.list_party(cpo.party, [cpo.role], node.wallet.address)
    registered = await node.client.post(
        "/scpi/2.2.1/credentials", headers=_token(token_a), data=json.dumps(cpo.credentials())
    )
    answered = await _data(registered)
    assert answered["url"] == f"{NODE_URL}/scpi/versions"
    assert [(r.method, r.path) for r in cpo.received] == [
        ("GET", "/scpi/versions"),
        ("GET", "/scpi/2.2.1"),
    ]
    token_c = answered["token"]
    again = await _data(await node.client.get("/scpi/2.2.1/credentials", headers=_token(token_c)))
    assert again["token"] == token_c

    await node.connect(FakeBackoffice(PartyId("DE", "MSP"), Role.EMSP, "token-b-msp"))  # 2.2
    platforms = await _data(await node.client.get("/admin/platforms", headers=ADMIN))
    assert [(p["roles"][0]["party_id"], p["version"]) for p in platforms] == [
        ("CPO", "2.2.1"),
        ("MSP", "2.2"),
    ]
    first = await node.client.get("/scpi/2.2.1/hubclientinfo?limit=1", headers=_token(token_c))
    assert len(await _data(first)) == 1
    assert first.headers["Link"] == (
        f'<{NODE_URL}/scpi/2.2.1/hubclientinfo?offset=1&limit=1>; rel="next"'
    )

    # Every URL of the 2.2.1 details is served (a routed one without headers is refused, not 404).
    for url in urls.values():
        got = await node.client.get(urlsplit(url).path, headers=_token(token_c))
        assert got.status != 404, url
