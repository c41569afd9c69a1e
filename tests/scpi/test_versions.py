"""SCPI 2.2.1 and 2.2: which version the node picks from a party's list, and the paths it serves."""

from __future__ import annotations

import pytest

from scn_node.scpi import errors
from scn_node.scpi.party import ModuleId
from scn_node.scpi.versions import (
    VERSIONS,
    InterfaceRole,
    module_path,
    node_endpoints,
    parse_details,
    pick_version,
)


def test_the_node_speaks_2_2_1_first_then_2_2() -> None:
    assert VERSIONS == ("2.2.1", "2.2")


@pytest.mark.parametrize(
    ("offered", "picked"),
    [
        (["2.2.1"], "2.2.1"),
        (["2.2"], "2.2"),
        (["2.2", "2.2.1"], "2.2.1"),
        (["2.1.1", "2.2"], "2.2"),
        (["2.1.1", "2.2.1", "2.3.0"], "2.2.1"),
    ],
)
def test_the_best_version_both_sides_speak_is_picked(offered: list[str], picked: str) -> None:
    data = [{"version": v, "url": f"http://party/{v}"} for v in offered]
    assert pick_version(data, "http://party/versions").version == picked


def test_a_party_without_2_2_or_2_2_1_is_3002_naming_what_it_offers() -> None:
    data = [{"version": "2.1.1", "url": "http://party/211"}]
    with pytest.raises(errors.UnsupportedVersion) as raised:
        pick_version(data, "http://party/versions")
    assert raised.value.message == (
        "http://party/versions offers no SCPI 2.2.1 or 2.2 (offered: 2.1.1)"
    )


def test_version_details_must_describe_the_version_picked() -> None:
    details = {
        "version": "2.2.1",
        "endpoints": [{"identifier": "locations", "role": "SENDER", "url": "http://p/loc"}],
    }
    assert parse_details(details, "d", "2.2.1").version == "2.2.1"
    with pytest.raises(errors.UnsupportedVersion):
        parse_details(details, "d", "2.2")


def test_each_version_advertises_its_own_paths() -> None:
    urls = {e.url for e in node_endpoints("http://node", "scpi", "2.2.1")}
    assert "http://node/scpi/2.2.1/credentials" in urls
    assert "http://node/scpi/sender/2.2.1/locations" in urls
    assert not any("/2.2/" in url for url in urls)
    assert module_path("ocpi", InterfaceRole.RECEIVER, ModuleId.CDRS, "2.2.1") == (
        "/ocpi/receiver/2.2.1/cdrs"
    )
