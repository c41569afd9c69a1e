"""Re-signed rewrite chains: the node hides a signed URL behind its own and signs the change,
keeping the party's signature; a receiver verifies the chain back to the party, on one node
and across two (helpers: test_signatures.py)."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, quote

from scn_node.hub.model import PartyResponse
from scn_node.hub.rules import PartyRules
from scn_node.scpi.notary import Notary
from scn_node.scpi.party import Role
from tests.fakes.backoffice import Received
from tests.fakes.hub import HubUnderTest
from tests.fakes.transport import response
from tests.hub.test_signatures import (
    COMMANDS,
    LOCATIONS,
    TOKEN,
    TOKENS,
    account,
    answers,
    connect_pair,
    expect,
    same,
    signature_received,
    signed,
    signed_answer,
    signed_envelope,
    values_received,
    verify_reply,
)

CDRS = "/scpi/receiver/2.2/cdrs"
PROFILES = "/scpi/receiver/2.2/chargingprofiles"
RESPONSE_URL_PATH = "$['body']['response_url']"
RESPONSE_URL_PARAM = "$['params']['response_url']"
LINK_PATH = "$['headers']['link']"
LOCATION_PATH = "$['headers']['location']"


def start_session(response_url: str) -> bytes:
    return json.dumps(
        {"response_url": response_url, "token": {"uid": "T1", "type": "RFID"}, "location_id": "L1"}
    ).encode()


def lower(addresses: list[str]) -> list[str]:
    return [address.lower() for address in addresses]


# ---------------------------------------------------------------- on one node


async def test_a_signed_response_url_is_re_signed_by_the_node(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    body = json.dumps({"response_url": f"{emsp.base_url}/r/1", "token": {"uid": "T1"}}).encode()
    got = await node.send(
        emsp, "POST", COMMANDS, to=cpo, body=body, headers=signed(emsp, cpo, COMMANDS, body)
    )
    assert got.status_code == 1000
    received = cpo.module_requests()[-1]
    notary = Notary.decode(received.headers["SCN-Signature"])
    notary.verify_exactly(values_received(received))  # the node's signature, then the party's
    assert lower(notary.signatories()) == lower([node.address, account(emsp).address])
    assert notary.rewrites[0].rewritten_fields == {RESPONSE_URL_PATH: f"{emsp.base_url}/r/1"}


async def test_a_signed_command_response_url_is_re_signed_by_the_node(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    original = f"{emsp.base_url}/scpi/emsp/2.2/commands/START_SESSION/42"
    body = start_session(original)
    headers = signed(emsp, cpo, COMMANDS, body)

    got = await node.send(emsp, "POST", COMMANDS, to=cpo, body=body, headers=headers)

    expect(got, 1000)
    (received,) = cpo.module_requests()
    proxy_url = received.json()["response_url"]
    assert proxy_url.startswith(f"{node.url}/scpi/2.2/proxy/")
    notary = signature_received(received)
    assert same(notary.signatory, node.address)
    (rewrite,) = notary.rewrites
    assert rewrite.rewritten_fields == {RESPONSE_URL_PATH: original}
    assert rewrite.signatory == account(emsp).address
    notary.verify_exactly(values_received(received))


async def test_a_signed_charging_profile_response_url_param_is_re_signed(
    node: HubUnderTest,
) -> None:
    cpo, emsp = await connect_pair(node)
    original = f"{emsp.base_url}/scpi/emsp/2.2/chargingprofiles/result/1?ref=a%2Fb"
    path = f"{PROFILES}/SESSION1?duration=900&response_url={quote(original, safe='')}"
    headers = signed(emsp, cpo, path)

    got = await node.send(emsp, "GET", path, to=cpo, headers=headers)

    expect(got, 1000)
    (received,) = cpo.module_requests()
    params = dict(parse_qsl(received.query))
    assert params["duration"] == "900"
    assert params["response_url"].startswith(f"{node.url}/scpi/2.2/proxy/")
    notary = signature_received(received)
    assert same(notary.signatory, node.address)
    (rewrite,) = notary.rewrites
    assert rewrite.rewritten_fields == {RESPONSE_URL_PARAM: original}
    assert rewrite.signatory == account(emsp).address
    notary.verify_exactly(values_received(received))


async def test_a_signed_next_page_link_is_re_signed_by_the_node(node: HubUnderTest) -> None:
    emsp = await node.connect("DE", "MSP", Role.EMSP)
    cpo = await node.connect("NL", "CPO", Role.CPO)
    link = f'<{cpo.endpoint("locations", "SENDER")}?offset=5>; rel="next"'
    cpo.on(
        "GET",
        cpo.endpoint_path("locations", "SENDER"),
        lambda _: response(200, signed_answer(cpo, [], link=link), {"Link": link}),
    )
    got = await node.send(emsp, "GET", LOCATIONS, to=cpo)
    assert got.headers["Link"].startswith(f"<{node.url}/scpi/2.2/proxy/")
    notary = verify_reply(got)
    assert notary.rewrites[0].rewritten_fields == {LINK_PATH: link}


async def test_a_signed_page_link_is_re_signed_by_the_node(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    link = f'<{cpo.endpoint("locations", "SENDER")}?offset=2&limit=2>; rel="next"'

    def page(received: Received) -> PartyResponse:
        counts = {"X-Limit": "2", "X-Total-Count": "3"}
        if received.query:  # the last page: no Link, nothing for the node to rewrite
            body = signed_envelope(cpo, [{"id": "LOC2"}], limit="2", total_count="3")
            return response(200, json.dumps(body).encode(), counts)
        data = [{"id": "LOC0"}, {"id": "LOC1"}]
        body = signed_envelope(cpo, data, limit="2", total_count="3", link=link)
        return response(200, json.dumps(body).encode(), {**counts, "Link": link})

    cpo.on("GET", cpo.endpoint_path("locations", "SENDER"), page)

    got = await node.send(emsp, "GET", LOCATIONS, to=cpo)

    expect(got, 1000)
    node_link = got.headers["Link"]
    assert node_link.startswith(f"<{node.url}/scpi/2.2/proxy/")
    assert (got.headers["X-Limit"], got.headers["X-Total-Count"]) == ("2", "3")
    notary = verify_reply(got)
    assert same(notary.signatory, node.address)
    (rewrite,) = notary.rewrites
    assert rewrite.rewritten_fields == {LINK_PATH: link}
    assert rewrite.signatory == account(cpo).address

    last = await node.send(emsp, "GET", node_link[1 : node_link.index(">")], to=cpo)
    expect(last, 1000)
    assert "Link" not in last.headers
    assert verify_reply(last).signatories() == [account(cpo).address]


async def test_a_signed_cdr_location_is_re_signed_by_the_node(node: HubUnderTest) -> None:
    cpo, emsp = await connect_pair(node)
    location = f"{emsp.base_url}/scpi/emsp/2.2/cdrs/CDR1"
    answers(
        emsp,
        "POST",
        emsp.endpoint_path("cdrs", "RECEIVER"),
        signed_envelope(emsp, location=location),
        Location=location,
    )
    cdr = b'{"id": "CDR1"}'
    headers = signed(cpo, emsp, CDRS, cdr)

    got = await node.send(cpo, "POST", CDRS, to=emsp, body=cdr, headers=headers)

    expect(got, 1000)
    assert got.headers["Location"].startswith(f"{node.url}/scpi/2.2/proxy/")
    notary = verify_reply(got)
    assert same(notary.signatory, node.address)
    (rewrite,) = notary.rewrites
    assert rewrite.rewritten_fields == {LOCATION_PATH: location}
    assert rewrite.signatory == account(emsp).address


async def test_a_result_posted_to_a_response_url_proxy_is_checked_and_delivered_signed(
    node: HubUnderTest,
) -> None:
    """The eMSP's rule requires signatures: the CPO's result to the node URL must be signed."""
    cpo, emsp = await connect_pair(node)
    await node.set_rules(emsp, PartyRules(signatures=True))  # PUT scnrules/signatures
    result_path = "/scpi/emsp/2.2/commands/START_SESSION/42"
    body = start_session(emsp.base_url + result_path)
    command = await node.send(
        emsp, "POST", COMMANDS, to=cpo, body=body, headers=signed(emsp, cpo, COMMANDS, body)
    )
    expect(command, 3000, "Receiver DE CPO answered without the scn_signature")
    proxy_url = cpo.module_requests()[-1].json()["response_url"]
    answers(emsp, "POST", result_path, signed_envelope(emsp))
    result = b'{"result": "ACCEPTED"}'

    unsigned = await node.send(cpo, "POST", proxy_url, to=emsp, body=result)
    expect(unsigned, 2002, "Receiver DE MSP requires signed requests")
    assert emsp.module_requests() == []

    headers = signed(cpo, emsp, proxy_url, result)
    delivered = await node.send(cpo, "POST", proxy_url, to=emsp, body=result, headers=headers)
    expect(delivered, 1000)
    assert verify_reply(delivered).signatories() == [account(emsp).address]
    (got,) = emsp.module_requests()
    assert (got.path, got.body) == (result_path, result)
    notary = signature_received(got)
    notary.verify_exactly(values_received(got))
    assert notary.signatories() == [account(cpo).address]


# ---------------------------------------------------------------- across two nodes


async def test_a_signed_command_chain_verifies_end_to_end_across_nodes(
    two_nodes: tuple[HubUnderTest, HubUnderTest],
) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    original = f"{emsp.base_url}/scpi/emsp/2.2/commands/START_SESSION/42"
    body = start_session(original)
    headers = signed(emsp, cpo, COMMANDS, body)

    got = await one.send(emsp, "POST", COMMANDS, to=cpo, body=body, headers=headers)

    expect(got, 1000)
    (received,) = cpo.module_requests()
    notary = signature_received(received)
    notary.verify_exactly(values_received(received))
    assert lower(notary.signatories()) == lower([two.address, one.address, account(emsp).address])
    # Each rewrite holds the response_url its signer saw: node one's URL, then the eMSP's own.
    seen_by_two = received.json()["response_url"]
    assert seen_by_two.startswith(f"{two.url}/scpi/2.2/proxy/")
    by_emsp, by_one = notary.rewrites
    seen_by_one = by_one.rewritten_fields[RESPONSE_URL_PATH]
    assert isinstance(seen_by_one, str) and seen_by_one.startswith(f"{one.url}/scpi/2.2/proxy/")
    assert by_emsp.rewritten_fields == {RESPONSE_URL_PATH: original}


async def test_a_signed_page_link_chain_verifies_end_to_end_across_nodes(
    two_nodes: tuple[HubUnderTest, HubUnderTest],
) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    link = f'<{cpo.endpoint("locations", "SENDER")}?offset=1&limit=1>; rel="next"'
    answers(
        cpo,
        "GET",
        cpo.endpoint_path("locations", "SENDER"),
        signed_envelope(cpo, [{"id": "LOC0"}], link=link),
        Link=link,
    )

    got = await one.send(emsp, "GET", LOCATIONS, to=cpo)

    expect(got, 1000)
    assert got.headers["Link"].startswith(f"<{one.url}/scpi/2.2/proxy/")
    notary = verify_reply(got)
    assert lower(notary.signatories()) == lower([one.address, two.address, account(cpo).address])
    by_cpo, by_two = notary.rewrites
    assert by_cpo.rewritten_fields == {LINK_PATH: link}
    seen_by_one = by_two.rewritten_fields[LINK_PATH]
    assert isinstance(seen_by_one, str) and seen_by_one.startswith(f"<{two.url}/scpi/2.2/proxy/")


async def test_an_invalid_signature_never_reaches_a_remote_receiver(
    two_nodes: tuple[HubUnderTest, HubUnderTest],
) -> None:
    one, two = two_nodes
    emsp = await one.connect("DE", "MSP", Role.EMSP)
    cpo = await two.connect("NL", "CPO", Role.CPO)
    headers = signed(emsp, cpo, TOKENS, TOKEN)
    altered = TOKEN.replace(b"T1", b"T2")

    got = await one.send(emsp, "PUT", TOKENS, to=cpo, body=altered, headers=headers)

    expect(got, 2001, "Request has been modified")
    assert cpo.module_requests() == []
