"""Errors that carry their wire meaning: the HTTP status and the SCPI status code.

`scpi.envelope.error_envelope` renders every one of them as an SCPI envelope; nothing else
decides an error's HTTP status.

* ScpiError                        HTTP  SCPI
  + Unauthorized                    401  2000  no, unknown or wrong kind of token
  + RegistrationState               405  2000  credentials call in the wrong registration state
  + MalformedJson                   400  2001  the body is not JSON
  + InvalidParameters               200  2001  JSON that breaks the rules (fields, values, path)
  + InvalidHeader                   400  2900  a routing or message-id header missing or malformed
  + BodyTooLarge                    413  2901  the body is over the configured limit
  + SenderNotAllowed                403  2902  SCPI-from-* (or an owner in the URL) is not the caller
  + SenderBlocked                   200  2000  the receiver's SCN rules do not accept this sender
  + MissingSignature                200  2903  SCN-Signature required (node or receiver rule), absent
  + InvalidSignature                200  2904  SCN-Signature malformed, altered or by the wrong signer
  + ResourceNotFound                404  2000  no such endpoint or proxied resource
  + MethodNotAllowed                405  2000  the endpoint exists but not for this method
  + InternalError                   500  3000  a fault in the node itself (logged, never shown)
  + InvalidResponseSignature        200  3000  the receiver's scn_signature does not verify
  + UnableToUseClientApi            200  3001  the party's versions endpoints failed us
  + UnsupportedVersion              200  3002  the party offers no SCPI 2.2
  + NoMatchingEndpoints             200  3003  the party's version details are unusable
  + UnknownReceiver                 200  4001  SCPI-to-* names no party we know
  + ReceiverTimeout                 200  4002  the receiver did not answer in time
  + ConnectionProblem               200  4003  the receiver is unreachable or not connected
  + HubError                        200  4000  the node itself cannot serve (e.g. registry down)
  + ReceiverModuleMissing           200  4900  the receiver has no endpoint for that module
  + InvalidNodeSignature            403  4901  a node message not signed by the sender's node
  + ReplayedMessage                 409  4902  a node message seen before, or too old
"""

from __future__ import annotations

from typing import ClassVar

from scn_node.scpi.status import ScpiStatus


class ScpiError(Exception):
    http_status: ClassVar[int] = 500
    status: ClassVar[ScpiStatus] = ScpiStatus.SERVER_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthorized(ScpiError):
    http_status = 401
    status = ScpiStatus.CLIENT_ERROR


class RegistrationState(ScpiError):
    http_status = 405
    status = ScpiStatus.CLIENT_ERROR


class MalformedRequest(ScpiError):
    """The HTTP request itself could not be parsed (request line, headers, their sizes)."""

    http_status = 400
    status = ScpiStatus.CLIENT_ERROR


class MalformedJson(ScpiError):
    http_status = 400
    status = ScpiStatus.INVALID_PARAMETERS


class InvalidParameters(ScpiError):
    http_status = 200
    status = ScpiStatus.INVALID_PARAMETERS


class InvalidHeader(ScpiError):
    http_status = 400
    status = ScpiStatus.INVALID_HEADER


class BodyTooLarge(ScpiError):
    http_status = 413
    status = ScpiStatus.BODY_TOO_LARGE


class SenderNotAllowed(ScpiError):
    http_status = 403
    status = ScpiStatus.SENDER_NOT_ALLOWED


class ResourceNotFound(ScpiError):
    http_status = 404
    status = ScpiStatus.CLIENT_ERROR


class MethodNotAllowed(ScpiError):
    http_status = 405
    status = ScpiStatus.CLIENT_ERROR


class InternalError(ScpiError):
    http_status = 500
    status = ScpiStatus.SERVER_ERROR


class UnableToUseClientApi(ScpiError):
    http_status = 200
    status = ScpiStatus.UNABLE_TO_USE_CLIENT_API


class UnsupportedVersion(ScpiError):
    http_status = 200
    status = ScpiStatus.UNSUPPORTED_VERSION


class NoMatchingEndpoints(ScpiError):
    http_status = 200
    status = ScpiStatus.NO_MATCHING_ENDPOINTS


class UnknownReceiver(ScpiError):
    http_status = 200
    status = ScpiStatus.UNKNOWN_RECEIVER


class ReceiverTimeout(ScpiError):
    http_status = 200
    status = ScpiStatus.RECEIVER_TIMEOUT


class ConnectionProblem(ScpiError):
    http_status = 200
    status = ScpiStatus.CONNECTION_PROBLEM


class HubError(ScpiError):
    http_status = 200
    status = ScpiStatus.HUB_ERROR


class ReceiverModuleMissing(ScpiError):
    http_status = 200
    status = ScpiStatus.RECEIVER_MODULE_MISSING


class InvalidNodeSignature(ScpiError):
    http_status = 403
    status = ScpiStatus.INVALID_NODE_SIGNATURE


class ReplayedMessage(ScpiError):
    http_status = 409
    status = ScpiStatus.REPLAYED_MESSAGE


class SenderBlocked(ScpiError):
    http_status = 200
    status = ScpiStatus.CLIENT_ERROR


class MissingSignature(ScpiError):
    http_status = 200
    status = ScpiStatus.MISSING_SIGNATURE


class InvalidSignature(ScpiError):
    http_status = 200
    status = ScpiStatus.INVALID_SIGNATURE


class InvalidResponseSignature(ScpiError):
    http_status = 200
    status = ScpiStatus.SERVER_ERROR
