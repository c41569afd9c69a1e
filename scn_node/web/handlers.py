"""Request handlers: translate HTTP to hub calls and hub results to SCPI responses."""

from __future__ import annotations

from aiohttp import ClientPayloadError, web

from scn_node.hub.callers import identify
from scn_node.hub.clientinfo import HubClientInfo
from scn_node.hub.message import ScpiReply
from scn_node.hub.modules import Family
from scn_node.hub.ports import Caller, TokenKind
from scn_node.scpi.credentials import node_credentials
from scn_node.scpi.envelope import envelope
from scn_node.scpi.errors import (
    MalformedJson,
    RegistrationState,
    ResourceNotFound,
)
from scn_node.scpi.headers import NODE_SIGNATURE, Routing
from scn_node.scpi.pagination import Page, link_header
from scn_node.scpi.party import InvalidPartyId, ModuleId, PartyId
from scn_node.scpi.versions import (
    InterfaceRole,
    configuration_path,
    node_endpoints,
    node_versions,
    versions_path,
)
from scn_node.web.middlewares import SCPI_STATUS, json_response
from scn_node.web.state import ROUTING, STATE, NodeState

HUB_CLIENT_INFO_PAGE = 100


def _state(request: web.Request) -> NodeState:
    return request.app[STATE]


def _client_info(request: web.Request) -> HubClientInfo:
    return request.app[STATE].client_info


def _prefix(request: web.Request) -> str:
    """The dialect the caller used: scpi, or ocpi for backoffices written for OCN."""
    return request.path.split("/", 2)[1]


def _version(request: web.Request) -> str:
    """The SCPI version of a details or configuration path: /{prefix}/{version}[/{module}]."""
    return request.path.split("/")[2]


async def _caller(request: web.Request, *kinds: TokenKind) -> Caller:
    return await identify(_state(request).directory, request.headers.get("Authorization"), *kinds)


async def _body(request: web.Request) -> bytes:
    if not request.can_read_body:
        return b""
    try:
        return await request.read()
    except (web.RequestPayloadError, ClientPayloadError) as error:
        raise MalformedJson(f"The request body could not be read: {error}") from None


# ---------------------------------------------------------------- node endpoints


async def health(request: web.Request) -> web.Response:
    return web.Response(text="OK")


async def node_info(request: web.Request) -> web.Response:
    node = _state(request).node
    return json_response({"url": node.url, "address": node.address.lower()})


async def node_of_party(request: web.Request) -> web.Response:
    try:
        party = PartyId.parse(request.match_info["country_code"], request.match_info["party_id"])
    except InvalidPartyId as error:
        raise ResourceNotFound(str(error)) from None
    listed = await _state(request).registry.party(party)
    if listed is None or not listed.node_url:
        raise ResourceNotFound(f"{party} is not listed in the SCN Registry")
    return json_response({"url": listed.node_url, "address": listed.operator.lower()})


# ---------------------------------------------------------------- versions and credentials


async def versions(request: web.Request) -> web.Response:
    await _caller(request, TokenKind.A, TokenKind.C)
    listed = node_versions(_state(request).node.url, _prefix(request))
    return json_response(envelope([v.model_dump(mode="json") for v in listed]))


async def version_details(request: web.Request) -> web.Response:
    await _caller(request, TokenKind.A, TokenKind.C)
    version = _version(request)
    endpoints = node_endpoints(_state(request).node.url, _prefix(request), version)
    data = {"version": version, "endpoints": [e.model_dump(mode="json") for e in endpoints]}
    return json_response(envelope(data))


def _credentials_reply(request: web.Request, token: str) -> web.Response:
    versions_url = _state(request).node.url + versions_path(_prefix(request))
    return json_response(envelope(node_credentials(token, versions_url)))


async def credentials(request: web.Request) -> web.Response:
    state = _state(request)
    caller = await _caller(request, TokenKind.A, TokenKind.C)
    registered = caller.kind is TokenKind.C
    if request.method == "POST":
        if registered:
            raise RegistrationState("Already registered; use PUT to update your credentials")
        token_c = await state.handshake.register(caller, await _body(request))
        return _credentials_reply(request, token_c)
    if not registered:
        raise RegistrationState("Not registered yet; POST your credentials with TOKEN_A first")
    if request.method == "GET":
        return _credentials_reply(request, caller.token)
    if request.method == "PUT":
        token_c = await state.handshake.update(caller, await _body(request))
        return _credentials_reply(request, token_c)
    await state.handshake.unregister(caller)
    return json_response(envelope())


async def hub_client_info(request: web.Request) -> web.Response:
    state = _state(request)
    caller = await _caller(request, TokenKind.C)
    page = Page.parse(request.query, max_limit=HUB_CLIENT_INFO_PAGE)
    infos, total = await _client_info(request).client_infos(page, rules=caller.platform.rules)
    response = json_response(envelope([info.to_json() for info in infos]))
    response.headers["X-Total-Count"] = str(total)
    response.headers["X-Limit"] = str(HUB_CLIENT_INFO_PAGE)
    if page.offset + len(infos) < total:
        path = configuration_path(_prefix(request), ModuleId.HUB_CLIENT_INFO, _version(request))
        next_url = f"{state.node.url}{path}?{page.next_query(request.query)}"
        response.headers["Link"] = link_header(next_url)
    return response


# ---------------------------------------------------------------- routed modules


def _raw_tail(request: web.Request) -> str:
    """The raw path below /{prefix}/{…}/{…}/{module}: every route here mounts four segments deep."""
    parts = request.rel_url.raw_path.split("/", 5)
    return "/" + parts[5] if len(parts) > 5 else ""


def _routing(request: web.Request) -> Routing:
    """The routing headers, read once for the hub and the request log alike."""
    routing = request[ROUTING] = Routing.read(request.headers)
    return routing


def _response(reply: ScpiReply) -> web.Response:
    response = web.Response(status=reply.status, body=reply.body, headers=dict(reply.headers))
    if reply.status_code is not None:
        response[SCPI_STATUS] = reply.status_code
    return response


async def routed(request: web.Request) -> web.Response:
    """Every routed request: a module, a custom module (/{dialect}/custom/…) or a proxy URL.
    The hub answers it whole, its own errors included."""
    routing = _routing(request)
    caller = await _caller(request, TokenKind.C)
    forwarder, info, body = _state(request).forwarder, request.match_info, await _body(request)
    if "uid" in info:
        reply = await forwarder.route_proxied(caller, routing, info["uid"], request.method, body)
    else:
        custom = request.path.split("/", 3)[2] == "custom"
        reply = await forwarder.route(
            caller,
            routing,
            request.method,
            info["module"],
            InterfaceRole(info["interface"].upper()),
            Family.CUSTOM if custom else Family.STANDARD,
            tail=_raw_tail(request),
            query=request.rel_url.raw_query_string,
            body=body,
        )
    return _response(reply)


# ---------------------------------------------------------------- node to node


async def node_message(request: web.Request) -> web.Response:
    """A peer node's message; the hub answers every one, errors included, node-signed."""
    forwarder = _state(request).forwarder
    raw = await _body(request)
    return _response(await forwarder.receive(raw, request.headers.get(NODE_SIGNATURE)))


async def client_info(request: web.Request) -> web.Response:
    raw = await _body(request)
    await _client_info(request).receive(raw, request.headers.get(NODE_SIGNATURE))
    return json_response(envelope())
