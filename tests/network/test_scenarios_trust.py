"""OCN's scenarios 9, 14, 16 and 18 (ocn-node.md §9.2) and issue 6's trust cases on two real nodes.

OCN's topology: CPO CH/CPA on node 1, CPO CH/CPB on node 2, eMSP DE/MSP on node 1. Rules are set
through the `scnrules` module as a party would; services and agreements through `scn-registry`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from scn_node.scpi.notary import Notary, request_values, sign
from scn_node.scpi.party import PartyId
from tests.network.conftest import StartNetwork
from tests.network.harness import (
    EXAMPLE_LOCATION,
    LITE_LOCATIONS,
    OcnParties,
    Party,
    TwoNodes,
    eventually,
    key_of,
    ocn_parties,
    registry_cli,
    scpi,
)

pytestmark = pytest.mark.ganache

PUSH_WITHIN = 5.0
LOCATION = "/scpi/sender/2.2/locations/1"


@pytest.fixture
async def ocn(two_nodes: TwoNodes) -> OcnParties:
    return await ocn_parties(two_nodes)


async def rules(
    network: TwoNodes, party: Party, method: str, tail: str, body: Any = None
) -> httpx.Response:
    """A call to the party's own `scnrules` on its node."""
    return await network.client.request(
        method,
        f"{network.url(party.node)}/scpi/2.2/scnrules{tail}",
        headers={"Authorization": party.authorization(), "Content-Type": "application/json"},
        content=None if body is None else json.dumps(body),
    )


def entry(party: Party, *modules: str) -> dict[str, Any]:
    return {
        "country_code": party.party.country_code,
        "party_id": party.party.party_id,
        "modules": list(modules),
    }


def cli(network: TwoNodes, party: Party, *args: str) -> str:
    """`scn-registry …` signed by the party's own registry account."""
    assert party.account is not None
    done = registry_cli(network.chain.rpc_url, *args, signer=party.account)
    assert done.returncode == 0, done.stderr
    return done.stdout


# ------------------------------------------------------------------------ rules (9, 14, 16)


@pytest.mark.parametrize("where", ["local", "remote"])
async def test_9_a_blacklisted_module_is_refused_and_other_modules_pass(
    two_nodes: TwoNodes, ocn: OcnParties, where: str
) -> None:
    cpo = ocn.cpo(where)
    scpi(await rules(two_nodes, cpo, "POST", "/blacklist", entry(ocn.msp, "lite-locations")))
    before = len(cpo.requests_to("lite-locations"))

    refused = await two_nodes.send(ocn.msp, "GET", "/scpi/custom/sender/lite-locations", to=cpo)

    scpi(refused, 2000)
    assert "blacklist" in refused.json()["status_message"]
    assert len(cpo.requests_to("lite-locations")) == before  # never reached the CPO
    # OCN's bug: blacklisting one module blocked them all. Here locations still pass.
    assert scpi(await two_nodes.send(ocn.msp, "GET", LOCATION, to=cpo)) == EXAMPLE_LOCATION


@pytest.mark.parametrize("where", ["local", "remote"])
async def test_9_a_whitelist_admits_only_its_senders(
    two_nodes: TwoNodes, ocn: OcnParties, where: str
) -> None:
    cpo = ocn.cpo(where)
    other = await two_nodes.connect(2 if where == "local" else 1, "NL", "MSQ", ocn.msp.role)
    scpi(await rules(two_nodes, cpo, "PUT", "/whitelist", [entry(ocn.msp, "lite-locations")]))

    allowed = await two_nodes.send(ocn.msp, "GET", "/scpi/custom/sender/lite-locations", to=cpo)
    assert scpi(allowed) == LITE_LOCATIONS
    scpi(await two_nodes.send(ocn.msp, "GET", LOCATION, to=cpo), 2000)  # not its module
    scpi(await two_nodes.send(other, "GET", LOCATION, to=cpo), 2000)  # not on the list


async def test_block_all_by_one_party_leaves_the_others_lists_alone(
    two_nodes: TwoNodes, ocn: OcnParties
) -> None:
    # OCN's block-all deleted every party's rule lists on the node.
    scpi(await rules(two_nodes, ocn.msp, "PUT", "/blacklist", [entry(ocn.cpb)]))
    scpi(await rules(two_nodes, ocn.cpa, "PUT", "/block-all"))

    msp_rules = scpi(await rules(two_nodes, ocn.msp, "GET", ""))
    assert msp_rules["blacklist"] == {"active": True, "list": [entry(ocn.cpb)]}
    scpi(await two_nodes.send(ocn.msp, "GET", LOCATION, to=ocn.cpa), 2000)


