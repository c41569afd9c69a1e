"""HubClientInfo at its edges: a planned party told once (or not at all once it connected),
a still-alive check that finds nothing to change, a push a party refuses, background pushes
that fail, and a node closing with pushes under way."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from scn_node.hub.model import Platform
from scn_node.scpi.errors import HubError
from scn_node.scpi.hubclientinfo import ConnectionStatus
from scn_node.scpi.party import PartyId, Role
from tests.fakes.backoffice import Received, answer
from tests.fakes.clock import MovingClock
from tests.fakes.hub import HubUnderTest
from tests.hub.test_client_info import WATCHING, statuses
from tests.hub.test_client_info_still_alive import check, stop, versions_calls

LOG = "scn_node.hub.clientinfo"


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOG]


async def _live(node: HubUnderTest) -> Sequence[Platform]:
    return await node.directory.live_platforms()


# ---------------------------------------------------------------- planned parties


async def test_a_planned_party_is_told_once_however_often_it_is_found(node: HubUnderTest) -> None:
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    ton = node.new_party("GB", "TON", Role.EMSP)
    node.list_party(ton)
    await node.hub.presence.search_planned()
    await node.hub.presence.search_planned()  # found again: nothing new to tell
    await node.drain()
    assert statuses(cpa, ton) == ["PLANNED"]


async def test_a_planned_party_that_connected_meanwhile_is_not_told_as_planned(
    node: HubUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    ton = node.new_party("GB", "TON", Role.EMSP)
    node.list_party(ton)
    (connected,) = await _live(node)
    await node.hub.presence.search_planned()  # its push is queued, not yet under way

    async def now_connected(party: PartyId) -> Platform | None:
        return connected  # it registered before the queued push ran

    monkeypatch.setattr(node.directory, "platform_of", now_connected)
    await node.drain()
    assert statuses(cpa, ton) == []


# ---------------------------------------------------------------- the still-alive check


async def test_a_party_already_offline_that_still_does_not_answer_is_not_told_again(
    node: HubUnderTest, clock: MovingClock
) -> None:
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    msp = await node.connect("DE", "MSP", Role.EMSP)
    stop(node, msp)
    await check(node, clock)
    await check(node, clock)
    assert statuses(cpa, msp) == ["CONNECTED", "OFFLINE"]


async def test_a_platform_without_a_versions_url_is_not_called_and_goes_offline(
    node: HubUnderTest, clock: MovingClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    msp = await node.connect("DE", "MSP", Role.EMSP)
    real = node.directory.live_platforms

    async def without_url() -> Sequence[Platform]:
        return [
            replace(p, versions_url=None) if p.has_party(msp.party) else p for p in await real()
        ]

    monkeypatch.setattr(node.directory, "live_platforms", without_url)
    await check(node, clock)
    assert versions_calls(msp) == 1  # its handshake only: nowhere to call it
    assert statuses(cpa, msp) == ["CONNECTED", "OFFLINE"]


async def test_a_party_another_check_moved_meanwhile_is_not_told_twice(
    node: HubUnderTest, clock: MovingClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    msp = await node.connect("DE", "MSP", Role.EMSP)
    stop(node, msp)
    real = node.directory.live_platforms

    async def stale() -> Sequence[Platform]:
        seen = await real()
        (platform,) = [p for p in seen if p.has_party(msp.party)]
        # Another worker's check moves it now (without this node telling anyone).
        moved = await node.directory.set_status(
            platform.id, ConnectionStatus.OFFLINE, was=ConnectionStatus.CONNECTED
        )
        assert moved is not None
        return seen

    monkeypatch.setattr(node.directory, "live_platforms", stale)
    await check(node, clock)
    assert statuses(cpa, msp) == ["CONNECTED"]


async def test_a_failed_renewal_keeps_who_was_heard_for_the_next_check(
    node: HubUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    msp = await node.connect("DE", "MSP", Role.EMSP)
    cpa = await node.connect("CH", "CPA", Role.CPO)
    await node.send(msp, "GET", "/scpi/sender/2.2/locations", to=cpa)
    presence = node.hub.presence
    heard = presence.last_heard(msp.party)
    assert heard is not None

    async def away(_: Any) -> None:
        raise HubError("the database is away")

    monkeypatch.setattr(node.directory, "renew", away)
    with pytest.raises(HubError, match="the database is away"):
        await presence.check_still_alive(300)
    assert presence.last_heard(msp.party) == heard
    assert presence.last_heard(cpa.party) is not None


async def test_an_offline_party_sending_twice_at_once_is_reconnected_once(
    node: HubUnderTest, clock: MovingClock
) -> None:
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    msp = await node.connect("DE", "MSP", Role.EMSP)
    stop(node, msp)
    await check(node, clock)
    caller = await node.caller(msp)
    assert caller.platform.status is ConnectionStatus.OFFLINE
    node.hub.presence.routed(caller, msp.party, cpa.party)
    node.hub.presence.routed(caller, msp.party, cpa.party)  # the first reconnect is under way
    await node.drain()
    assert statuses(cpa, msp) == ["CONNECTED", "OFFLINE", "CONNECTED"]


# ---------------------------------------------------------------- pushes


async def test_a_push_the_party_refuses_is_logged_and_does_not_renew_it(
    node: HubUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    cpa.on("PUT", cpa.endpoint_path("hubclientinfo", "RECEIVER"), lambda _: answer(status=500))
    caplog.set_level(logging.WARNING, logger=LOG)
    await node.connect("NL", "CPO", Role.CPO)
    await node.drain()
    assert _messages(caplog) == ["ClientInfo of NL CPO not taken by CH CPA: HTTP 500"]
    assert node.hub.presence.last_heard(cpa.party) is None


async def test_a_push_that_fails_in_the_store_is_logged_not_raised(
    node: HubUnderTest, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    msp = await node.connect("DE", "MSP", Role.EMSP)
    await node.drain()
    platform = (await node.caller(msp)).platform

    async def away() -> Sequence[Platform]:
        raise HubError("the database is away")

    monkeypatch.setattr(node.directory, "connected_platforms", away)
    caplog.set_level(logging.WARNING, logger=LOG)
    node.hub.presence.status_changed(platform, network=False)
    await node.drain()
    assert _messages(caplog) == ["HubClientInfo push failed: the database is away"]


async def test_a_push_that_breaks_unexpectedly_is_logged_with_its_traceback(
    node: HubUnderTest, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    msp = await node.connect("DE", "MSP", Role.EMSP)
    await node.drain()
    platform = (await node.caller(msp)).platform
    broken = RuntimeError("a bug")

    async def bug() -> Sequence[Platform]:
        raise broken

    monkeypatch.setattr(node.directory, "connected_platforms", bug)
    caplog.set_level(logging.WARNING, logger=LOG)
    node.hub.presence.status_changed(platform, network=False)
    await node.drain()
    (record,) = [r for r in caplog.records if r.name == LOG]
    assert (record.levelno, record.getMessage()) == (logging.ERROR, "HubClientInfo push failed")
    assert record.exc_info is not None and record.exc_info[1] is broken


async def test_closing_cancels_a_push_past_the_grace_time_silently(
    node: HubUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    cpa = await node.connect("CH", "CPA", Role.CPO, modules=WATCHING)
    arrived, release = asyncio.Event(), asyncio.Event()

    async def held(_: Received) -> Any:
        arrived.set()
        await release.wait()
        return answer()

    cpa.on("PUT", cpa.endpoint_path("hubclientinfo", "RECEIVER"), held)
    presence = node.hub.presence
    presence.shutdown_grace = 0  # no grace: what is under way is cancelled at once
    caplog.set_level(logging.DEBUG, logger=LOG)
    await node.connect("NL", "CPO", Role.CPO)
    await arrived.wait()
    (push,) = presence._tasks
    await presence.close()
    assert push.cancelled() and presence._tasks == set()
    assert statuses(cpa, PartyId("NL", "CPO")) == ["CONNECTED"]  # it got the PUT, no answer
    assert _messages(caplog) == []  # a cancelled push is not a failure
