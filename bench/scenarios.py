"""Benchmark: the hub's own scenarios (broadcast push, GET All, open routing) against the same
work done party to party and straight to the party, in one run.

    .venv/bin/python bench/scenarios.py [--receivers 10,100] [--pushes 50] [--sources 10]
        [--page 10] [--lists 30] [--authorizations 300]

A real ganache chain, one `scn-node serve` process and one party server (every party on one
socket, bench/party_server.py) run on this machine with the load generator. Parties are listed in
the registry and join the node with the credentials handshake. One client; the routes of a table
take turns, request by request, so a slower moment of the shared machine hits them alike.

1. Broadcast: DE C00 (a CPO) PUTs a location TO the hub (DE SCN); the time until the last leg
   arrived at the party server (its arrival clock is this machine's CLOCK_MONOTONIC), against the
   same PUT to one eMSP through the node and straight to the party server.
2. GET All: DE M00 (an eMSP) GETs cdrs TO the hub from `--sources` CPOs (one page of `--page`
   CDRs each), following the Links; against the same pages fetched source by source through the
   node (TO = each CPO) and straight from the party server.
3. Open routing: DE C00 POSTs tokens/{uid}/authorize with no SCPI-to-*: the eMSP found from the
   token index (learned from the eMSP's token push through the hub) and from an eMI3 contract id
   in the uid, against the same request with TO = the eMSP.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from multidict import CIMultiDictProxy
from testbed import chain, name_of, node, party_server, percentile, register_signed, routing

from scn_node.devnet.chain import dev_account
from scn_node.registry import RegistryContract
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.party import PartyId, Role

SPENDER = 0  # pays for every party's signed listing
NODE_ACCOUNT = 14
CPO = PartyId("DE", "C00")  # the broadcasting CPO, the authorizing CPO, the first GET All source
EMSP = PartyId("DE", "M00")  # the first receiver, the GET All requester, the token's owner
RFID_UID = "BENCH0001"
CONTRACT_UID = "DEM00C12345678"  # eMI3 contract id naming DE M00: open routing needs no index
TIMESTAMP = "2026-11-23T10:00:00Z"
LOCATION = json.dumps(
    {"country_code": CPO.country_code, "party_id": CPO.party_id, "id": "LOC1", "publish": True,
     "address": "somestreet 1", "city": "Essen", "country": "DEU",
     "coordinates": {"latitude": "52.232", "longitude": "0.809"},
     "time_zone": "Europe/Berlin", "last_updated": TIMESTAMP}
).encode()  # fmt: skip
TOKEN = json.dumps(
    {"country_code": EMSP.country_code, "party_id": EMSP.party_id, "uid": RFID_UID,
     "type": "RFID", "contract_id": "DEM00C00000001", "issuer": "Bench", "valid": True,
     "whitelist": "ALLOWED", "last_updated": TIMESTAMP}
).encode()  # fmt: skip
LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
TIMEOUT = 30.0


def cpo(number: int) -> PartyId:
    return PartyId("DE", f"C{number:02d}")


def emsp(number: int) -> PartyId:
    return PartyId("DE", f"M{number:02d}")


@dataclass
class Bench:
    session: aiohttp.ClientSession
    node_url: str
    party_base: str
    tokens: dict[PartyId, str] = field(default_factory=dict)
    correlations: itertools.count[int] = field(default_factory=itertools.count)

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
    """Another time per round: when the answer came, for a push."""
    legs: int = 1
    errors: int = 0


async def rounds(routes: Sequence[Route], count: int, warm_up: int) -> None:
    """`count` rounds of every route in turn, after `warm_up` unrecorded ones."""
    for number in range(warm_up + count):
        for route in routes:
            try:
                seconds = await route.run()
            except (Failed, aiohttp.ClientError, TimeoutError) as error:
                route.errors += 1
                if route.errors == 1:
                    print(f"  {route.name}: {error}")
                continue
            if number >= warm_up:
                route.latencies.append(seconds)


# ---------------------------------------------------------------------------- 1. broadcast


def pushes(bench: Bench, receivers: int) -> Route:
    """DE C00's location PUT TO the hub; until the last of `receivers` legs arrived."""
    url = f"{bench.node_url}/scpi/receiver/2.2/locations/DE/C00/LOC1"
    answered: list[float] = []

    async def run() -> float:
        headers = bench.headers(CPO, NODE_PARTY)
        started = time.monotonic()
        await bench.send("PUT", url, headers, LOCATION)
        answered.append(time.monotonic() - started)
        return max(await bench.arrivals(headers["X-Correlation-ID"], receivers)) - started

    return Route(f"broadcast to {receivers}", run, extra=answered, legs=receivers)


