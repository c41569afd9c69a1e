"""The tutorial's CPO backend: a started session makes its EVSE CHARGING, a stop makes it
AVAILABLE again, and each change is an event the demo CPO broadcasts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from scn_node.devnet.cpo.backend import CdrReady, Command, CpoEvent, EvseStatusChanged
from scn_node.devnet.cpo.static import StaticCpo
from scn_node.scpi.party import PartyId

DE_CPO = PartyId("DE", "CPO")
DE_MSP = PartyId("DE", "MSP")
NL_MSP = PartyId("NL", "MSP")


@pytest.fixture
async def cpo() -> AsyncIterator[StaticCpo]:
    backend = StaticCpo(DE_CPO, result_delay=0)
    try:
        yield backend
    finally:
        await backend.close()


async def next_event(cpo: StaticCpo) -> CpoEvent:
    return await asyncio.wait_for(anext(aiter(cpo.events())), 5)


def statuses(cpo: StaticCpo) -> dict[str, str]:
    location = cpo.location("LOC1")
    assert location is not None
    return {evse["uid"]: evse["status"] for evse in location["evses"]}


def start(body: dict[str, str], sender: PartyId = DE_MSP) -> Command:
    return Command("START_SESSION", {"response_url": "http://x/1", **body}, sender)


async def test_a_start_charges_the_named_evse_and_a_stop_frees_it(cpo: StaticCpo) -> None:
    await cpo.start_session(start({"location_id": "LOC1", "evse_uid": "4567"}))
    charging = await next_event(cpo)
    assert isinstance(charging, EvseStatusChanged)
    assert (charging.location_id, charging.evse_uid, charging.status) == (
        "LOC1",
        "4567",
        "CHARGING",
    )
    assert charging.patch() == {"status": "CHARGING", "last_updated": charging.last_updated}
    assert statuses(cpo) == {"1234": "AVAILABLE", "4567": "CHARGING"}
    location = cpo.location("LOC1")
    assert location is not None and location["last_updated"] == charging.last_updated

    await cpo.stop_session(Command("STOP_SESSION", {"session_id": "SESSION-1"}, DE_MSP))
    available = await next_event(cpo)
    assert isinstance(available, EvseStatusChanged)
    assert (available.evse_uid, available.status) == ("4567", "AVAILABLE")
    assert available.last_updated >= charging.last_updated
    assert statuses(cpo) == {"1234": "AVAILABLE", "4567": "AVAILABLE"}


async def test_without_an_evse_the_first_available_one_charges(cpo: StaticCpo) -> None:
    await cpo.start_session(start({"location_id": "LOC1"}))
    first = await next_event(cpo)
    assert isinstance(first, EvseStatusChanged) and first.evse_uid == "1234"
    assert statuses(cpo) == {"1234": "CHARGING", "4567": "RESERVED"}


async def test_a_stop_frees_only_the_evse_of_that_emsps_session(cpo: StaticCpo) -> None:
    await cpo.start_session(start({"location_id": "LOC1", "evse_uid": "1234"}))
    await next_event(cpo)
    await cpo.stop_session(Command("STOP_SESSION", {"session_id": "S"}, NL_MSP))
    assert statuses(cpo)["1234"] == "CHARGING"  # NL MSP started nothing here


async def test_a_start_elsewhere_changes_nothing(cpo: StaticCpo) -> None:
    await cpo.start_session(start({"location_id": "LOC2", "evse_uid": "1234"}))
    await cpo.stop_session(Command("STOP_SESSION", {"session_id": "S"}, DE_MSP))
    assert statuses(cpo) == {"1234": "AVAILABLE", "4567": "RESERVED"}
    assert isinstance(await next_event(cpo), CdrReady)  # the stop's CDR, and no status change
