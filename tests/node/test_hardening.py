"""Hostile and broken input on the wire: each gets a clear SCPI answer, reaches no one, and the
node lives on. Raw request lines and bytes, bodies and answers the HTTP adapters decode, and the
limits the app and the client set; the hub's own refusals are in tests/hub/test_hardening.py."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import pytest
from aiohttp import web

from scn_node.scpi.party import Role
from tests.node.conftest import Network
from tests.node.parties import FakeParty, Received


def status(response: object) -> tuple[int, int]:
    body = response.json()  # type: ignore[attr-defined]
    return response.status_code, body["status_code"]  # type: ignore[attr-defined]


async def pair(network: Network) -> tuple[FakeParty, FakeParty]:
    cpo = await network.connect("DE", "CPO", Role.CPO, custom_modules=("lite-locations",))
    emsp = await network.connect("DE", "MSP", Role.EMSP)
    return cpo, emsp


async def raw_request(network: Network, method: str, target: str, headers: dict[str, str]) -> bytes:
    """Send a request line exactly as given: HTTP clients would resolve the dot segments."""
    url = urlsplit(network.url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {url.netloc}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    return answer


async def test_deeply_nested_json_is_400_and_the_node_survives(network: Network) -> None:
    # Here, not in tests/hub: the node survives because create_app caps the recursion limit
    # (py_ecc raises it to 100000, where json.loads overflows the C stack before it raises).
    cpo, emsp = await pair(network)
    body = b"[" * 200_000 + b"]" * 200_000
    response = await network.send(
        emsp, "PUT", "/scpi/receiver/2.2/tariffs/DE/MSP/T1", to=cpo, body=body
    )
    assert status(response) == (400, 2001)
    assert "nested too deeply" in response.json()["status_message"]
    assert (await network.client.get("/health")).text == "OK"
    assert cpo.module_requests() == []


async def test_dot_segments_cannot_escape_the_endpoint_or_the_owner_check(network: Network) -> None:
    cpo, emsp = await pair(network)
    headers = network.headers(cpo, emsp)
    for target in (
        "/scpi/receiver/2.2/locations/DE/CPO/../../NL/XXX/LOC1",
        "/scpi/sender/2.2/cdrs/../../../../2.2",
        "/scpi/sender/2.2/cdrs/%2e%2e/x",
    ):
        answer = await raw_request(network, "GET", target, headers)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert b'"status_code":2001' in answer and b"segments" in answer
    assert emsp.module_requests() == []


async def test_an_encoded_module_name_keeps_the_tail_intact(network: Network) -> None:
    cpo, emsp = await pair(network)
    answer = await raw_request(
        network, "GET", "/scpi/sender/2.2/location%73/LOC1", network.headers(emsp, cpo)
    )
    assert answer.startswith(b"HTTP/1.1 200")
    assert (
        cpo.module_requests()[-1].path
        == urlsplit(cpo.endpoint("locations", "SENDER")).path + "/LOC1"
    )


async def test_bad_hubclientinfo_parameters_are_2001(network: Network) -> None:
    _, emsp = await pair(network)
    for query in ("date_from=2020-13-01T00:00:00Z", "offset=%C2%B2", "offset=99999999999999999999"):
        response = await network.client.get(
            f"/scpi/2.2/hubclientinfo?{query}", headers={"Authorization": emsp.authorization()}
        )
        assert status(response) == (200, 2001), query


async def test_a_body_that_cannot_be_read_is_400(network: Network) -> None:
    cpo, emsp = await pair(network)
    headers = {**network.headers(emsp, cpo), "Content-Encoding": "gzip"}
    response = await network.client.put(
        "/scpi/receiver/2.2/tariffs/DE/MSP/T1", headers=headers, content=b"not gzip"
    )
    assert status(response) == (400, 2001)


async def test_a_gzip_answer_that_is_not_gzip_is_a_hub_error(network: Network) -> None:
    cpo, emsp = await pair(network)

    async def broken(request: web.Request, received: Received) -> web.Response:
        return web.Response(body=b"plain", headers={"Content-Encoding": "gzip"})

    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), broken)
    response = await network.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert response.status_code == 200
    assert response.json()["status_code"] in (4000, 4003)


async def test_a_public_node_does_not_call_parties_at_private_addresses(network: Network) -> None:
    await network.stop_node()
    await network.start_node(allow_private_urls=False)
    party = await network.start_party("DE", "CPO")
    await network.list_party(party)
    response = await network.post_credentials(party, await network.token_a())
    assert status(response) == (200, 2001)
    assert "does not call private addresses (127.0.0.1)" in response.json()["status_message"]
    assert party.received == []


async def raw_bytes(network: Network, request: bytes) -> tuple[int, dict[str, object]]:
    """Send bytes no HTTP client sends; the HTTP status and the JSON body of the answer."""
    url = urlsplit(network.url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(request)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


@pytest.mark.parametrize("path", ["/scpi/versions", "/scpi/sender/2.2/locations"])
async def test_a_token_that_is_not_utf8_is_unknown_not_a_crash(network: Network, path: str) -> None:
    cpo, emsp = await pair(network)
    routing = "".join(f"{k}: {v}\r\n" for k, v in network.headers(emsp, cpo).items())
    routing = "\r\n".join(
        line for line in routing.split("\r\n") if not line.startswith("Authorization")
    )
    request = (
        f"GET {path} HTTP/1.1\r\nHost: node\r\nConnection: close\r\n{routing}".encode()
        + b"Authorization: Token \xff\xfe\r\n\r\n"
    )
    status_code, body = await raw_bytes(network, request)
    assert (status_code, body["status_code"]) == (401, 2000)
    assert body["status_message"] == "Unknown credentials token"
    assert cpo.module_requests() == []
