"""The admin API (`Authorization: Token <SCN_ADMIN_API_KEY>`): TOKEN_As, connection status, and
the operator's platform management. No answer holds a token but a TOKEN_A just issued."""

from __future__ import annotations

import hmac
import re
from typing import Any

from aiohttp import web

from scn_node.hub.platforms import Platforms, PlatformView
from scn_node.scpi.envelope import envelope, timestamp
from scn_node.scpi.errors import ResourceNotFound, Unauthorized
from scn_node.scpi.pagination import Page, link_header
from scn_node.scpi.party import InvalidPartyId, PartyId
from scn_node.web.handlers import _body, _state
from scn_node.web.middlewares import json_response

PLATFORMS_PAGE = 100
_ID = re.compile(r"[0-9]{1,18}")


def _check_admin(request: web.Request) -> None:
    key = _state(request).settings.admin_api_key
    if key is None:
        raise Unauthorized("The admin API is disabled: the node has no SCN_ADMIN_API_KEY")
    # surrogatepass: a header with bytes that are not UTF-8 is simply not the key.
    presented = request.headers.get("Authorization", "").encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(presented, f"Token {key}".encode()):
        raise Unauthorized("Admin API: missing or wrong admin API key")


def _platforms(request: web.Request) -> Platforms:
    client_info = _state(request).client_info
    return Platforms(_state(request).directory, client_info, client_info.last_heard)


def _platform_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not _ID.fullmatch(raw):
        raise ResourceNotFound(f"No platform {raw} on this node")
    return int(raw)


def _json(view: PlatformView, *, endpoints: bool = False) -> dict[str, Any]:
    platform = view.platform
    shown: dict[str, Any] = {
        "id": platform.id,
        "status": platform.status.value,
        "version": view.version,
        "roles": [
            {
                "country_code": r.party.country_code,
                "party_id": r.party.party_id,
                "role": r.role.value,
                "name": r.business_details.get("name"),
            }
            for r in platform.roles
        ],
        "endpoint_count": view.endpoint_count,
        "last_heard": timestamp(view.last_heard),
    }
    if endpoints:
        shown["versions_url"] = platform.versions_url
        shown["endpoints"] = [
            {"identifier": e.identifier, "role": e.role.value, "url": e.url} for e in view.endpoints
        ]
    return shown


# ---------------------------------------------------------------- TOKEN_A and status


async def generate_registration_token(request: web.Request) -> web.Response:
    _check_admin(request)
    issued = await _state(request).handshake.issue_token_a(await _body(request))
    return json_response(dict(issued))


async def connection_status(request: web.Request) -> web.Response:
    _check_admin(request)
    try:
        party = PartyId.parse(request.match_info["country_code"], request.match_info["party_id"])
    except InvalidPartyId as error:
        raise ResourceNotFound(str(error)) from None
    platform = await _state(request).directory.platform_of(party)
    if platform is None:
        raise ResourceNotFound(f"{party} has never connected to this node")
    return json_response(
        {
            "country_code": party.country_code,
            "party_id": party.party_id,
            "status": platform.status.value,
            "roles": [r.role.value for r in platform.roles if r.party == party],
            "last_updated": timestamp(platform.last_updated),
        }
    )


# ---------------------------------------------------------------- platforms


async def list_platforms(request: web.Request) -> web.Response:
    _check_admin(request)
    page = Page.parse(request.query, max_limit=PLATFORMS_PAGE)
    views, total = await _platforms(request).page(page.offset, page.limit)
    response = json_response(envelope([_json(v) for v in views]))
    response.headers["X-Total-Count"] = str(total)
    response.headers["X-Limit"] = str(PLATFORMS_PAGE)
    if page.offset + len(views) < total:
        next_url = f"{_state(request).node.url}{request.path}?{page.next_query(request.query)}"
        response.headers["Link"] = link_header(next_url)
    return response


async def show_platform(request: web.Request) -> web.Response:
    _check_admin(request)
    view = await _platforms(request).show(_platform_id(request))
    return json_response(envelope(_json(view, endpoints=True)))


async def disconnect_platform(request: web.Request) -> web.Response:
    _check_admin(request)
    view = await _platforms(request).disconnect(_platform_id(request))
    return json_response(envelope(_json(view)))


async def rotate_platform(request: web.Request) -> web.Response:
    _check_admin(request)
    platform_id = _platform_id(request)
    await _state(request).handshake.rotate(platform_id)
    view = await _platforms(request).show(platform_id)
    return json_response(envelope(_json(view, endpoints=True)))


async def connect(request: web.Request) -> web.Response:
    _check_admin(request)
    platform = await _state(request).handshake.connect(await _body(request))
    view = await _platforms(request).show(platform.id)
    return json_response(envelope(_json(view, endpoints=True)))
