"""The SCPI vocabulary: status table, envelope, headers, tokens, credentials, versions, pages."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from scn_node.scpi import errors
from scn_node.scpi.authorization import TokenForm, authorization, presented_tokens
from scn_node.scpi.credentials import node_credentials, parse_credentials
from scn_node.scpi.envelope import encode, envelope, timestamp
from scn_node.scpi.headers import RoutingHeaders, routing_pair
from scn_node.scpi.pagination import Page, link_header, next_link
from scn_node.scpi.party import PartyId
from scn_node.scpi.status import ScpiStatus
from scn_node.scpi.versions import (
    InterfaceRole,
    node_endpoints,
    parse_details,
    pick_version,
)

SPEC_CODES = {1000, 2000, 2001, 2002, 2003, 2004, 3000, 3001, 3002, 3003, 4000, 4001, 4002, 4003}


def test_status_table_has_every_spec_code_and_custom_codes_only_in_reserved_ranges() -> None:
    codes = {int(s) for s in ScpiStatus}
    assert codes >= SPEC_CODES
    for code in codes - SPEC_CODES:
        assert 2900 <= code <= 2999 or 4900 <= code <= 4999, code


def test_every_error_class_has_a_distinct_wire_meaning() -> None:
    classes = [
        c
        for c in vars(errors).values()
        if isinstance(c, type) and issubclass(c, errors.ScpiError) and c is not errors.ScpiError
    ]
    meanings = [(c.http_status, c.status) for c in classes]
    assert len(classes) >= 15
    # Every failure the issue lists has its own (HTTP, status_code) pair.
    distinct = {
        errors.UnknownReceiver,
        errors.ReceiverModuleMissing,
        errors.ReceiverTimeout,
        errors.ConnectionProblem,
        errors.MalformedJson,
        errors.InvalidHeader,
        errors.BodyTooLarge,
        errors.SenderNotAllowed,
    }
    pairs = [(c.http_status, c.status) for c in distinct]
    assert len(set(pairs)) == len(pairs)
    assert all(status in ScpiStatus for _, status in meanings)


def test_envelope_has_the_spec_fields_and_a_utc_millisecond_timestamp() -> None:
    moment = datetime(2020, 1, 15, 9, 56, 56, 547000, tzinfo=UTC)
    body = envelope({"a": 1}, now=moment)
    assert body == {"status_code": 1000, "data": {"a": 1}, "timestamp": "2020-01-15T09:56:56.547Z"}
    error = envelope(status=ScpiStatus.UNKNOWN_RECEIVER, message="nobody", now=moment)
    assert "data" not in error and error["status_message"] == "nobody"
    assert json.loads(encode(body)) == body
    assert timestamp().endswith("Z")


def headers(**extra: str) -> dict[str, str]:
    base = {
        "X-Request-ID": "r",
        "X-Correlation-ID": "c",
        "SCPI-from-country-code": "de",
        "SCPI-from-party-id": "msp",
        "SCPI-to-country-code": "NL",
        "SCPI-to-party-id": "CPO",
    }
    base.update(extra)
    return base


def test_routing_headers_parse_and_upper_case() -> None:
    parsed = RoutingHeaders.parse(headers())
    assert parsed.sender == PartyId("DE", "MSP") and parsed.receiver == PartyId("NL", "CPO")
    assert (parsed.request_id, parsed.correlation_id) == ("r", "c")


def test_ocpi_header_family_is_accepted() -> None:
    ocpi = {k.replace("SCPI-", "OCPI-"): v for k, v in headers().items()}
    assert RoutingHeaders.parse(ocpi).receiver == PartyId("NL", "CPO")


@pytest.mark.parametrize(
    "missing",
    ["X-Request-ID", "X-Correlation-ID", "SCPI-from-party-id", "SCPI-to-country-code"],
)
def test_a_missing_header_is_an_invalid_header_error(missing: str) -> None:
    partial = headers()
    del partial[missing]
    with pytest.raises(errors.InvalidHeader, match=missing.replace("SCPI-", "")):
        RoutingHeaders.parse(partial)


def test_a_malformed_party_header_is_rejected() -> None:
    with pytest.raises(errors.InvalidHeader, match="country code"):
        RoutingHeaders.parse(headers(**{"SCPI-to-country-code": "NLD"}))


def test_outbound_routing_headers_carry_both_families() -> None:
    pair = routing_pair(PartyId("DE", "MSP"), PartyId("NL", "CPO"))
    assert pair["SCPI-from-party-id"] == pair["OCPI-from-party-id"] == "MSP"
    assert pair["SCPI-to-country-code"] == pair["OCPI-to-country-code"] == "NL"


def test_tokens_are_read_plain_and_base64() -> None:
    encoded = base64.b64encode(b"abc-123").decode()
    readings = presented_tokens(f"Token {encoded}")
    assert [r.form for r in readings] == [TokenForm.PLAIN, TokenForm.BASE64]
    assert readings[1].value == "abc-123"
    # A UUID is not valid Base64, so it is read only one way.
    assert len(presented_tokens("Token 7b8c0a0e-3c3e-4a58-a8a1-4a2b7d1d7d9f")) == 1
    assert authorization("abc-123", TokenForm.BASE64) == f"Token {encoded}"
    assert authorization("abc-123", TokenForm.PLAIN) == "Token abc-123"


@pytest.mark.parametrize("header", [None, "", "Bearer abc", "Token", "abc"])
def test_other_authorization_headers_are_unauthorized(header: str | None) -> None:
    with pytest.raises(errors.Unauthorized):
        presented_tokens(header)


CREDENTIALS = {
    "token": "b-token",
    "url": "https://msp.example.com/scpi/versions",
    "roles": [
        {
            "role": "EMSP",
            "business_details": {"name": "MSP", "vendor": "kept"},
            "party_id": "msp",
            "country_code": "de",
        }
    ],
}


def test_credentials_parse_and_normalise_the_party() -> None:
    credentials = parse_credentials(json.dumps(CREDENTIALS).encode())
    assert credentials.roles[0].party == PartyId("DE", "MSP")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"token": "has space"}, "token"),
        ({"url": "ftp://x"}, "url"),
        ({"roles": []}, "roles"),
        ({"roles": [{**CREDENTIALS["roles"][0], "role": "KING"}]}, "role"),  # type: ignore[index]
        ({"roles": [{**CREDENTIALS["roles"][0], "party_id": "TOOLONG"}]}, "party id"),  # type: ignore[index]
        ({"roles": CREDENTIALS["roles"] * 2}, "only once"),  # type: ignore[operator]
    ],
)
def test_invalid_credentials_say_what_is_wrong(change: dict[str, object], problem: str) -> None:
    with pytest.raises(errors.InvalidParameters, match=problem):
        parse_credentials(json.dumps({**CREDENTIALS, **change}).encode())


def test_credentials_that_are_not_json_are_malformed() -> None:
    with pytest.raises(errors.MalformedJson):
        parse_credentials(b"{not json")


def test_node_credentials_report_only_the_hub_role() -> None:
    own = node_credentials("c", "http://node/scpi/versions")
    assert own["roles"] == [
        {
            "role": "HUB",
            "business_details": {"name": "Smart Charging Network Node"},
            "party_id": "SCN",
            "country_code": "DE",
        }
    ]


def test_version_2_2_is_picked_and_its_absence_is_3002() -> None:
    data = [{"version": "2.1.1", "url": "http://a/211"}, {"version": "2.2", "url": "http://a/22"}]
    assert pick_version(data, "v").url == "http://a/22"
    with pytest.raises(errors.UnsupportedVersion):
        pick_version(data[:1], "v")
    with pytest.raises(errors.UnableToUseClientApi):
        pick_version({"not": "a list"}, "v")


def test_version_details_must_list_endpoints() -> None:
    good = {
        "version": "2.2",
        "endpoints": [{"identifier": "x", "role": "SENDER", "url": "http://a"}],
    }
    assert parse_details(good, "d").endpoints[0].role is InterfaceRole.SENDER
    with pytest.raises(errors.NoMatchingEndpoints):
        parse_details({"version": "2.2"}, "d")
    with pytest.raises(errors.NoMatchingEndpoints, match="no usable endpoints"):
        parse_details({"version": "2.2", "endpoints": []}, "d")
    with pytest.raises(errors.NoMatchingEndpoints, match="unusable locations endpoint"):
        parse_details(
            {"version": "2.2", "endpoints": [{"identifier": "locations", "role": "X", "url": "u"}]},
            "d",
        )
    # A malformed custom endpoint is left out instead of failing the whole handshake.
    mixed = {"version": "2.2", "endpoints": [*good["endpoints"], {"identifier": "my-mod"}]}
    assert [e.identifier for e in parse_details(mixed, "d").endpoints] == ["x"]


def test_json_nested_too_deeply_is_malformed_not_a_crash() -> None:
    import sys

    from scn_node.scpi.envelope import decode

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # what create_app sets: py_ecc raises it to 100000
    try:
        with pytest.raises(errors.MalformedJson, match="nested too deeply"):
            decode(b"[" * 200_000 + b"]" * 200_000)
    finally:
        sys.setrecursionlimit(limit)


def test_conflicting_header_families_are_rejected() -> None:
    with pytest.raises(errors.InvalidHeader, match="disagree"):
        RoutingHeaders.parse(headers(**{"OCPI-to-party-id": "XXX"}))
    assert RoutingHeaders.parse(headers(**{"OCPI-to-party-id": "cpo"})).receiver.party_id == "CPO"


def test_the_node_advertises_three_configuration_and_fourteen_module_endpoints() -> None:
    endpoints = node_endpoints("http://node", "scpi")
    assert len(endpoints) == 17
    assert endpoints[0].url == "http://node/scpi/2.2/credentials"
    urls = {(e.identifier, e.role): e.url for e in endpoints}
    assert urls[("chargingprofiles", InterfaceRole.RECEIVER)] == (
        "http://node/scpi/receiver/2.2/chargingprofiles"
    )


def test_pages_parse_and_cap_the_limit() -> None:
    page = Page.parse(
        {"offset": "5", "limit": "1000", "date_from": "2020-01-01T00:00:00Z"}, max_limit=100
    )
    assert (page.offset, page.limit) == (5, 100)
    assert page.date_from == datetime(2020, 1, 1, tzinfo=UTC)
    assert "offset=105" in page.next_query({"date_from": "x", "offset": "5"})
    for bad in (
        {"offset": "-1"},
        {"limit": "ten"},
        {"date_to": "yesterday"},
        {"date_from": "2020-13-01T00:00:00Z"},
        {"offset": "²"},
        {"offset": "99999999999999999999"},
    ):
        with pytest.raises(errors.InvalidParameters):
            Page.parse(bad, max_limit=10)


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ('<https://a/x?offset=2>; rel="next"', "https://a/x?offset=2"),
        ('<https://a/p>; rel="prev", <https://a/n>; rel="next"', "https://a/n"),
        ("<https://a/n>; rel=next", "https://a/n"),
        ('<https://a/n>; rel="prev next"', "https://a/n"),
        ('<https://a/p>; rel="nextpage"', None),
        ('<https://a/x?a=1,2>; rel="next"', "https://a/x?a=1,2"),
        ('<https://a/p>; rel="prev"', None),
        (None, None),
    ],
)
def test_the_next_link_is_found(header: str | None, target: str | None) -> None:
    assert next_link(header) == target
    assert link_header("u") == '<u>; rel="next"'