def one_push(bench: Bench, *, through_node: bool) -> Route:
    """The same PUT to DE M00 alone: through the node, or straight to the party server."""
    if through_node:
        url = f"{bench.node_url}/scpi/receiver/2.2/locations/DE/C00/LOC1"
    else:
        url = f"{bench.party_base}/{name_of(EMSP)}/locations/DE/C00/LOC1"
    answered: list[float] = []

    async def run() -> float:
        headers = bench.headers(CPO, EMSP) if through_node else bench.direct(EMSP)
        started = time.monotonic()
        await bench.send("PUT", url, headers, LOCATION)
        answered.append(time.monotonic() - started)
        (arrived,) = await bench.arrivals(headers["X-Correlation-ID"], 1)
        return arrived - started

    return Route("party to party" if through_node else "direct", run, extra=answered)


def print_broadcast(routes: Sequence[Route]) -> None:
    print(f"\n1. Broadcast: PUT locations/DE/C00/LOC1 from DE C00; {len(routes[0].latencies)} "
          "pushes per row, one at a time; ms from sending until the last leg arrived\n")  # fmt: skip
    print(f"{'route':<18} {'legs':>5} {'answer p50':>10} {'last p50':>9} {'last p99':>9} "
          f"{'legs/s':>7} {'x p2p p50':>9} {'errors':>6}")  # fmt: skip
    base = ms(routes[1].latencies, 0.5)
    for route in routes:
        legs = route.legs
        p50 = ms(route.latencies, 0.5)
        rate = legs * len(route.latencies) / (sum(route.latencies) or float("nan"))
        print(f"{route.name:<18} {legs:>5} {ms(route.extra, 0.5):>10.2f} {p50:>9.2f} "
              f"{ms(route.latencies, 0.99):>9.2f} {rate:>7.0f} {p50 / base:>9.2f} "
              f"{route.errors:>6}")  # fmt: skip


# ---------------------------------------------------------------------------- 2. GET All


def get_all(bench: Bench, sources: int, page: int) -> Route:
    """DE M00's GET of cdrs TO the hub, every page followed by its Link."""
    first = f"{bench.node_url}/scpi/sender/2.2/cdrs"

    async def run() -> float:
        headers = bench.headers(EMSP, NODE_PARTY)
        started = time.monotonic()
        url: str | None = first
        objects, total, pages = 0, "", 0
        while url is not None:
            answer, answer_headers = await bench.send("GET", url, headers)
            objects += len(json.loads(answer)["data"])
            total = total or str(answer_headers.get("X-Total-Count", ""))
            pages += 1
            found = LINK.search(str(answer_headers.get("Link", "")))
            url = found.group(1) if found else None
        elapsed = time.monotonic() - started
        if objects != sources * page or total != str(sources * page):
            raise Failed(f"{objects} CDRs in {pages} pages, X-Total-Count {total!r}")
        return elapsed

    return Route("GET All via hub", run)


