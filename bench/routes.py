"""The client side of bench/scenarios.py: parties that joined the node, requests through it or
straight to the party server, and the routes of a table measured in turns."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import aiohttp
from multidict import CIMultiDictProxy
from testbed import connect, list_signed, name_of, percentile, routing

from scn_node.devnet.chain import dev_account
from scn_node.registry import RegistryContract
from scn_node.scpi.party import PartyId, Role

SPENDER = 0  # pays for every party's signed listing
TIMEOUT = 30.0


@dataclass
class Bench:
    """The parties that joined the node (their TOKEN_Cs), and the requests the bench sends."""

    session: aiohttp.ClientSession
    node_url: str
    party_base: str
    tokens: dict[PartyId, str] = field(default_factory=dict)
    correlations: itertools.count[int] = field(default_factory=itertools.count)

    async def join(
        self, registry: RegistryContract, operator: str, parties: Sequence[PartyId], role: Role
    ) -> str:
        """List `parties` in the registry with `operator`'s node and make them join it, a few at
        a time (each listing is a chain transaction); their TOKEN_Cs are kept. How long it took,
        and the slowest party's listing and handshake, as text."""
        limit = asyncio.Semaphore(8)
        spender = dev_account(SPENDER)
        slowest = (0.0, 0.0, parties[0] if parties else None)

        async def one(party: PartyId) -> None:
            nonlocal slowest
            async with limit:
                started = time.monotonic()
                await list_signed(registry, operator, party, role, spender)
                listed = time.monotonic()
                # The party's TOKEN_B is token-b-{name}: the party server checks it.
                self.tokens[party] = await connect(
                    self.session, self.node_url, party, role, self.party_base,
                    f"token-b-{name_of(party)}",
                )  # fmt: skip
                ended = time.monotonic()
                if ended - started > sum(slowest[:2]):
                    slowest = (listed - started, ended - listed, party)

        started = time.monotonic()
        await asyncio.gather(*(one(party) for party in parties))
        listing, handshake, party = slowest
        return (
            f"{len(parties)} {role.value} joined in {time.monotonic() - started:.1f} s (slowest: "
            f"{party}, listed in {listing:.2f} s, handshake {handshake:.2f} s)"
        )

    def headers(self, sender: PartyId, receiver: PartyId | None) -> dict[str, str]:
        """What `sender` sends through the node to `receiver` (None: no SCPI-to-*), with a new
        X-Correlation-ID, which the party server files the legs' arrivals under."""
        headers = routing(self.tokens[sender], sender, receiver or sender)
        if receiver is None:
            del headers["SCPI-to-country-code"], headers["SCPI-to-party-id"]
        headers["X-Correlation-ID"] = f"bench-{next(self.correlations)}"
        headers["X-Request-ID"] = headers["X-Correlation-ID"]
        return headers

    def direct(self, party: PartyId) -> dict[str, str]:
        """What the node would send to `party`: its TOKEN_B, a new X-Correlation-ID."""
        correlation = f"bench-{next(self.correlations)}"
        return {
            "Authorization": f"Token token-b-{name_of(party)}",
            "X-Request-ID": correlation,
            "X-Correlation-ID": correlation,
        }

    async def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None = None
    ) -> tuple[bytes, CIMultiDictProxy[str]]:
        """The answer's body and headers; an error unless it is HTTP 200 with status 1000."""
        if body is not None:
            headers = {**headers, "Content-Type": "application/json"}
        async with self.session.request(method, url, headers=headers, data=body) as response:
            answer = await response.read()
            status = json.loads(answer).get("status_code")
            if response.status != 200 or status != 1000:
                raise Failed(f"{method} {url}: HTTP {response.status}, {answer[:200]!r}")
            return answer, response.headers

    async def arrivals(self, correlation: str, count: int) -> list[float]:
        """When the `count` requests sent with `correlation` arrived at their parties."""
        url = f"{self.party_base}/_bench/arrivals/{correlation}?count={count}&timeout={TIMEOUT}"
        async with self.session.get(url) as response:
            got = [arrived for _, arrived in await response.json()]
        if len(got) < count:
            raise Failed(f"{len(got)} of {count} legs arrived within {TIMEOUT:.0f} s")
        return got

    async def lists_served(self) -> int:
        """How many list pages the party server served since this was last asked."""
        async with self.session.get(f"{self.party_base}/_bench/lists") as response:
            count: int = (await response.json())["lists"]
            return count


def ms(values: list[float], share: float) -> float:
    """The `share` percentile in ms; NaN when nothing was measured (the route failed)."""
    return percentile(values, share) if values else float("nan")


class Failed(RuntimeError):
    """A request of the bench did not get the answer it needs."""


@dataclass
class Route:
    """One row of a table: what one round does, and what it measured."""

    name: str
    run: Callable[[], Awaitable[float]]
    """One round; the seconds it measured."""
    latencies: list[float] = field(default_factory=list)
    extra: list[float] = field(default_factory=list)
    """Another time per measured round: when the answer came (a push), or the first page."""
    legs: int = 1
    errors: int = 0


async def rounds(routes: Sequence[Route], count: int, warm_up: int) -> None:
    """`count` rounds of every route in turn, after `warm_up` unrecorded ones."""
    for number in range(warm_up + count):
        for route in routes:
            if number == warm_up:
                route.extra.clear()  # what the warm-up rounds added
            try:
                seconds = await route.run()
            except (Failed, aiohttp.ClientError, TimeoutError) as error:
                route.errors += 1
                if route.errors == 1:
                    print(f"  {route.name}: {error}")
                continue
            if number >= warm_up:
                route.latencies.append(seconds)
