"""The one place errors become SCPI envelopes, and where each request is logged."""

from __future__ import annotations

import logging
import time
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

from scn_node.hub.ports import Wallet
from scn_node.log import request_ids
from scn_node.scpi.envelope import encode, envelope
from scn_node.scpi.errors import (
    BodyTooLarge,
    InternalError,
    MalformedRequest,
    MethodNotAllowed,
    ResourceNotFound,
    ScpiError,
)
from scn_node.scpi.headers import (
    CORRELATION_ID,
    FROM_COUNTRY_CODE,
    FROM_PARTY_ID,
    OCN_PARTY_SIGNATURE,
    PARTY_SIGNATURE,
    REQUEST_ID,
    TO_COUNTRY_CODE,
    TO_PARTY_ID,
    read_party,
    routing_pair,
)
from scn_node.scpi.notary import RESPONSE_FIELD, response_values, sign_with
from scn_node.scpi.party import PartyId
from scn_node.scpi.status import ScpiStatus
from scn_node.web.state import ROUTED, STATE, WANTS_SIGNED

log = logging.getLogger("scn_node.requests")
# The status_code of the node's own envelopes, for the request log (relayed ones are not read).
SCPI_STATUS = web.ResponseKey("scpi_status", int)


def error_response(error: ScpiError, signer: Wallet | None = None) -> web.Response:
    """The error's envelope; with `signer`, signed by the node (scn_signature), as a party that
    checks signatures expects of every answer to a routed request."""
    body = envelope(status=error.status, message=error.message)
    if signer is not None:
        notary = sign_with(response_values(envelope=body), signer.sign, signer.address)
        body[RESPONSE_FIELD] = notary.encode()
    return json_response(body, error.http_status)


def json_response(body: dict[str, object], status: int = 200) -> web.Response:
    response = web.Response(status=status, body=encode(body), content_type="application/json")
    code = body.get("status_code")
    if isinstance(code, int):
        response[SCPI_STATUS] = code
    return response


def malformed_request_response(problem: str) -> web.Response:
    """The answer to a request aiohttp's parser refused (web.server renders parse errors)."""
    return error_response(MalformedRequest(f"Malformed HTTP request: {problem}"))


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
        try:
            response = await handler(request)
        except ScpiError as error:
            response = error_response(error, _signer(request))
        except web.HTTPRequestEntityTooLarge:
            limit = request.app[STATE].settings.max_body_bytes
            response = error_response(
                BodyTooLarge(f"Request body is larger than the limit of {limit} bytes")
            )
        except web.HTTPNotFound:
            response = error_response(ResourceNotFound(f"No endpoint at {request.path}"))
        except web.HTTPMethodNotAllowed as error:
            allowed = ", ".join(sorted(error.allowed_methods))
            response = error_response(
                MethodNotAllowed(f"{request.method} is not allowed here; allowed: {allowed}")
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
                )
            )
        response.headers.setdefault(REQUEST_ID, request_id)
        response.headers.setdefault(CORRELATION_ID, correlation_id)
        sender, receiver = _routing(request)
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


def _signer(request: web.Request) -> Wallet | None:
    """The node signs its error answer to a routed request when signatures are in play: the
    node requires them, the request was signed, or the sender's rules ask for signed answers.
    Otherwise it spares every error answer some 500 characters."""
    if not request.get(ROUTED, False):
        return None
    state = request.app[STATE]
    signed = bool(request.headers.get(PARTY_SIGNATURE) or request.headers.get(OCN_PARTY_SIGNATURE))
    if state.settings.signatures or signed or request.get(WANTS_SIGNED, False):
        return state.wallet
    return None


def _routing(request: web.Request) -> tuple[PartyId | None, PartyId | None]:
    """The request's sender and receiver, where its routing headers name them validly."""
    try:
        sender = read_party(request.headers, FROM_COUNTRY_CODE, FROM_PARTY_ID)
    except ScpiError:
        sender = None
    try:
        receiver = read_party(request.headers, TO_COUNTRY_CODE, TO_PARTY_ID)
    except ScpiError:
        receiver = None
    return sender, receiver
