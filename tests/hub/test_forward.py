"""The forward pipeline on one node: a party's request reaches the party it names, byte for byte,
and the answer comes back with this node's URLs in place of the receiver's."""

from __future__ import annotations

import json

from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.party import PartyId, Role
from tests.fakes.backoffice import answer
from tests.fakes.hub import HubUnderTest

LOCATION = b'{"id": "LOC1", "x": 1.50, "name": "\\u00e9"}'


async def test_a_party_reaches_another(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations/LOC1", to=cpo)
    assert (got.status, got.status_code) == (200, 1000)
    assert cpo.module_requests()[-1].path == "/scpi/cpo/2.2/locations/sender/LOC1"


async def test_path_query_and_body_arrive_byte_for_byte(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    path = "/scpi/receiver/2.2/locations/DE/CPO/LOC%201?a=1&b=%20x"
    got = await node.send(cpo, "PUT", path, to=emsp, body=LOCATION)
    assert got.status_code == 1000
    received = emsp.module_requests()[-1]
    assert (received.method, received.path, received.query, received.body) == (
        "PUT",
        "/scpi/emsp/2.2/locations/receiver/DE/CPO/LOC%201",
        "a=1&b=%20x",
        LOCATION,
    )


async def test_the_receiver_gets_the_node_token_and_both_header_families(
    node: HubUnderTest,
) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    await node.send(emsp, "GET", "/ocpi/sender/2.2/tariffs", to=cpo)
    headers = cpo.module_requests()[-1].headers
    assert headers["Authorization"] == f"Token {cpo.token_b}"
    assert headers["X-Correlation-ID"] == "corr-1"
    assert headers["X-Request-ID"] != "req-1"  # each hop has its own request id
    for family in ("SCPI", "OCPI"):
        assert headers[f"{family}-from-country-code"] == "DE"
        assert headers[f"{family}-from-party-id"] == "MSP"
        assert headers[f"{family}-to-country-code"] == "NL"
        assert headers[f"{family}-to-party-id"] == "CPO"


async def test_the_answer_comes_back_with_its_headers_and_the_routing_swapped(
    node: HubUnderTest,
) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    cpo.on(
        "GET",
        cpo.endpoint_path("locations", "SENDER"),
        lambda _: answer([], headers={"X-Total-Count": "7", "X-Limit": "2"}),
    )
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert (got.headers["X-Total-Count"], got.headers["X-Limit"]) == ("7", "2")
    assert (got.headers["X-Request-ID"], got.headers["X-Correlation-ID"]) == ("req-1", "corr-1")
    assert (got.headers["SCPI-from-party-id"], got.headers["SCPI-to-party-id"]) == ("CPO", "MSP")
    assert got.headers["OCPI-from-country-code"] == "NL"


async def test_an_unknown_receiver_is_4001(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=PartyId("XX", "NOP"))
    assert (got.status, got.status_code) == (200, 4001)
    assert "Unknown receiver XX NOP" in got.json()["status_message"]


async def test_a_listed_party_that_never_connected_is_4003(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = node.new_party("NL", "CPO")
    node.list_party(cpo)
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert got.status_code == 4003
    assert "has not connected yet" in got.json()["status_message"]


async def test_a_receiver_without_the_module_is_4001(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO, modules=("locations",))
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/tariffs", to=cpo)
    assert got.status_code == 4001  # 4900 on SCN routes
    assert cpo.module_requests() == []


async def test_a_sender_may_only_send_as_its_own_roles(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    got = await node.send(
        emsp, "GET", "/scpi/sender/2.2/locations", to=emsp,
        headers={"SCPI-from-country-code": "NL", "SCPI-from-party-id": "CPO"},
    )  # fmt: skip
    assert (got.status, got.status_code) == (200, 2001)  # 403/2902 on SCN routes
    assert cpo.module_requests() == []


async def test_a_client_owned_object_must_be_the_senders(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    got = await node.send(
        cpo, "PUT", "/scpi/receiver/2.2/locations/NL/XYZ/LOC1", to=emsp, body=b"{}"
    )
    assert (got.status, got.status_code) == (200, 2001)  # 403/2902 on SCN routes
    assert "names NL XYZ as the object's owner" in got.json()["status_message"]


async def test_dot_segments_are_refused(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations/%2E%2E/credentials", to=cpo)
    assert got.status_code == 2001
    assert cpo.module_requests() == []


async def test_a_body_that_is_not_json_is_refused_before_it_goes_out(node: HubUnderTest) -> None:
    cpo = await node.connect("DE", "CPO", Role.CPO)
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    got = await node.send(cpo, "POST", "/scpi/receiver/2.2/cdrs", to=emsp, body=b"{not json")
    assert (got.status, got.status_code) == (400, 2001)
    assert emsp.module_requests() == []


async def test_missing_routing_headers_are_2001_with_the_ids_kept(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    got = await node.send(
        emsp, "GET", "/scpi/sender/2.2/locations", to=emsp,
        headers={"SCPI-to-party-id": "", "SCPI-to-country-code": ""},
    )  # fmt: skip
    assert (got.status, got.status_code) == (200, 2001)  # 400/2900 on SCN routes
    assert got.headers["X-Request-ID"] == "req-1"


async def test_the_node_itself_is_no_receiver_of_a_command(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    got = await node.send(
        emsp, "POST", "/scpi/receiver/2.2/commands/STOP_SESSION", to=NODE_PARTY, body="{}"
    )
    assert got.status_code == 2001
    assert got.headers["SCPI-from-party-id"] == "SCN" and got.headers["SCPI-to-party-id"] == "MSP"


async def test_a_receiver_that_refuses_the_node_token_is_named(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    cpo.token_b = "changed"
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert got.status_code == 4003
    assert "refused the node's credentials (HTTP 401)" in got.json()["status_message"]


async def test_an_unreachable_receiver_is_named_with_its_node(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    node.network.drop(cpo.base_url)
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert got.status_code == 4003
    assert (
        f"Receiver NL CPO on the node {node.url} could not be reached"
        in got.json()["status_message"]
    )


async def test_a_custom_module_carries_any_body(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO, custom_modules=("lite-locations",))
    got = await node.send(
        emsp, "POST", "/scpi/custom/receiver/lite-locations/x", to=cpo, body=b"plain text"
    )
    assert got.status_code == 1000
    received = cpo.module_requests()[-1]
    assert (received.path, received.body) == (
        "/scpi/cpo/2.2/lite-locations/receiver/x",
        b"plain text",
    )


async def test_a_custom_module_may_not_take_a_standard_name(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    got = await node.send(emsp, "GET", "/scpi/custom/sender/credentials", to=cpo)
    assert got.status_code == 2001
    assert "is a standard module" in got.json()["status_message"]


async def test_a_token_a_cannot_route(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    emsp.token_c = await node.token_a()
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    assert (got.status, got.status_code) == (401, 2000)


async def test_a_receivers_next_page_is_a_node_url_only_the_sender_may_use(
    node: HubUnderTest,
) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    other = await node.connect("BE", "MSP", Role.EMSP)
    page_two = f"{cpo.endpoint('locations', 'SENDER')}?offset=2"
    cpo.on(
        "GET",
        cpo.endpoint_path("locations", "SENDER"),
        lambda r: answer([r.query], headers={"Link": f'<{page_two}>; rel="next"'}),
    )
    first = await node.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    link = first.headers["Link"]
    assert link.startswith(f"<{node.url}/scpi/2.2/proxy/") and cpo.base_url not in link
    proxy_url = link[1 : link.index(">")]
    second = await node.send(emsp, "GET", proxy_url, to=cpo)
    assert second.json()["data"] == ["offset=2"]
    stolen = await node.send(other, "GET", proxy_url, to=cpo)
    assert (stolen.status, stolen.status_code) == (404, 2000)


async def test_a_command_result_reaches_the_sender_through_a_node_url(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    command = json.dumps({"response_url": f"{emsp.base_url}/results/1", "token": {}}).encode()
    await node.send(emsp, "POST", "/scpi/receiver/2.2/commands/START_SESSION", to=cpo, body=command)
    hidden = cpo.module_requests()[-1].json()["response_url"]
    assert hidden.startswith(f"{node.url}/scpi/2.2/proxy/")
    result = await node.send(cpo, "POST", hidden, to=emsp, body=b'{"result":"ACCEPTED"}')
    assert result.status_code == 1000
    assert (emsp.module_requests()[-1].path, emsp.module_requests()[-1].body) == (
        "/results/1",
        b'{"result":"ACCEPTED"}',
    )


async def test_a_response_url_that_is_not_http_is_refused(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    command = b'{"response_url": "ftp://x/1"}'
    got = await node.send(
        emsp, "POST", "/scpi/receiver/2.2/commands/START_SESSION", to=cpo, body=command
    )
    assert got.status_code == 2001
    assert cpo.module_requests() == []


async def test_an_unknown_module_path_is_404(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    got = await node.send(emsp, "GET", "/scpi/sender/2.2/nothing", to=emsp)
    assert (got.status, got.status_code) == (404, 2000)
