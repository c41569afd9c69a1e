"""Byte-preserving rewrites of response_url, and the module table that asks for them."""

from __future__ import annotations

import json

import pytest

from scn_node.hub.modules import CUSTOM, SPECS, Family, Where, spec_for
from scn_node.hub.registration import same_url
from scn_node.hub.rewrites import replace_member, replace_query_parameter
from scn_node.scpi.errors import InvalidParameters
from scn_node.scpi.versions import InterfaceRole


def test_only_the_response_url_bytes_change() -> None:
    body = b'{ "token" : {"uid":"1","x":1.0},\n "response_url":"https://msp/cmd/1" ,"z": "\\u00e9"}'
    new, original = replace_member(body, "response_url", "https://node/scpi/2.2/proxy/u")
    assert original == "https://msp/cmd/1"
    assert new == body.replace(b"https://msp/cmd/1", b"https://node/scpi/2.2/proxy/u")


def test_a_nested_response_url_is_left_alone() -> None:
    body = b'{"inner":{"response_url":"keep"},"response_url":"https://a"}'
    new, _ = replace_member(body, "response_url", "https://b")
    assert json.loads(new) == {"inner": {"response_url": "keep"}, "response_url": "https://b"}


def test_every_duplicate_is_replaced_so_no_receiver_sees_the_original() -> None:
    body = b'{"response_url":"https://a","response_url":"https://b"}'
    new, original = replace_member(body, "response_url", "https://n")
    assert original == "https://b" and b"https://a" not in new and b"https://b" not in new


@pytest.mark.parametrize("body", [b"{}", b'{"response_url":5}', b"[1]", b"{broken", b"\xff"])
def test_a_missing_or_malformed_response_url_is_invalid(body: bytes) -> None:
    with pytest.raises(InvalidParameters):
        replace_member(body, "response_url", "https://n")


def test_query_rewrite_keeps_other_parameters_in_order() -> None:
    query = "duration=900&response_url=https%3A%2F%2Fmsp%2Fr%3Fa%3D1&x=%20y"
    new, original = replace_query_parameter(query, "response_url", "https://node/p/u")
    assert original == "https://msp/r?a=1"
    assert new == "duration=900&response_url=https%3A%2F%2Fnode%2Fp%2Fu&x=%20y"
    with pytest.raises(InvalidParameters):
        replace_query_parameter("duration=900", "response_url", "x")


def test_the_table_names_commands_and_every_chargingprofiles_receiver_call() -> None:
    assert SPECS[("commands", InterfaceRole.RECEIVER)].response_url == {"POST": Where.BODY}
    profiles = SPECS[("chargingprofiles", InterfaceRole.RECEIVER)].response_url
    assert set(profiles) == {"GET", "PUT", "DELETE"}
    assert spec_for("locations", InterfaceRole.SENDER).response_url == {}
    assert spec_for("tokens", InterfaceRole.RECEIVER).owner_in_path


@pytest.mark.parametrize("identifier", ["credentials", "hubclientinfo", "locations", "Versions"])
def test_custom_modules_may_not_use_a_standard_identifier(identifier: str) -> None:
    with pytest.raises(InvalidParameters, match="standard module"):
        spec_for(identifier, InterfaceRole.RECEIVER, Family.CUSTOM)
    assert spec_for("lite-locations", InterfaceRole.SENDER, Family.CUSTOM) is CUSTOM


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("http://localhost:8080", "http://localhost:8080/", True),
        ("HTTP://LocalHost:8080", "http://localhost:8080", True),
        ("https://node.example.com:443/", "https://node.example.com", True),
        ("http://localhost:8080", "http://localhost:8081", False),
        ("http://localhost:8080/a", "http://localhost:8080/b", False),
    ],
)
def test_node_urls_compare_normalised(a: str, b: str, same: bool) -> None:
    assert same_url(a, b) is same
