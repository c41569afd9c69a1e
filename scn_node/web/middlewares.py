"""Where each request is logged, and errors raised outside the hub become SCPI envelopes (the hub
answers routed requests whole); both render through `scpi.envelope.error_envelope`."""

from __future__ import annotations

import logging
import time
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

from scn_node.log import request_ids
from scn_node.scpi.envelope import encode, envelope, error_envelope
from scn_node.scpi.errors import (
    BodyTooLarge,
    Codes,
    InternalError,
    MalformedRequest,
    MethodNotAllowed,
    ResourceNotFound,
    ScpiError,
)
from scn_node.scpi.headers import CORRELATION_ID, REQUEST_ID, Routing, routing_pair
from scn_node.scpi.status import ScpiStatus
from scn_node.web.state import ROUTING, STATE

log = logging.getLogger("scn_node.requests")
# The status_code of the node's own envelopes, for the request log (relayed ones are not read).
SCPI_STATUS = web.ResponseKey("scpi_status", int)


def error_response(error: ScpiError, codes: Codes) -> web.Response:
    """An error raised outside the hub (the hub answers routed requests whole, signed as its
    policy says), rendered as the hub renders its own: `error_envelope`."""
    http_status, status, body = error_envelope(error, codes)
    response = web.Response(status=http_status, body=body, content_type="application/json")
    response[SCPI_STATUS] = int(status)
    return response


# Under /scpi and /ocpi the routes are OCPI's (versions, credentials, hubclientinfo, modules,
# proxy URLs) but for these; everything else (/scn, /admin, …) is the node's own surface.
_OCPI_ROOTS = frozenset({"scpi", "ocpi"})
_SCN_SEGMENTS = frozenset({"custom", "scnrules", "ocnrules"})


def codes_of(path: str) -> Codes:
    """Which status codes the route at `path` answers with."""
    segments = path.split("/")[1:5]
    if segments[0] in _OCPI_ROOTS and not _SCN_SEGMENTS.intersection(segments[1:]):
        return Codes.STANDARD
    return Codes.SCN


def json_response(body: dict[str, object], status: int = 200) -> web.Response:
    response = web.Response(status=status, body=encode(body), content_type="application/json")
    code = body.get("status_code")
    if isinstance(code, int):
        response[SCPI_STATUS] = code
    return response


def malformed_request_response(problem: str) -> web.Response:
    """The answer to a request aiohttp's parser refused (web.server renders parse errors)."""
    return error_response(MalformedRequest(f"Malformed HTTP request: {problem}"), Codes.STANDARD)


def server_error_response(status: int) -> web.Response:
    """The answer to a failure outside the middleware (HTTP 500, or 504 for a timeout)."""
    return json_response(envelope(status=InternalError.status, message="Internal error"), status)


@web.middleware
async def scpi_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request.headers.get(REQUEST_ID) or str(uuid.uuid4())
    correlation_id = request.headers.get(CORRELATION_ID) or request_id
    token = request_ids.set((request_id, correlation_id))
    started = time.perf_counter()
    try:
        codes = codes_of(request.path)
        try:
            response = await handler(request)
        except ScpiError as error:
            response = error_response(error, codes)
        except web.HTTPRequestEntityTooLarge:
            limit = request.app[STATE].settings.max_body_bytes
            response = error_response(
                BodyTooLarge(f"Request body is larger than the limit of {limit} bytes"), codes
            )
        except web.HTTPNotFound:
            response = error_response(ResourceNotFound(f"No endpoint at {request.path}"), codes)
        except web.HTTPMethodNotAllowed as error:
            allowed = ", ".join(sorted(error.allowed_methods))
            response = error_response(
                MethodNotAllowed(f"{request.method} is not allowed here; allowed: {allowed}"),
                codes,
            )
        except web.HTTPException as error:
            response = json_response(
                envelope(status=ScpiStatus.CLIENT_ERROR, message=error.reason), error.status
            )
        except Exception:
            log.exception("unexpected error")
            response = error_response(
                InternalError(
                    f"Internal error; the node's log has it under X-Request-ID {request_id}"
                ),
                codes,
            )
        response.headers.setdefault(REQUEST_ID, request_id)
        response.headers.setdefault(CORRELATION_ID, correlation_id)
        routing = request.get(ROUTING) or Routing.read(request.headers)
        sender, receiver = routing.sender, routing.receiver
        if sender is not None and receiver is not None:
            # The node's own answers to routed requests carry the routing headers swapped, too.
            for name, value in routing_pair(receiver, sender).items():
                response.headers.setdefault(name, value)
        fields: dict[str, object] = {
            "method": request.method,
            "path": request.path,
            "status": response.status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        }
        if SCPI_STATUS in response:
            fields["scpi_status"] = response[SCPI_STATUS]
        if sender is not None:
            fields["sender"] = str(sender)
        if receiver is not None:
            fields["receiver"] = str(receiver)
        log.info("%s %s %s", request.method, request.path, response.status, extra=fields)
        return response
    finally:
        request_ids.reset(token)
