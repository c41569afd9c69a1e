"""OCN's integration scenarios 1-9 (ocn-node.md §9.2) on two real SCN nodes: routing.

OCN's topology: CPO CH/CPA on node 1, CPO CH/CPB on node 2, eMSP DE/MSP on node 1. A `local`
scenario reaches the CPO on the eMSP's node, a `remote` one the CPO on the other node. SCN has no
party message signing yet, so OCN's `ocn_signature` checks are left out; scenario 9 needs party
rules (issue 6). These tests only send requests, so they share one network per module.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.network.harness import (
    EXAMPLE_CDR,
    EXAMPLE_LOCATION,
    LITE_LOCATIONS,
    PAGE_LIMIT,
    TOTAL_LOCATIONS,
    OcnParties,
    TwoNodes,
    scpi,
)

pytestmark = [pytest.mark.ganache, pytest.mark.asyncio(loop_scope="module")]

WHERE = pytest.mark.parametrize("where", ["local", "remote"])


@pytest.fixture
def two_nodes(shared_network: TwoNodes) -> TwoNodes:
    return shared_network


@pytest.fixture
def ocn(fresh_ocn: OcnParties) -> OcnParties:
    return fresh_ocn


# ------------------------------------------------------------------------ IntegrationTest


async def test_1_health_on_both_nodes(two_nodes: TwoNodes) -> None:
    for url in two_nodes.urls:
        response = await two_nodes.client.get(f"{url}/health")
        assert response.status_code == 200 and response.text == "OK"


async def test_2_both_nodes_find_the_node_of_a_party(two_nodes: TwoNodes, ocn: OcnParties) -> None:
    expected = {"url": two_nodes.url(1), "address": two_nodes.node(1).address.lower()}
    for url in two_nodes.urls:
        for path in ("/scn/registry/node/de/msp", "/ocn/registry/node/DE/MSP"):
            response = await two_nodes.client.get(url + path)
            assert response.status_code == 200, response.text
            assert response.json() == expected
        cpb = (await two_nodes.client.get(f"{url}/scn/registry/node/CH/CPB")).json()
        assert cpb == {"url": two_nodes.url(2), "address": two_nodes.node(2).address.lower()}
        unknown = await two_nodes.client.get(f"{url}/scn/registry/node/XX/NOP")
        assert unknown.status_code == 404


@WHERE
async def test_3_basic_request(two_nodes: TwoNodes, ocn: OcnParties, where: str) -> None:
    cpo = ocn.cpo(where)
    response = await two_nodes.send(
        ocn.msp, "GET", "/scpi/sender/2.2/locations/1", to=cpo,
        headers={"X-Request-ID": "msp-req-3", "X-Correlation-ID": "msp-corr-3"},
    )  # fmt: skip
    assert scpi(response) == EXAMPLE_LOCATION
    assert response.headers["X-Request-ID"] == "msp-req-3"
    assert response.headers["X-Correlation-ID"] == "msp-corr-3"
    assert response.headers["SCPI-from-party-id"] == cpo.party.party_id
    assert response.headers["SCPI-to-party-id"] == "MSP"
    [arrived] = cpo.requests_to("locations")
    assert arrived.path == cpo.endpoint_path("locations", "SENDER") + "/1"
    assert arrived.headers["Authorization"] == f"Token {cpo.token_b}"
    assert arrived.headers["X-Correlation-ID"] == "msp-corr-3"
    assert arrived.headers["X-Request-ID"] != "msp-req-3"
    assert arrived.headers["SCPI-from-party-id"] == "MSP"
    assert arrived.headers["SCPI-to-party-id"] == cpo.party.party_id


@WHERE
async def test_4_pagination(two_nodes: TwoNodes, ocn: OcnParties, where: str) -> None:
    cpo = ocn.cpo(where)
    response = await two_nodes.send(ocn.msp, "GET", "/scpi/sender/2.2/locations?limit=4", to=cpo)
    assert len(scpi(response)) == 4
    assert response.headers["X-Limit"] == str(PAGE_LIMIT)
    assert response.headers["X-Total-Count"] == str(TOTAL_LOCATIONS)
    # The link points at the sender's own node, never at the party or the other node.
    link = re.fullmatch(
        rf'<({re.escape(two_nodes.url(1))}/scpi/2\.2/proxy/[^>]+)>; rel="next"',
        response.headers["Link"],
    )
    assert link is not None, response.headers["Link"]
    assert cpo.requests_to("locations")[-1].query == "limit=4"

    page = await two_nodes.send(ocn.msp, "GET", link.group(1), to=cpo)
    assert [loc["id"] for loc in scpi(page)] == [f"LOC{i}" for i in range(5, 10)]
    assert cpo.requests_to("locations")[-1].query == f"offset=4&limit={PAGE_LIMIT}"
    assert page.headers["Link"].startswith(f"<{two_nodes.url(1)}/scpi/2.2/proxy/")
    assert page.headers["Link"] != response.headers["Link"]


@WHERE
async def test_5_cdr_post_and_location(two_nodes: TwoNodes, ocn: OcnParties, where: str) -> None:
    cpo = ocn.cpo(where)
    posted = await two_nodes.send(
        cpo, "POST", "/scpi/receiver/2.2/cdrs", to=ocn.msp, body=EXAMPLE_CDR
    )
    scpi(posted)
    [arrived] = ocn.msp.requests_to("cdrs")
    assert arrived.json() == EXAMPLE_CDR
    location = posted.headers["Location"]
    # A node URL on the CPO's own node stands for the eMSP's CDR URL.
    assert location.startswith(f"{two_nodes.url(cpo.node)}/scpi/2.2/proxy/"), location

    fetched = await two_nodes.send(cpo, "GET", location, to=ocn.msp)
    assert scpi(fetched) == EXAMPLE_CDR
    assert ocn.msp.requests_to("cdrs")[-1].path == ocn.msp.endpoint_path("cdrs", "RECEIVER") + "/1"


@WHERE
async def test_6_async_command_result(two_nodes: TwoNodes, ocn: OcnParties, where: str) -> None:
    cpo = ocn.cpo(where)
    response_url = ocn.msp.endpoint("commands", "SENDER") + "/START_SESSION/1"
    command = {
        "response_url": response_url,
        "token": {
            "country_code": "DE", "party_id": "MSP", "uid": "0102030405", "type": "APP_USER",
            "contract_id": "DE-MSP-C12345-6", "issuer": "Test MSP", "valid": True,
            "whitelist": "ALWAYS", "last_updated": "2026-11-23T10:00:00Z",
        },
        "location_id": "LOC1",
    }  # fmt: skip
    response = await two_nodes.send(
        ocn.msp, "POST", "/scpi/receiver/2.2/commands/START_SESSION", to=cpo, body=command
    )
    assert scpi(response) == {"result": "ACCEPTED", "timeout": 10}
    # The CPO saw a node URL of its own node, never the eMSP's.
    [arrived] = cpo.requests_to("commands")
    hidden = arrived.json()["response_url"]
    assert hidden != response_url
    assert hidden.startswith(f"{two_nodes.url(cpo.node)}/scpi/2.2/proxy/"), hidden
    [result_answer] = ocn.results[cpo.party.party_id]
    scpi(result_answer)

    def result_arrived() -> list[Any]:
        path = ocn.msp.endpoint_path("commands", "SENDER") + "/START_SESSION/1"
        return [r for r in ocn.msp.received if r.method == "POST" and r.path == path]

    [result] = await ocn.msp.heard(result_arrived, within=10, what="the CommandResult")
    assert result.json() == {"result": "ACCEPTED"}
    assert result.headers["SCPI-from-party-id"] == cpo.party.party_id


# ------------------------------------------------------------------------ CustomModulesIntegrationTest


@WHERE
async def test_7_custom_module_get(two_nodes: TwoNodes, ocn: OcnParties, where: str) -> None:
    cpo = ocn.cpo(where)
    response = await two_nodes.send(ocn.msp, "GET", "/scpi/custom/sender/lite-locations", to=cpo)
    assert scpi(response) == LITE_LOCATIONS


@WHERE
async def test_8_custom_module_bodies_verbatim(
    two_nodes: TwoNodes, ocn: OcnParties, where: str
) -> None:
    cpo = ocn.cpo(where)
    for body in (
        "simple string",
        '[{"hello":"world"},{"beautiful":"day"}]',
        '{"key1":"value1"}',
        '{"key1": ["value1", "value2"]}',
    ):
        response = await two_nodes.send(
            ocn.msp, "POST", "/scpi/custom/sender/lite-locations", to=cpo, body=body
        )
        assert scpi(response) == body
        assert cpo.requests_to("lite-locations")[-1].body == body.encode()
    empty = await two_nodes.send(ocn.msp, "POST", "/scpi/custom/sender/lite-locations", to=cpo)
    assert scpi(empty) is None
    assert cpo.requests_to("lite-locations")[-1].body == b""
