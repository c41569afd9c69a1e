"""Open routing: a request with no SCPI-to-* goes to the party the hub finds for it.

The CPO is DE CPO and the eMSP DE MSP, both connected to the node; the sender leaves SCPI-to-*
out. Each row of `ROWS` is one way the module table finds a receiver; every test asserts what
the receiver got (URL, routing headers, body) and what the sender got back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from scn_node.hub.modules import KeyKind
from scn_node.hub.ownership import OwnedKey
from scn_node.hub.rules import ListKind, PartyRules, RuleEntry
from scn_node.scpi.party import PartyId, Role
from tests.fakes.backoffice import FakeBackoffice, Received
from tests.fakes.hub import Answer, HubUnderTest

CPO, MSP = PartyId("DE", "CPO"), PartyId("DE", "MSP")
RESPONSE_URL = "https://msp.example/results/1"
TOKEN = {"uid": "0102", "type": "RFID", "contract_id": "NL-XYZ-C12345678-X", "issuer": "x"}
CDR_TOKEN_221 = (
    '{"country_code":"DE","party_id":"MSP","uid":"0102","type":"RFID","contract_id":"X"}'
)


@dataclass(frozen=True)
class Row:
    """A request sent without SCPI-to-*, by `sender`, that reaches `receiver`."""

    id: str
    sender: str  # "cpo" | "emsp"
    method: str
    path: str  # as sent to the node
    body: str = ""
    received: str = ""  # the path below the receiver's endpoint
    keys: tuple[OwnedKey, ...] = ()  # what the index knows beforehand

    @property
    def receiver(self) -> str:
        return "emsp" if self.sender == "cpo" else "cpo"


def command(name: str, body: dict[str, object], *keys: OwnedKey) -> Row:
    content = json.dumps({"response_url": RESPONSE_URL, **body})
    return Row(
        name.lower(),
        "emsp",
        "POST",
        f"/scpi/receiver/2.2/commands/{name}",
        content,
        f"/{name}",
        keys,
    )


def at(kind: KeyKind, key: str, owner: PartyId = CPO, type: str = "") -> OwnedKey:
    return OwnedKey(kind, key, owner, type)


ROWS = [
    Row(
        "authorize-by-index",
        "cpo",
        "POST",
        "/scpi/sender/2.2/tokens/0102/authorize?type=RFID",
        '{"location_id":"LOC1"}',
        "/0102/authorize",
        (at(KeyKind.TOKEN_UID, "0102", MSP, "RFID"),),
    ),
    Row(
        "authorize-by-contract-id",
        "cpo",
        "POST",
        "/scpi/sender/2.2/tokens/DEMSPC12345678X/authorize",
        received="/DEMSPC12345678X/authorize",
    ),
    # The command's token names another eMSP: the receiver is the location's CPO.
    command(
        "START_SESSION", {"token": TOKEN, "location_id": "LOC1"}, at(KeyKind.LOCATION_ID, "LOC1")
    ),
    command("RESERVE_NOW", {"token": TOKEN, "location_id": "LOCX", "evse_uid": "DE*CPO*E1"}),
    command(
        "UNLOCK_CONNECTOR",
        {"location_id": "LOC1", "evse_uid": "3256", "connector_id": "1"},
        at(KeyKind.LOCATION_ID, "LOC1"),
    ),
    command("STOP_SESSION", {"session_id": "S1"}, at(KeyKind.SESSION_ID, "S1")),
    command("CANCEL_RESERVATION", {"reservation_id": "R1"}, at(KeyKind.RESERVATION_ID, "R1")),
    Row(
        "chargingprofiles",
        "emsp",
        "PUT",
        "/scpi/receiver/2.2/chargingprofiles/S1",
        json.dumps({"charging_profile": {"charging_rate_unit": "W"}, "response_url": RESPONSE_URL}),
        "/S1",
        (at(KeyKind.SESSION_ID, "S1"),),
    ),
    Row(
        "charging-preferences",
        "emsp",
        "PUT",
        "/scpi/sender/2.2/sessions/S1/charging_preferences",
        '{"profile_type":"FAST"}',
        "/S1/charging_preferences",
        (at(KeyKind.SESSION_ID, "S1"),),
    ),
    Row(
        "cdr-221",
        "cpo",
        "POST",
        "/scpi/receiver/2.2/cdrs",
        '{"id":"CDR1", "cdr_token":' + CDR_TOKEN_221 + ', "total_energy":1e1}',
    ),
    Row(
        "cdr-22-contract-id",
        "cpo",
        "POST",
        "/scpi/receiver/2.2/cdrs",
        '{"id":"CDR1","cdr_token":{"uid":"0102","type":"RFID","contract_id":"DE-MSP-C12345678"}}',
    ),
    Row(
        "session-push",
        "cpo",
        "PUT",
        "/scpi/receiver/2.2/sessions/DE/CPO/S1",
        '{"id":"S1", "cdr_token":' + CDR_TOKEN_221 + "}",
        "/DE/CPO/S1",
    ),
    Row(
        "location",
        "emsp",
        "GET",
        "/scpi/sender/2.2/locations/LOC1",
        received="/LOC1",
        keys=(at(KeyKind.LOCATION_ID, "loc1"),),
    ),
    Row(
        "evse",
        "emsp",
        "GET",
        "/scpi/sender/2.2/locations/LOC1/3256",
        received="/LOC1/3256",
        keys=(at(KeyKind.LOCATION_ID, "LOC1"),),
    ),
]


async def connect_pair(node: HubUnderTest) -> dict[str, FakeBackoffice]:
    return {
        "cpo": await node.connect("DE", "CPO", Role.CPO),
        "emsp": await node.connect("DE", "MSP", Role.EMSP),
    }


def to_and_from(received: Received, family: str = "SCPI") -> tuple[PartyId, PartyId]:
    h = received.headers
    return (
        PartyId(h[f"{family}-to-country-code"], h[f"{family}-to-party-id"]),
        PartyId(h[f"{family}-from-country-code"], h[f"{family}-from-party-id"]),
    )


def answered_by(got: Answer, family: str = "SCPI") -> tuple[PartyId, PartyId]:
    """(FROM, TO) of the answer the sender got."""
    h = got.headers
    return (
        PartyId(h[f"{family}-from-country-code"], h[f"{family}-from-party-id"]),
        PartyId(h[f"{family}-to-country-code"], h[f"{family}-to-party-id"]),
    )


def without_response_url(body: bytes) -> object:
    data = json.loads(body)
    data.pop("response_url", None)
    return data


# ---------------------------------------------------------------- every key row


@pytest.mark.parametrize("family", ["SCPI", "OCPI"])
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
async def test_the_receiver_the_key_names_gets_the_request(
    node: HubUnderTest, row: Row, family: str
) -> None:
    parties = await connect_pair(node)
    sender, receiver = parties[row.sender], parties[row.receiver]
    await node.directory.remember_keys(list(row.keys))
    headers = node.headers(sender, None, family=family)
    got = await node.send_as_is(row.method, row.path, headers, row.body.encode())

    assert got.status == 200 and got.status_code == 1000, got.body
    assert answered_by(got) == answered_by(got, "OCPI") == (receiver.party, sender.party)
    (received,) = receiver.module_requests()
    module = row.path.split("/")[4]
    interface = row.path.split("/")[2]
    query = row.path.partition("?")[2]
    assert received.method == row.method
    assert received.path == receiver.endpoint_path(module, interface) + row.received
    assert received.query == query
    assert to_and_from(received) == to_and_from(received, "OCPI") == (receiver.party, sender.party)
    if "response_url" in row.body:  # rewritten to a node URL: test_rewrites* check how
        assert without_response_url(received.body) == without_response_url(row.body.encode())
    else:
        assert received.body == row.body.encode()
    assert sender.module_requests() == []


# ---------------------------------------------------------------- refusals


async def test_a_location_at_two_cpos_is_refused_with_how_many_not_who(node: HubUnderTest) -> None:
    parties = await connect_pair(node)
    other = await node.connect("NL", "TNM", Role.CPO)
    await node.directory.remember_keys(
        [at(KeyKind.LOCATION_ID, "LOC1"), at(KeyKind.LOCATION_ID, "LOC1", other.party)]
    )
    got = await node.send(parties["emsp"], "GET", "/scpi/sender/2.2/locations/LOC1", to=None)
    assert got.status == 200 and got.status_code == 2002
    message = got.json()["status_message"]
    assert "2 parties" in message
    assert not any(name in message for name in ("CPO", "TNM", "NL"))
    assert answered_by(got) == (PartyId("DE", "SCN"), parties["emsp"].party)
    assert parties["cpo"].module_requests() == other.module_requests() == []


UNKNOWN_CASES = {
    "unknown-location": ("GET", "/scpi/sender/2.2/locations/NOPE", ""),
    "no-key-row": ("GET", "/scpi/receiver/2.2/tokens/DE/MSP/T1", ""),
    "contract-of-unlisted-emsp": ("POST", "/scpi/sender/2.2/tokens/FRXYZC12345678/authorize", ""),
    "body-without-key": ("POST", "/scpi/receiver/2.2/commands/STOP_SESSION", '{"x":1}'),
    "not-json-key": ("POST", "/scpi/receiver/2.2/commands/STOP_SESSION", '{"session_id":7}'),
}


@pytest.mark.parametrize("case", UNKNOWN_CASES)
async def test_no_receiver_found_is_4001(node: HubUnderTest, case: str) -> None:
    parties = await connect_pair(node)
    method, path, body = UNKNOWN_CASES[case]
    got = await node.send(parties["emsp"], method, path, to=None, body=body)
    assert got.status == 200 and got.status_code == 4001
    assert got.json()["status_message"].startswith("No receiver could be determined")
    assert parties["cpo"].module_requests() == []


async def test_a_party_with_the_wrong_role_is_no_receiver(node: HubUnderTest) -> None:
    """A location id owned (so the index says) by an eMSP does not send a command there."""
    parties = await connect_pair(node)
    await node.directory.remember_keys([at(KeyKind.LOCATION_ID, "LOC1", MSP)])
    other = await node.connect("NL", "MSP", Role.EMSP)
    got = await node.send(
        other, "POST", "/scpi/receiver/2.2/commands/UNLOCK_CONNECTOR", to=None,
        body='{"location_id":"LOC1"}',
    )  # fmt: skip
    assert got.status_code == 4001
    assert parties["emsp"].module_requests() == []


async def test_a_sender_the_only_candidate_blocks_gets_the_unknown_answer(
    node: HubUnderTest,
) -> None:
    parties = await connect_pair(node)
    await node.directory.remember_keys([at(KeyKind.LOCATION_ID, "LOC1")])
    unknown = await node.send(parties["emsp"], "GET", "/scpi/sender/2.2/locations/NOPE", to=None)
    blocked_rules = PartyRules(active=ListKind.BLACKLIST, entries=(RuleEntry(MSP),))
    await node.set_rules(parties["cpo"], blocked_rules)
    blocked = await node.send(parties["emsp"], "GET", "/scpi/sender/2.2/locations/LOC1", to=None)
    assert blocked.status == unknown.status == 200
    assert json.loads(blocked.body) | {"timestamp": ""} == json.loads(unknown.body) | {
        "timestamp": ""
    }
    assert dict(blocked.headers) | {"X-Request-ID": ""} == dict(unknown.headers) | {
        "X-Request-ID": ""
    }
    assert parties["cpo"].module_requests() == []


async def test_resolving_a_party_here_asks_the_registry_nothing(
    node: HubUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real-time authorization is on the driver's critical path: one indexed query, no
    registry (chain) lookup for a receiver connected here."""
    parties = await connect_pair(node)
    await node.directory.remember_keys([at(KeyKind.TOKEN_UID, "0102", MSP, "RFID")])
    asked: list[PartyId] = []
    party = node.registry.party

    async def counted(who: PartyId, *, fresh: bool = False) -> object:
        asked.append(who)
        return await party(who, fresh=fresh)

    monkeypatch.setattr(node.registry, "party", counted)
    got = await node.send(parties["cpo"], "POST", "/scpi/sender/2.2/tokens/0102/authorize", to=None)
    assert got.status_code == 1000 and asked == []
