"""Routing headers are read once into a Routing; an error is rendered one way, signed or not."""

from __future__ import annotations

import json

import pytest
from multidict import CIMultiDict

from scn_node.scpi.envelope import error_envelope
from scn_node.scpi.errors import Codes, InvalidHeader, ReceiverModuleMissing, UnknownReceiver
from scn_node.scpi.headers import ANSWER_HEADER_NAMES, ANSWER_HEADERS, Routing
from scn_node.scpi.party import PartyId

FULL = {
    "X-Request-ID": "r",
    "X-Correlation-ID": "c",
    "OCPI-from-country-code": "de",
    "OCPI-from-party-id": "msp",
    "SCPI-to-country-code": "NL",
    "SCPI-to-party-id": "CPO",
}


def test_routing_headers_are_read_once_in_either_family() -> None:
    routing = Routing.read(CIMultiDict(FULL))
    assert routing.require().sender == PartyId("DE", "MSP")
    assert (routing.sender, routing.receiver, routing.signed) == (
        PartyId("DE", "MSP"),
        PartyId("NL", "CPO"),
        False,
    )


def test_a_request_without_ids_keeps_its_valid_parties_for_the_answer() -> None:
    routing = Routing.read(CIMultiDict({k: v for k, v in FULL.items() if k != "X-Request-ID"}))
    assert routing.receiver == PartyId("NL", "CPO")
    with pytest.raises(InvalidHeader, match="Missing header X-Request-ID"):
        routing.require()


def test_a_signature_header_is_noticed_even_when_the_rest_is_invalid() -> None:
    assert Routing.read(CIMultiDict({"OCN-Signature": "x"})).signed


def test_an_error_envelope_is_the_errors_status_and_message() -> None:
    http_status, _, raw = error_envelope(UnknownReceiver("Unknown receiver XX NOP"), Codes.SCN)
    body = json.loads(raw)
    assert (http_status, body["status_code"]) == (200, 4001)
    assert body["status_message"] == "Unknown receiver XX NOP"
    assert "scn_signature" not in body


def test_a_signed_error_envelope_carries_the_signers_value() -> None:
    _, _, raw = error_envelope(
        ReceiverModuleMissing("x"),
        Codes.STANDARD,
        lambda envelope: f"signed {envelope['status_code']}",
    )
    assert json.loads(raw)["scn_signature"] == "signed 4001"  # the code the party gets, signed


def test_the_relayed_answer_headers_are_the_signed_ones_and_content_type() -> None:
    assert list(ANSWER_HEADER_NAMES) == ["content-type", *ANSWER_HEADERS]
    assert ANSWER_HEADER_NAMES["x-total-count"] == "X-Total-Count"
