"""A chain RPC that hangs or is gone never stalls remote routing, even after a restart.

One network on a chain of its own goes through every case in turn: frozen (SIGSTOP) with a
warm cache, both nodes restarted while it is frozen, killed, and both nodes restarted while it
is gone. In each, a remote request (node 1 -> node 2, whose node checks the sender in the
registry too) answers within 1 s, from answers older than the cache keeps them.
"""

from __future__ import annotations

import asyncio
import time

from tests.network.conftest import StartNetwork
from tests.network.harness import Chain, OcnParties, TwoNodes, eventually, ocn_parties

# Answers go stale within a second; a chain call gives up after 2 s (starts stay short).
OUTAGE_ENV = {
    "SCN_REGISTRY_CACHE_SECONDS": "1",
    "SCN_REGISTRY_POLL_SECONDS": "0.5",
    "SCN_REGISTRY_TIMEOUT": "2",
}
SAVED = "the SCN Registry is unreachable; routing from"


async def remote_answers_within_a_second(network: TwoNodes, ocn: OcnParties) -> None:
    started = time.monotonic()
    response = await network.send(ocn.msp, "GET", "/scpi/sender/2.2/locations/1", to=ocn.cpb)
    took = time.monotonic() - started
    assert (response.status_code, response.json()["status_code"]) == (200, 1000), response.text
    assert took < 1.0, f"the remote route took {took:.2f} s"


async def traffic(network: TwoNodes, ocn: OcnParties, seconds: float) -> None:
    """Remote requests for `seconds`: longer than the cache keeps an answer and than a chain
    call takes to fail, so every answer is served once the chain is known to be down."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        await remote_answers_within_a_second(network, ocn)
        await asyncio.sleep(0.1)  # the pace of the traffic, not a wait for readiness


def warnings(network: TwoNodes, number: int, text: str) -> list[str]:
    return [
        str(entry.get("message"))
        for entry in network.log_entries(number)
        if entry.get("level") == "WARNING" and text in str(entry.get("message"))
    ]


async def restart_both(network: TwoNodes) -> None:
    await asyncio.gather(network.restart_node(1), network.restart_node(2))


async def test_remote_routing_answers_within_a_second_while_the_chain_hangs_or_is_gone(
    start_network: StartNetwork, own_chain: Chain
) -> None:
    network = await start_network(own_chain, **OUTAGE_ENV)
    ocn = await ocn_parties(network)
    await remote_answers_within_a_second(network, ocn)  # both nodes know both parties

    own_chain.freeze()
    try:
        await traffic(network, ocn, 3.5)  # warm cache, frozen chain
        for number in (1, 2):
            assert warnings(network, number, "routing from cached answers"), network.logs(number)
        await restart_both(network)  # a restart while it is frozen
        await traffic(network, ocn, 1.5)
        for number in (1, 2):
            await eventually(
                lambda n=number: len(warnings(network, n, SAVED)) == 1,
                within=10,
                what=f"node {number} logging that it routes from saved answers",
            )
    finally:
        own_chain.thaw()

    own_chain.kill_rpc()
    await traffic(network, ocn, 1.5)  # warm cache, chain gone
    await restart_both(network)  # a restart while it is gone
    await traffic(network, ocn, 1.5)
    for number in (1, 2):
        await eventually(
            lambda n=number: len(warnings(network, n, SAVED)) == 2,
            within=10,
            what=f"node {number} logging again that it routes from saved answers",
        )
    line = warnings(network, 1, SAVED)[-1]
    assert " registry answers saved at 20" in line, line
