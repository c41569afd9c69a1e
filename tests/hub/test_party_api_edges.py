"""Where the node finds a party's credentials endpoint among the endpoints the party lists."""

from __future__ import annotations

import pytest

from scn_node.hub.party_api import credentials_url
from scn_node.scpi.errors import UnableToUseClientApi
from scn_node.scpi.versions import Endpoint, InterfaceRole

VERSIONS = "http://cpo.test/scpi/versions"


def _endpoint(identifier: str, role: InterfaceRole, url: str) -> Endpoint:
    return Endpoint(identifier=identifier, role=role, url=url)


def test_a_credentials_endpoint_listed_as_receiver_only_is_found_after_other_modules() -> None:
    endpoints = [
        _endpoint("locations", InterfaceRole.SENDER, "http://cpo.test/locations"),
        _endpoint("credentials", InterfaceRole.RECEIVER, "http://cpo.test/credentials"),
    ]
    assert credentials_url(endpoints, VERSIONS) == "http://cpo.test/credentials"


def test_the_sender_interface_is_preferred_whatever_the_order() -> None:
    endpoints = [
        _endpoint("credentials", InterfaceRole.RECEIVER, "http://cpo.test/receiver"),
        _endpoint("credentials", InterfaceRole.SENDER, "http://cpo.test/sender"),
    ]
    assert credentials_url(endpoints, VERSIONS) == "http://cpo.test/sender"


def test_endpoints_without_credentials_are_unable_to_use_the_client_api() -> None:
    endpoints = [_endpoint("locations", InterfaceRole.SENDER, "http://cpo.test/locations")]
    with pytest.raises(UnableToUseClientApi) as caught:
        credentials_url(endpoints, VERSIONS)
    assert caught.value.message == f"The endpoints at {VERSIONS} hold no credentials endpoint"
    assert caught.value.status == 3001
