"""A forwarded request costs no chain call: the node routes local parties from its own tables."""

from __future__ import annotations

from typing import Any

import pytest

from scn_node.log import request_ids
from scn_node.registry import RegistryContract
from scn_node.scpi.party import PartyId, Role
from tests.node.conftest import Network


async def test_forwarded_requests_make_no_registry_calls(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    cpo = await network.connect("DE", "CPO", Role.CPO)
    emsp = await network.connect("DE", "MSP", Role.EMSP)
    calls: list[str] = []
    for name in ("get_party", "get_node", "get_party_by_address", "list_parties"):
        original = getattr(RegistryContract, name)

        async def counted(self: Any, *args: Any, _name: str = name, _f: Any = original) -> Any:
            # Only what a request asks: the registry poll re-reads the listings the joins just
            # changed in a background task of its own, whenever its interval comes round.
            if request_ids.get()[0] is not None:
                calls.append(_name)
            return await _f(self, *args)

        monkeypatch.setattr(RegistryContract, name, counted)
    for _ in range(10):
        response = await network.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
        assert response.json()["status_code"] == 1000
    assert calls == []
    # Unknown receivers ask the registry once, then the cached answer serves.
    for _ in range(5):
        response = await network.send(
            emsp, "GET", "/scpi/sender/2.2/locations", to=PartyId("NL", "XYZ")
        )
        assert response.json()["status_code"] == 4001
    assert calls == ["get_party"]