def listed(response: httpx.Response) -> set[PartyId]:
    return {PartyId(i["country_code"], i["party_id"]) for i in scpi(response)}


async def hub_client_info(network: TwoNodes, party: Party) -> httpx.Response:
    return await network.client.get(
        f"{network.url(party.node)}/scpi/2.2/hubclientinfo",
        headers={"Authorization": party.authorization()},
    )


async def test_14_a_blacklisted_party_leaves_the_hubclientinfo_list(
    two_nodes: TwoNodes, ocn: OcnParties
) -> None:
    await eventually(
        lambda: _lists(two_nodes, ocn.msp, {ocn.cpa.party, ocn.cpb.party}),
        within=PUSH_WITHIN, what="DE MSP listing CH CPA and CH CPB",
    )  # fmt: skip
    scpi(await rules(two_nodes, ocn.msp, "PUT", "/blacklist", [entry(ocn.cpa)]))

    seen = listed(await hub_client_info(two_nodes, ocn.msp))
    assert ocn.cpa.party not in seen
    assert ocn.cpb.party in seen


async def _lists(network: TwoNodes, party: Party, parties: set[PartyId]) -> bool:
    return parties <= listed(await hub_client_info(network, party))


async def test_16_a_whitelist_limits_the_pushes_a_party_gets(
    start_network: StartNetwork,
) -> None:
    network = await start_network(SCN_STILL_ALIVE_SECONDS="1")
    ocn = await ocn_parties(network)
    scpi(await rules(network, ocn.cpa, "PUT", "/whitelist", [entry(ocn.msp)]))

    await ocn.cpb.stop()
    await ocn.msp.stop()

    await ocn.cpa.heard(
        lambda: "OFFLINE" in ocn.cpa.statuses_of(ocn.msp),
        within=PUSH_WITHIN * 2, what="DE MSP is OFFLINE",
    )  # fmt: skip

    async def node_1_knows_cpb_offline() -> bool:
        statuses = {
            (i["party_id"], i["status"]) for i in scpi(await hub_client_info(network, ocn.msp))
        }
        return ("CPB", "OFFLINE") in statuses

    await eventually(
        node_1_knows_cpb_offline, within=PUSH_WITHIN * 2, what="node 1 hearing CH CPB is OFFLINE"
    )
    assert "OFFLINE" not in ocn.cpa.statuses_of(ocn.cpb)


# ------------------------------------------------------------------------ services (18)


@pytest.mark.parametrize("where", ["local", "remote"])
async def test_18_a_service_gets_a_copy_of_what_its_user_sends(
    two_nodes: TwoNodes, ocn: OcnParties, where: str
) -> None:
    # The service is the CPO on the eMSP's node (local) or on the other node (remote); the
    # eMSP asks the other CPO for a location.
    service, receiver = (ocn.cpa, ocn.cpb) if where == "local" else (ocn.cpb, ocn.cpa)
    assert service.account is not None
    cli(two_nodes, service, "set-service", "--name", "Analytics", "--url",
        "https://analytics.example", "-p", "FORWARD_ALL")  # fmt: skip
    cli(two_nodes, ocn.msp, "agree", service.account.address)

    response = await two_nodes.send(ocn.msp, "GET", LOCATION, to=receiver)

    assert scpi(response) == EXAMPLE_LOCATION
    await service.heard(
        lambda: bool(service.requests_to("locations", "SENDER")),
        within=PUSH_WITHIN, what="the copy",
    )  # fmt: skip
    copy = service.requests_to("locations", "SENDER")[-1]
    assert copy.method == "GET" and copy.path == service.endpoint_path("locations", "SENDER") + "/1"
    assert copy.headers["SCPI-from-party-id"] == "MSP"
    assert copy.headers["SCPI-to-party-id"] == service.party.party_id
    assert receiver.requests_to("locations", "SENDER")[-1].headers["SCPI-from-party-id"] == "MSP"


