"""A fast SCPI party for the benchmark: versions, version details and a locations endpoint for
any number of parties under /{name}/…, answering from precomputed bytes. Prints its port."""

from __future__ import annotations

import json
import socket

from aiohttp import web

ENVELOPE = {"status_code": 1000, "timestamp": "2026-11-23T10:00:00Z"}
LOCATION = json.dumps(
    {**ENVELOPE, "data": {"country_code": "DE", "party_id": "CPO", "id": "LOC1", "publish": True,
                          "address": "somestreet 1", "city": "Essen", "country": "DEU",
                          "coordinates": {"latitude": "52.232", "longitude": "0.809"},
                          "time_zone": "Europe/Berlin", "last_updated": "2019-08-13T14:44:25.561Z"}}
).encode()  # fmt: skip


def main() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def versions(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        data = [{"version": "2.2", "url": f"{base}/{name}/2.2"}]
        return web.json_response({**ENVELOPE, "data": data})

    async def details(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        endpoints = [
            {"identifier": "locations", "role": role, "url": f"{base}/{name}/locations"}
            for role in ("SENDER", "RECEIVER")
        ]
        return web.json_response({**ENVELOPE, "data": {"version": "2.2", "endpoints": endpoints}})

    async def location(request: web.Request) -> web.Response:
        return web.Response(body=LOCATION, content_type="application/json")

    app = web.Application()
    app.router.add_get("/{name}/versions", versions)
    app.router.add_get("/{name}/2.2", details)
    app.router.add_get("/{name}/locations/{tail:.*}", location)
    print(base, flush=True)
    web.run_app(app, sock=sock, print=None, access_log=None, handle_signals=True)


if __name__ == "__main__":
    main()
