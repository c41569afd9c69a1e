"""`--json` of a party and a service: the bytes scripts read, built from the hub's own values."""

from __future__ import annotations

import pytest

from registry_cli.output import Output, party_json, service_json
from scn_node.hub.model import ListedParty, Service
from scn_node.scpi.party import ModuleId, PartyId, Role
from scn_node.scpi.services import ServicePermission

PARTY = ListedParty(
    PartyId("DE", "MSP"),
    (Role.CPO, Role.EMSP),
    "0x9bC1169Ca09555bf2721A5C9eC6D69c8073bfeB4",
    "http://localhost:8080",
    "0x00000000000000000000000000000000000000Aa",
    (ModuleId.COMMANDS,),
    (ModuleId.CDRS, ModuleId.COMMANDS),
)
SERVICE = Service(
    "0x00000000000000000000000000000000000000Bb",
    PartyId("CH", "SRV"),
    (ServicePermission.FORWARD_ALL, ServicePermission.FORWARD_MODULE_CDRS_SENDER),
    name="Payments",
    url="https://pay.example",
)


def test_a_party_prints_as_the_cli_always_did(capsys: pytest.CaptureFixture[str]) -> None:
    Output(as_json=True).party(PARTY, "not listed")
    assert capsys.readouterr().out == (
        "{\n"
        '  "countryCode": "DE",\n'
        '  "partyId": "MSP",\n'
        '  "address": "0x00000000000000000000000000000000000000Aa",\n'
        '  "roles": [\n    "CPO",\n    "EMSP"\n  ],\n'
        '  "modules": {\n'
        '    "sender": [\n      "commands"\n    ],\n'
        '    "receiver": [\n      "cdrs",\n      "commands"\n    ]\n'
        "  },\n"
        '  "node": {\n'
        '    "operator": "0x9bC1169Ca09555bf2721A5C9eC6D69c8073bfeB4",\n'
        '    "url": "http://localhost:8080"\n'
        "  }\n"
        "}\n"
    )


def test_a_service_names_its_permissions() -> None:
    assert service_json(SERVICE) == {
        "provider": "0x00000000000000000000000000000000000000Bb",
        "countryCode": "CH",
        "partyId": "SRV",
        "name": "Payments",
        "url": "https://pay.example",
        "permissions": ["FORWARD_ALL", "FORWARD_MODULE_CDRS_SENDER"],
    }
    assert list(service_json(SERVICE)) == [
        "provider", "countryCode", "partyId", "name", "url", "permissions"
    ]  # fmt: skip


def test_a_party_of_a_deleted_node_shows_an_empty_url() -> None:
    gone = ListedParty(PARTY.party, PARTY.roles, PARTY.operator, "", PARTY.address)
    assert party_json(gone)["node"] == {"operator": PARTY.operator, "url": ""}
    assert party_json(gone)["modules"] == {"sender": [], "receiver": []}