async def test_a_revoked_agreement_stops_the_copies_at_once(
    start_network: StartNetwork,
) -> None:
    # A cache that would keep the agreement for ten minutes: only the live check can stop it.
    network = await start_network(SCN_REGISTRY_CACHE_SECONDS="600", SCN_REGISTRY_POLL_SECONDS="600")
    ocn = await ocn_parties(network)
    service = ocn.cpb
    assert service.account is not None
    cli(network, service, "set-service", "--name", "Payments", "--url",
        "https://pay.example", "-p", "FORWARD_MODULE_LOCATIONS_SENDER")  # fmt: skip
    cli(network, ocn.msp, "agree", service.account.address)
    scpi(await network.send(ocn.msp, "GET", LOCATION, to=ocn.cpa))
    await service.heard(
        lambda: len(service.requests_to("locations")) == 1,
        within=PUSH_WITHIN, what="the first copy",
    )  # fmt: skip

    cli(network, ocn.msp, "revoke", service.account.address)
    request_id = "after-revocation"
    scpi(
        await network.send(
            ocn.msp, "GET", LOCATION, to=ocn.cpa, headers={"X-Request-ID": request_id}
        )
    )

    def refused() -> bool:
        return any(
            request_id in str(e.get("message")) and "no standing agreement" in str(e.get("message"))
            for e in network.log_entries(1)
        )

    await eventually(refused, within=PUSH_WITHIN, what="node 1 refusing the copy")
    assert len(service.requests_to("locations")) == 1


# ------------------------------------------------------------------------ signatures


async def test_a_signed_command_verifies_end_to_end_across_two_nodes(
    start_network: StartNetwork,
) -> None:
    network = await start_network()
    ocn = await ocn_parties(network)
    assert ocn.msp.account is not None
    response_url = f"{ocn.msp.endpoint('commands', 'SENDER')}/START_SESSION/1"
    body = {
        "response_url": response_url,
        "token": {"uid": "TOKEN1", "type": "RFID", "contract_id": "DE-MSP-C1"},
        "location_id": "LOC1",
    }
    headers = network.headers(ocn.msp, ocn.cpb)
    values = request_values(
        correlation_id=headers["X-Correlation-ID"],
        sender=ocn.msp.party,
        receiver=ocn.cpb.party,
        params=None,
        body=body,
    )
    headers["SCN-Signature"] = sign(values, key_of(ocn.msp.account)).encode()

    answer = await network.client.post(
        f"{network.url(1)}/scpi/receiver/2.2/commands/START_SESSION",
        headers={**headers, "Content-Type": "application/json"},
        content=json.dumps(body),
    )

    assert scpi(answer) == {"result": "ACCEPTED", "timeout": 10}
    arrived = ocn.cpb.requests_to("commands", "RECEIVER")[-1]
    notary = Notary.decode(arrived.headers["SCN-Signature"])
    received = arrived.json()
    notary.verify(
        request_values(
            correlation_id=arrived.headers["X-Correlation-ID"],
            sender=ocn.msp.party,
            receiver=ocn.cpb.party,
            params=None,
            body=received,
        )
    )
    assert received["response_url"].startswith(network.url(2))
    signers = [s.lower() for s in notary.signatories()]
    nodes = [network.node(n).address.lower() for n in (2, 1)]
    assert signers == [*nodes, ocn.msp.account.address.lower()]
    path = "$['body']['response_url']"
    first, second = (r.rewritten_fields for r in notary.rewrites)  # oldest first
    assert first == {path: response_url}  # node 1 kept the eMSP's own URL
    assert str(second[path]).startswith(network.url(1))  # node 2 kept node 1's


async def test_an_invalid_signature_never_reaches_a_remote_receiver(
    two_nodes: TwoNodes, ocn: OcnParties
) -> None:
    assert ocn.msp.account is not None
    values = request_values(
        correlation_id="corr-x",
        sender=ocn.msp.party,
        receiver=ocn.cpb.party,
        params=None,
        body=None,
    )
    before = len(ocn.cpb.requests_to("locations"))
    response = await two_nodes.send(
        ocn.msp,
        "GET",
        LOCATION,
        to=ocn.cpb,
        headers={"SCN-Signature": sign(values, key_of(ocn.msp.account)).encode()},
    )  # fmt: skip  (signed for another correlation id)
    scpi(response, 2001)  # invalid signature, on a standard route
    assert len(ocn.cpb.requests_to("locations")) == before
