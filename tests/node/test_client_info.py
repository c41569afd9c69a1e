"""HubClientInfo through the web adapter: the list a party GETs, counted and paged with the
headers the adapter writes (X-Total-Count, Link), and the intervals' settings. What the hub does
(pushes, the still-alive check, planned parties, ClientInfo between nodes) is tested over the
fakes in tests/hub/test_client_info*.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from scn_node.scpi.party import PartyId, Role
from scn_node.settings import Settings, SettingsError
from tests.node.conftest import Network
from tests.node.parties import ALL_MODULES, FakeParty, Received

HUB_CLIENT_INFO = "/scpi/2.2/hubclientinfo"
RULES = "/scpi/2.2/scnrules"
WATCHING = (*ALL_MODULES, "hubclientinfo")  # offers the hubclientinfo RECEIVER interface
WITHIN = 10.0
T = TypeVar("T")


# ---------------------------------------------------------------- helpers that tests/node/
# test_handshake.py and test_platforms.py import (until they move to tests/hub)


async def eventually(check: Callable[[], Awaitable[T | None]], what: str) -> T:
    """Poll `check` until it gives something, for at most WITHIN seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WITHIN
    while True:
        found = await check()
        if found is not None and found is not False:
            return found
        assert loop.time() < deadline, f"waited {WITHIN} s for {what}"
        await asyncio.sleep(0.02)


def pushes(watching: FakeParty) -> list[Received]:
    """The PUTs that reached the party's hubclientinfo receiver, in order."""
    prefix = watching.endpoint_path("hubclientinfo", "RECEIVER") + "/"
    return [r for r in watching.received if r.method == "PUT" and r.path.startswith(prefix)]


def statuses(watching: FakeParty, about: FakeParty | PartyId) -> list[str]:
    party = about.party if isinstance(about, FakeParty) else about
    return [
        r.json()["status"]
        for r in pushes(watching)
        if (r.json()["country_code"], r.json()["party_id"]) == (party.country_code, party.party_id)
    ]


async def told(watching: FakeParty, about: FakeParty | PartyId, status: str) -> None:
    async def arrived() -> bool:
        return status in statuses(watching, about)

    await eventually(arrived, f"{watching.party} hearing {about} is {status}")


# ---------------------------------------------------------------- the list over HTTP


async def change_rules(net: Network, party: FakeParty, method: str, tail: str, body: Any) -> None:
    response = await net.client.request(
        method,
        RULES + tail,
        headers={"Authorization": party.authorization()},
        content=json.dumps(body),
    )
    assert response.json()["status_code"] == 1000, response.text


def rule(party: PartyId, *modules: str) -> dict[str, Any]:
    return {"country_code": party.country_code, "party_id": party.party_id, "modules": modules}


async def test_a_filtered_list_counts_and_pages_only_what_the_party_sees(
    network: Network,
) -> None:
    msp = await network.connect("DE", "MSP", Role.EMSP)
    parties = [await network.connect("CH", f"CP{c}", Role.CPO) for c in "ABCD"]
    seen_by_msp = [parties[0].party, parties[2].party, parties[3].party]
    await change_rules(network, msp, "PUT", "/whitelist", [rule(p) for p in seen_by_msp])
    url: str | None = f"{HUB_CLIENT_INFO}?limit=1"
    seen: list[PartyId] = []
    while url is not None:
        response = await network.client.get(url, headers={"Authorization": msp.authorization()})
        assert response.headers["X-Total-Count"] == "3", response.text
        seen += [PartyId(i["country_code"], i["party_id"]) for i in response.json()["data"]]
        link = response.headers.get("Link")
        url = link[1 : link.index(">")] if link else None
        assert len(seen) <= 3, "the Link never ends"
    assert seen == seen_by_msp  # oldest change first: in the order they connected


def test_the_two_intervals_may_be_0_for_off_but_not_negative() -> None:
    settings = Settings.load({"SCN_STILL_ALIVE_SECONDS": "0", "SCN_PLANNED_PARTY_SECONDS": "0"})
    assert (settings.still_alive_seconds, settings.planned_party_seconds) == (0, 0)
    assert Settings().still_alive_seconds == 300 and Settings().planned_party_seconds == 3600
    with pytest.raises(SettingsError, match=r"STILL_ALIVE_SECONDS: must be 0 \(off\) or positive"):
        Settings.load({"SCN_STILL_ALIVE_SECONDS": "-1"})
    with pytest.raises(SettingsError, match="SCN_PARTY_TIMEOUT: must be positive"):
        Settings.load({"SCN_PARTY_TIMEOUT": "0"})  # other intervals still may not be 0