def source_by_source(bench: Bench, sources: int, page: int, through_node: bool) -> Route:
    """The same pages fetched one source after another."""

    async def run() -> float:
        started = time.monotonic()
        objects = 0
        for number in range(sources):
            source = cpo(number)
            if through_node:
                url = f"{bench.node_url}/scpi/sender/2.2/cdrs"
                answer, _ = await bench.send("GET", url, bench.headers(EMSP, source))
            else:
                url = f"{bench.party_base}/{name_of(source)}/cdrs"
                answer, _ = await bench.send("GET", url, bench.direct(source))
            objects += len(json.loads(answer)["data"])
        elapsed = time.monotonic() - started
        if objects != sources * page:
            raise Failed(f"{objects} CDRs")
        return elapsed

    return Route("party to party" if through_node else "direct", run)


def print_get_all(routes: Sequence[Route], sources: int, page: int) -> None:
    print(f"\n2. GET All: cdrs from {sources} CPOs, one page of {page} each; "
          f"{len(routes[0].latencies)} whole lists per row; ms per whole list\n")  # fmt: skip
    print(f"{'route':<18} {'p50':>8} {'p99':>8} {'x p2p p50':>9} {'x direct':>9} {'errors':>6}")
    p2p, direct = (ms(route.latencies, 0.5) for route in routes[1:])
    for route in routes:
        p50 = ms(route.latencies, 0.5)
        print(f"{route.name:<18} {p50:>8.2f} {ms(route.latencies, 0.99):>8.2f} "
              f"{p50 / p2p:>9.2f} {p50 / direct:>9.2f} {route.errors:>6}")  # fmt: skip


# ---------------------------------------------------------------------------- 3. open routing


def authorize(bench: Bench, uid: str, receiver: PartyId | None, name: str) -> Route:
    """DE C00's POST tokens/{uid}/authorize, TO `receiver` (None: no SCPI-to-*)."""
    url = f"{bench.node_url}/scpi/sender/2.2/tokens/{uid}/authorize?type=RFID"

    async def run() -> float:
        headers = bench.headers(CPO, receiver)
        started = time.monotonic()
        await bench.send("POST", url, headers)
        return time.monotonic() - started

    return Route(name, run)


def authorize_direct(bench: Bench) -> Route:
    url = f"{bench.party_base}/{name_of(EMSP)}/tokens/{RFID_UID}/authorize?type=RFID"

    async def run() -> float:
        started = time.monotonic()
        await bench.send("POST", url, bench.direct(EMSP))
        return time.monotonic() - started

    return Route("direct", run)


async def learn_token(bench: Bench) -> float:
    """DE M00 pushes its token to DE C00 through the hub; the seconds until the hub has learned
    whose it is (the index is written off the hot path), or -1 if it did not within TIMEOUT."""
    url = f"{bench.node_url}/scpi/receiver/2.2/tokens/DE/M00/{RFID_UID}"
    await bench.send("PUT", url, bench.headers(EMSP, CPO), TOKEN)
    probe = authorize(bench, RFID_UID, None, "")
    started = time.monotonic()
    while time.monotonic() - started < TIMEOUT:
        try:
            await probe.run()
            return time.monotonic() - started
        except Failed:
            await asyncio.sleep(0.01)  # the index write is in the background: ask again
    return -1.0


def print_open(routes: Sequence[Route]) -> None:
    print(f"\n3. Open routing: POST tokens/{{uid}}/authorize from DE C00 to DE M00; "
          f"{len(routes[0].latencies)} requests per row, 1 client; ms\n")  # fmt: skip
    print(f"{'route':<22} {'p50':>7} {'p99':>7} {'p50 added':>9} {'p99 added':>9} {'errors':>6}")
    base = routes[1]
    base_p50, base_p99 = ms(base.latencies, 0.5), ms(base.latencies, 0.99)
    for route in routes:
        if not route.latencies:
            print(f"{route.name:<22} {'':>7} {'':>7} {'':>9} {'':>9} {route.errors:>6}")
            continue
        p50, p99 = ms(route.latencies, 0.5), ms(route.latencies, 0.99)
        added = (
            "" if route in (base, routes[0]) else f"{p50 - base_p50:>9.2f} {p99 - base_p99:>9.2f}"
        )
        print(f"{route.name:<22} {p50:>7.2f} {p99:>7.2f} {added:>19} {route.errors:>6}")


