"""A fast SCPI party for the benchmarks: any number of parties under /{name}/… on one socket,
answering from precomputed bytes. Prints its base URL.

    party_server.py [--page K]

Every party offers locations, tokens, cdrs and sessions. GET locations/{id} answers one location
(no token check: the older benches use one shared token). The routes the hub scenarios bench
uses check the party's own TOKEN_B (`token-b-{name}`), so a leg sent with another party's token
fails: PUT/PATCH/POST of locations and tokens pushes, POST tokens/{uid}/authorize, and GET
cdrs or sessions (one page of K objects of that party, no Link). Each push is recorded with its
arrival time (CLOCK_MONOTONIC, the same clock as the bench's time.monotonic()) under its
X-Correlation-ID; GET /_bench/arrivals/{correlation id}?count=N waits until N have arrived (or
?timeout= seconds passed) and hands them over as [[name, time], …]. GET /_bench/lists says how
many cdrs/sessions pages were served since it was last asked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import time
from collections import defaultdict
from contextlib import suppress

from aiohttp import web

ENVELOPE = {"status_code": 1000, "timestamp": "2026-11-23T10:00:00Z"}
OK = json.dumps(ENVELOPE).encode()
LOCATION = json.dumps(
    {**ENVELOPE, "data": {"country_code": "DE", "party_id": "CPO", "id": "LOC1", "publish": True,
                          "address": "somestreet 1", "city": "Essen", "country": "DEU",
                          "coordinates": {"latitude": "52.232", "longitude": "0.809"},
                          "time_zone": "Europe/Berlin", "last_updated": "2019-08-13T14:44:25.561Z"}}
).encode()  # fmt: skip
AUTHORIZED = json.dumps(
    {**ENVELOPE, "data": {"allowed": "ALLOWED", "authorization_reference": "bench"}}
).encode()
UNAUTHORIZED = json.dumps(
    {"status_code": 2001, "status_message": "wrong TOKEN_B", "timestamp": ENVELOPE["timestamp"]}
).encode()
MODULES = ("locations", "tokens", "cdrs", "sessions")


def cdr(name: str, number: int) -> dict[str, object]:
    """A CDR of party `name` (e.g. "dec00"), about 1 KB of JSON like a real one."""
    cc, pid = name[:2].upper(), name[2:].upper()
    return {
        "country_code": cc, "party_id": pid, "id": f"CDR{number:06d}",
        "start_date_time": "2026-11-23T08:00:00Z", "end_date_time": "2026-11-23T09:00:00Z",
        "cdr_token": {"country_code": "DE", "party_id": "M00", "uid": f"TOK{number}",
                      "type": "RFID", "contract_id": f"DEM00C{number:08d}"},
        "auth_method": "WHITELIST", "currency": "EUR",
        "cdr_location": {"id": "LOC1", "address": "somestreet 1", "city": "Essen",
                         "country": "DEU", "evse_uid": "EVSE1", "evse_id": f"{cc}*{pid}*E1",
                         "connector_id": "1", "connector_standard": "IEC_62196_T2",
                         "connector_format": "SOCKET", "connector_power_type": "AC_3_PHASE",
                         "coordinates": {"latitude": "52.232", "longitude": "0.809"}},
        "charging_periods": [{"start_date_time": "2026-11-23T08:00:00Z",
                              "dimensions": [{"type": "ENERGY", "volume": 21.5}]}],
        "total_cost": {"excl_vat": 8.6, "incl_vat": 10.23}, "total_energy": 21.5,
        "total_time": 1.0, "last_updated": "2026-11-23T09:00:05Z",
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--page", type=int, default=10, help="objects in a cdrs/sessions page")
    page_size = parser.parse_args().page

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    pages: dict[str, bytes] = {}
    arrivals: dict[str, list[tuple[str, float]]] = defaultdict(list)
    waiting: dict[str, tuple[int, asyncio.Future[None]]] = {}
    lists_served = [0]

    def authorized(request: web.Request, name: str) -> bool:
        return request.headers.get("Authorization") == f"Token token-b-{name}"

    async def versions(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        data = [{"version": "2.2", "url": f"{base}/{name}/2.2"}]
        return web.json_response({**ENVELOPE, "data": data})

    async def details(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        endpoints = [
            {"identifier": module, "role": role, "url": f"{base}/{name}/{module}"}
            for module in MODULES
            for role in ("SENDER", "RECEIVER")
        ]
        return web.json_response({**ENVELOPE, "data": {"version": "2.2", "endpoints": endpoints}})

    async def location(request: web.Request) -> web.Response:
        return web.Response(body=LOCATION, content_type="application/json")

    async def push(request: web.Request) -> web.Response:
        await request.read()
        arrived = time.monotonic()
        name = request.match_info["name"]
        if not authorized(request, name):
            return web.Response(status=401, body=UNAUTHORIZED, content_type="application/json")
        correlation = request.headers.get("X-Correlation-ID", "")
        got = arrivals[correlation]
        got.append((name, arrived))
        waiter = waiting.get(correlation)
        if waiter is not None and len(got) >= waiter[0] and not waiter[1].done():
            waiter[1].set_result(None)
        return web.Response(body=OK, content_type="application/json")

    async def authorize(request: web.Request) -> web.Response:
        await request.read()
        if not authorized(request, request.match_info["name"]):
            return web.Response(status=401, body=UNAUTHORIZED, content_type="application/json")
        return web.Response(body=AUTHORIZED, content_type="application/json")

    async def listing(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if not authorized(request, name):
            return web.Response(status=401, body=UNAUTHORIZED, content_type="application/json")
        lists_served[0] += 1
        if name not in pages:
            data = [cdr(name, number) for number in range(page_size)]
            pages[name] = json.dumps({**ENVELOPE, "data": data}).encode()
        headers = {"X-Total-Count": str(page_size), "X-Limit": str(page_size)}
        return web.Response(body=pages[name], headers=headers, content_type="application/json")

    async def arrived(request: web.Request) -> web.Response:
        correlation = request.match_info["correlation"]
        count = int(request.query.get("count", "1"))
        if len(arrivals[correlation]) < count:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            waiting[correlation] = (count, future)
            with suppress(TimeoutError):
                await asyncio.wait_for(future, float(request.query.get("timeout", "10")))
            waiting.pop(correlation, None)
        return web.json_response(arrivals.pop(correlation, []))

    async def served(request: web.Request) -> web.Response:
        count, lists_served[0] = lists_served[0], 0
        return web.json_response({"lists": count})

    app = web.Application()
    app.router.add_get("/_bench/lists", served)
    app.router.add_get("/_bench/arrivals/{correlation}", arrived)
    app.router.add_get("/{name}/versions", versions)
    app.router.add_get("/{name}/2.2", details)
    app.router.add_get("/{name}/locations/{tail:.*}", location)
    for module in ("locations", "tokens"):
        for method in ("PUT", "PATCH", "POST"):
            app.router.add_route(method, f"/{{name}}/{module}/{{cc}}/{{pid}}/{{tail:.+}}", push)
    app.router.add_post("/{name}/tokens/{uid}/authorize", authorize)
    app.router.add_get("/{name}/cdrs", listing)
    app.router.add_get("/{name}/sessions", listing)
    print(base, flush=True)
    web.run_app(app, sock=sock, print=None, access_log=None, handle_signals=True)


if __name__ == "__main__":
    main()
