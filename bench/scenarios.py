"""Benchmark: the hub's own scenarios (broadcast push, GET All, open routing) against the same
work done party to party and straight to the party, in one run.

    .venv/bin/python bench/scenarios.py [--receivers 10,100] [--pushes 50] [--burst 10]
        [--sources 10] [--page 10] [--lists 30] [--authorizations 1000]
        [--postgres | --database-url URL]

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
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import AsyncExitStack, suppress
from pathlib import Path

import aiohttp
from routes import TIMEOUT, Bench, Failed, Route, ms, rounds
from testbed import chain, name_of, node, party_server, postgres_database

from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.party import PartyId, Role

NODE_ACCOUNT = 14
CPO = PartyId("DE", "C00")  # the broadcasting CPO, the authorizing CPO, the first GET All source
EMSP = PartyId("DE", "M00")  # the first receiver, the GET All requester, the token's owner
RFID_UID = "BENCH"
CONTRACT_UID = "DEM00C12345678"  # eMI3 contract id naming DE M00: open routing needs no index
WARM_UP = 20  # rounds of open routing before the measured ones
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


def cpo(number: int) -> PartyId:
    return PartyId("DE", f"C{number:02d}")


def emsp(number: int) -> PartyId:
    return PartyId("DE", f"M{number:02d}")


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


def burst(bench: Bench, receivers: int, size: int) -> Route:
    """`size` PUTs of different locations TO the hub at once: until the last leg of all arrived
    (legs to one receiver for one object run in order; different objects' legs need not)."""
    urls = [f"{bench.node_url}/scpi/receiver/2.2/locations/DE/C00/LOC{n}" for n in range(size)]
    bodies = [LOCATION.replace(b'"LOC1"', f'"LOC{n}"'.encode()) for n in range(size)]
    answered: list[float] = []

    async def run() -> float:
        headers = [bench.headers(CPO, NODE_PARTY) for _ in urls]
        started = time.monotonic()
        sends = (bench.send("PUT", *push) for push in zip(urls, headers, bodies, strict=True))
        await asyncio.gather(*sends)
        answered.append(time.monotonic() - started)
        waits = (bench.arrivals(sent["X-Correlation-ID"], receivers) for sent in headers)
        return max(max(got) for got in await asyncio.gather(*waits)) - started

    name = f"{size} at once to {receivers}"
    return Route(name, run, extra=answered, legs=size * receivers)


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
    print("\n1. Broadcast: PUT locations/DE/C00/{id} from DE C00, one push a round (or several "
          "sent together); ms from sending until the last leg arrived\n")  # fmt: skip
    print(f"{'route':<20} {'legs':>5} {'rounds':>6} {'answer p50':>10} {'last p50':>9} "
          f"{'last p99':>9} {'legs/s':>7} {'x p2p p50':>9} {'errors':>6}")  # fmt: skip
    base = ms(routes[1].latencies, 0.5)
    for route in routes:
        p50 = ms(route.latencies, 0.5)
        rate = route.legs * len(route.latencies) / (sum(route.latencies) or float("nan"))
        print(f"{route.name:<20} {route.legs:>5} {len(route.latencies):>6} "
              f"{ms(route.extra, 0.5):>10.2f} {p50:>9.2f} {ms(route.latencies, 0.99):>9.2f} "
              f"{rate:>7.0f} {p50 / base:>9.2f} {route.errors:>6}")  # fmt: skip


# ---------------------------------------------------------------------------- 2. GET All


def get_all(bench: Bench, sources: int, page: int) -> Route:
    """DE M00's GET of cdrs TO the hub, every page followed by its Link."""
    first = f"{bench.node_url}/scpi/sender/2.2/cdrs"
    first_pages: list[float] = []

    async def run() -> float:
        headers = bench.headers(EMSP, NODE_PARTY)
        started = time.monotonic()
        url: str | None = first
        objects, total, pages = 0, "", 0
        while url is not None:
            answer, answer_headers = await bench.send("GET", url, headers)
            if not pages:
                first_pages.append(time.monotonic() - started)
            objects += len(json.loads(answer)["data"])
            total = total or str(answer_headers.get("X-Total-Count", ""))
            pages += 1
            found = LINK.search(str(answer_headers.get("Link", "")))
            url = found.group(1) if found else None
        elapsed = time.monotonic() - started
        if objects != sources * page or total != str(sources * page):
            raise Failed(f"{objects} CDRs in {pages} pages, X-Total-Count {total!r}")
        return elapsed

    return Route("GET All via hub", run, extra=first_pages)


def source_by_source(bench: Bench, sources: int, page: int, through_node: bool) -> Route:
    """The same pages fetched one source after another."""

    first_pages: list[float] = []

    async def run() -> float:
        started = time.monotonic()
        objects = 0
        for number in range(sources):
            if number == 1:
                first_pages.append(time.monotonic() - started)
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

    return Route("party to party" if through_node else "direct", run, extra=first_pages)


def print_get_all(routes: Sequence[Route], sources: int, page: int) -> None:
    print(f"\n2. GET All: cdrs from {sources} CPOs, one page of {page} each; "
          f"{len(routes[0].latencies)} whole lists per row; ms until the first page (p50) "
          "and the whole list\n")  # fmt: skip
    print(f"{'route':<18} {'1st page':>8} {'p50':>8} {'p99':>8} {'x p2p p50':>9} "
          f"{'x direct':>9} {'errors':>6}")  # fmt: skip
    p2p, direct = (ms(route.latencies, 0.5) for route in routes[1:])
    for route in routes:
        p50 = ms(route.latencies, 0.5)
        print(f"{route.name:<18} {ms(route.extra, 0.5):>8.2f} {p50:>8.2f} "
              f"{ms(route.latencies, 0.99):>8.2f} "
              f"{p50 / p2p:>9.2f} {p50 / direct:>9.2f} {route.errors:>6}")  # fmt: skip


# ---------------------------------------------------------------------------- 3. open routing


def authorize(bench: Bench, uids: Iterator[str], receiver: PartyId | None, name: str) -> Route:
    """DE C00's POST tokens/{uid}/authorize, TO `receiver` (None: no SCPI-to-*), each round for
    the next of `uids`."""

    async def run() -> float:
        url = f"{bench.node_url}/scpi/sender/2.2/tokens/{next(uids)}/authorize?type=RFID"
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


async def learn_tokens(bench: Bench, uids: Sequence[str]) -> float:
    """DE M00 pushes its tokens `uids`, then RFID_UID, to DE C00 through the hub; the seconds
    from the last push's answer until the hub found RFID_UID's owner (the index is written off
    the hot path), or -1 if it did not within TIMEOUT."""
    for uid in [*uids, RFID_UID]:
        url = f"{bench.node_url}/scpi/receiver/2.2/tokens/DE/M00/{uid}"
        body = TOKEN.replace(RFID_UID.encode(), uid.encode())
        await bench.send("PUT", url, bench.headers(EMSP, CPO), body)
    probe = authorize(bench, itertools.repeat(RFID_UID), None, "")
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


async def main(options: argparse.Namespace) -> bool:
    """Run and print the three tables; whether every request got the answer it needed."""
    levels = sorted(int(x) for x in options.receivers.split(","))
    async with AsyncExitStack() as stack:
        rpc_url, registry = await stack.enter_async_context(chain())
        party_base = await stack.enter_async_context(party_server("--page", str(options.page)))
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        database_url = options.database_url
        if options.postgres:
            database_url = await stack.enter_async_context(postgres_database())
        hub = await stack.enter_async_context(
            node(registry, NODE_ACCOUNT, rpc_url, tmp, database_url)
        )
        session = await stack.enter_async_context(
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),
                timeout=aiohttp.ClientTimeout(total=TIMEOUT),
            )
        )
        bench = Bench(session, hub.url, party_base)
        operator = hub.account.address
        database = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
        print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, {database}")
        print(
            await bench.join(registry, operator, [cpo(n) for n in range(options.sources)], Role.CPO)
        )

        # 1. broadcast, the receivers joining level by level
        baseline = [one_push(bench, through_node=False), one_push(bench, through_node=True)]
        broadcast: list[Route] = []
        for number, level in enumerate(levels):
            joining = [emsp(n) for n in range(levels[number - 1] if number else 0, level)]
            print(await bench.join(registry, operator, joining, Role.EMSP))
            route = pushes(bench, level)
            broadcast.append(route)
            await rounds([route, *baseline] if number == 0 else [route], options.pushes, 5)
            at_once = burst(bench, level, options.burst)
            await rounds([at_once], max(3, options.pushes // options.burst), 1)
            broadcast.append(at_once)
        print_broadcast([*baseline, *broadcast])

        # 2. GET All
        get_routes = [
            get_all(bench, options.sources, options.page),
            source_by_source(bench, options.sources, options.page, True),
            source_by_source(bench, options.sources, options.page, False),
        ]
        await rounds(get_routes, options.lists, 3)
        print_get_all(get_routes, options.sources, options.page)
        await bench.lists_served()
        with suppress(Failed, aiohttp.ClientError):
            await get_routes[0].run()
            asked = await bench.lists_served()
            print(f"(one GET All via the hub asked the sources for {asked} pages)")

        # 3. open routing
        once = [f"BENCH{n:06d}" for n in range(options.authorizations + WARM_UP)]
        learned = await learn_tokens(bench, once)
        open_routes = [
            authorize_direct(bench),
            authorize(bench, itertools.repeat(RFID_UID), EMSP, "TO = the eMSP"),
            authorize(bench, itertools.repeat(RFID_UID), None, "open, token index"),
            authorize(bench, iter(once), None, "open, index, new uid"),
            authorize(bench, itertools.repeat(CONTRACT_UID), None, "open, eMI3 contract id"),
        ]
        await rounds(open_routes, options.authorizations, WARM_UP)
        print_open(open_routes)
        print(f"\n(the token index answered {learned * 1000:.1f} ms after the token push's answer)"
              if learned >= 0 else "\n(the token index never answered)")  # fmt: skip
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
    every = [*baseline, *broadcast, *get_routes, *open_routes]
    return not any(route.errors for route in every)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receivers", default="10,100", help="eMSPs connected, per broadcast row")
    parser.add_argument("--pushes", type=int, default=50, help="broadcasts per row")
    parser.add_argument("--burst", type=int, default=10, help="pushes sent at once, per row")
    parser.add_argument("--sources", type=int, default=10, help="CPOs a GET All reads")
    parser.add_argument("--page", type=int, default=10, help="CDRs in a source's page")
    parser.add_argument("--lists", type=int, default=30, help="whole lists per GET All row")
    parser.add_argument(
        "--database-url", default="", help="the node's (empty) database; default a SQLite file"
    )
    parser.add_argument(
        "--postgres", action="store_true", help="the node on a throwaway PostgreSQL server"
    )
    parser.add_argument("--authorizations", type=int, default=1000, help="requests per row")
    sys.exit(0 if asyncio.run(main(parser.parse_args())) else 1)