# ---------------------------------------------------------------------------- the run


async def join(
    bench: Bench, registry: RegistryContract, operator: str, parties: list[PartyId], role: Role
) -> None:
    """List and connect `parties`, a few at a time (each listing is a chain transaction)."""
    limit = asyncio.Semaphore(8)
    spender = dev_account(SPENDER)

    async def one(party: PartyId) -> None:
        async with limit:
            bench.tokens[party] = await register_signed(
                bench.session,
                registry,
                bench.node_url,
                operator,
                party,
                role,
                spender,
                bench.party_base,
            )

    await asyncio.gather(*(one(party) for party in parties))


async def main(options: argparse.Namespace) -> None:
    levels = sorted(int(x) for x in options.receivers.split(","))
    async with AsyncExitStack() as stack:
        rpc_url, registry = await stack.enter_async_context(chain())
        party_base = await stack.enter_async_context(party_server("--page", str(options.page)))
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        hub = await stack.enter_async_context(node(registry, NODE_ACCOUNT, rpc_url, tmp))
        session = await stack.enter_async_context(
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),
                timeout=aiohttp.ClientTimeout(total=TIMEOUT),
            )
        )
        bench = Bench(session, hub.url, party_base)
        operator = hub.account.address
        started = time.monotonic()
        await join(bench, registry, operator, [cpo(n) for n in range(options.sources)], Role.CPO)
        await join(bench, registry, operator, [emsp(n) for n in range(levels[0])], Role.EMSP)
        print(f"{os.cpu_count()} CPUs; {options.sources} CPOs and {levels[0]} eMSPs joined in "
              f"{time.monotonic() - started:.1f} s")  # fmt: skip

        # 1. broadcast, the receivers joining level by level
        baseline = [one_push(bench, through_node=False), one_push(bench, through_node=True)]
        broadcast: list[Route] = []
        for number, level in enumerate(levels):
            joined = levels[number - 1] if number else levels[0]
            await join(
                bench, registry, operator, [emsp(n) for n in range(joined, level)], Role.EMSP
            )
            route = pushes(bench, level)
            broadcast.append(route)
            await rounds([route, *baseline] if number == 0 else [route], options.pushes, 5)
        print_broadcast([*baseline, *broadcast])

        # 2. GET All
        get_routes = [
            get_all(bench, options.sources, options.page),
            source_by_source(bench, options.sources, options.page, True),
            source_by_source(bench, options.sources, options.page, False),
        ]
        await rounds(get_routes, options.lists, 3)
        print_get_all(get_routes, options.sources, options.page)

        # 3. open routing
        learned = await learn_token(bench)
        open_routes = [
            authorize_direct(bench),
            authorize(bench, RFID_UID, EMSP, "TO = the eMSP"),
            authorize(bench, RFID_UID, None, "open, token index"),
            authorize(bench, CONTRACT_UID, None, "open, eMI3 contract id"),
        ]
        await rounds(open_routes, options.authorizations, 20)
        print_open(open_routes)
        print(f"\n(the token index answered {learned * 1000:.1f} ms after the token push's answer)"
              if learned >= 0 else "\n(the token index never answered)")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receivers", default="10,100", help="eMSPs connected, per broadcast row")
    parser.add_argument("--pushes", type=int, default=50, help="broadcasts per row")
    parser.add_argument("--sources", type=int, default=10, help="CPOs a GET All reads")
    parser.add_argument("--page", type=int, default=10, help="CDRs in a source's page")
    parser.add_argument("--lists", type=int, default=30, help="whole lists per GET All row")
    parser.add_argument("--authorizations", type=int, default=300, help="requests per row")
    asyncio.run(main(parser.parse_args()))
