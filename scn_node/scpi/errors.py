"""Errors that carry their wire meaning: the HTTP status and the SCPI status code.

Every one of them is rendered as an SCPI envelope by `scpi.envelope.error_envelope`; nothing else
decides an error's HTTP status. OCPI lets a hub answer standard modules with OCPI's own codes
only ("Custom status code range values SHALL NOT be used by standard OCPI modules") and no HTTP
error once a request is authenticated and its JSON valid. So each error has two renderings: on
the SCN routes (/scn/*, custom modules, scnrules, the admin API) SCN's own code, and on the
standard routes (versions, credentials, hubclientinfo, the functional modules, proxy URLs) the
standard one; the detail stays in status_message.

* ScpiError                        SCN route   standard route
  + Unauthorized                    401  2000   401  2000  no, unknown or wrong kind of token
  + RegistrationState               405  2000   405  2000  credentials call in the wrong state
  + MalformedRequest                400  2000   400  2000  the HTTP request itself is unparsable
  + MalformedJson                   400  2001   400  2001  the body is not JSON
  + InvalidParameters               200  2001   200  2001  JSON that breaks the rules
  + InvalidHeader                   400  2900   200  2001  a routing or message-id header missing or malformed
  + BodyTooLarge                    413  2901   200  2001  the body is over the configured limit
  + SenderNotAllowed                403  2902   200  2001  SCPI-from-* (or the URL owner) is not the caller
  + NotEnoughInformation            200  2002   200  2002  open routing found several possible receivers
  + SenderBlocked                   200  2000   200  2000  the receiver's SCN rules do not accept this sender
  + MissingSignature                200  2903   200  2002  SCN-Signature required, absent
  + InvalidSignature                200  2904   200  2001  SCN-Signature malformed, altered, wrong signer
  + ResourceNotFound                404  2000   404  2000  no such endpoint or proxied resource
  + MethodNotAllowed                405  2000   405  2000  the endpoint exists but not for this method
  + InternalError                   500  3000   500  3000  a fault in the node itself (logged, never shown)
  + InvalidResponseSignature        200  3000   200  3000  the receiver's scn_signature does not verify
  + UnableToUseClientApi            200  3001   200  3001  the party's versions endpoints failed us
  + UnsupportedVersion              200  3002   200  3002  the party offers neither SCPI 2.2.1 nor 2.2
  + NoMatchingEndpoints             200  3003   200  3003  the party's version details are unusable
  + HubError                        200  4000   200  4000  the node itself cannot serve (e.g. registry down)
  + UnknownReceiver                 200  4001   200  4001  SCPI-to-* names no party we know
  + ReceiverTimeout                 200  4002   200  4002  the receiver did not answer in time
  + ConnectionProblem               200  4003   200  4003  the receiver is unreachable or not connected
  + ReceiverModuleMissing           200  4900   200  4001  the receiver has no endpoint for that module
  + InvalidNodeSignature            403  4901     (/scn/ only)  a node message not signed by its node
  + ReplayedMessage                 409  4902     (/scn/ only)  a node message seen before, or too old
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from scn_node.scpi.status import ScpiStatus


class Codes(StrEnum):
    """Which status codes a route answers with (see the table above)."""

    STANDARD = "standard"  # OCPI's own codes only, no HTTP error after authentication
    SCN = "scn"  # SCN's own 29xx/49xx codes as well


class ScpiError(Exception):
    http_status: ClassVar[int] = 500
    status: ClassVar[ScpiStatus] = ScpiStatus.SERVER_ERROR
    standard: ClassVar[tuple[int, ScpiStatus] | None] = None
    """The HTTP status and code on a standard route, where they differ from the SCN ones."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def wire(self, codes: Codes) -> tuple[int, ScpiStatus]:
        """The HTTP status and SCPI status code this error is answered with on such a route."""
        if codes is Codes.STANDARD and self.standard is not None:
            return self.standard
        return self.http_status, self.status


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


class NotEnoughInformation(ScpiError):
    http_status = 200
    status = ScpiStatus.NOT_ENOUGH_INFORMATION


class InvalidHeader(ScpiError):
    http_status = 400
    status = ScpiStatus.INVALID_HEADER
    standard = (200, ScpiStatus.INVALID_PARAMETERS)


class BodyTooLarge(ScpiError):
    http_status = 413
    status = ScpiStatus.BODY_TOO_LARGE
    standard = (200, ScpiStatus.INVALID_PARAMETERS)


class SenderNotAllowed(ScpiError):
    http_status = 403
    status = ScpiStatus.SENDER_NOT_ALLOWED
    standard = (200, ScpiStatus.INVALID_PARAMETERS)


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
    standard = (200, ScpiStatus.UNKNOWN_RECEIVER)


class InvalidNodeSignature(ScpiError):
    http_status = 403
    status = ScpiStatus.INVALID_NODE_SIGNATURE
    standard = (403, ScpiStatus.CLIENT_ERROR)  # never on a standard route


class ReplayedMessage(ScpiError):
    http_status = 409
    status = ScpiStatus.REPLAYED_MESSAGE
    standard = (409, ScpiStatus.CLIENT_ERROR)  # never on a standard route


class SenderBlocked(ScpiError):
    http_status = 200
    status = ScpiStatus.CLIENT_ERROR


class MissingSignature(ScpiError):
    http_status = 200
    status = ScpiStatus.MISSING_SIGNATURE
    standard = (200, ScpiStatus.NOT_ENOUGH_INFORMATION)


class InvalidSignature(ScpiError):
    http_status = 200
    status = ScpiStatus.INVALID_SIGNATURE
    standard = (200, ScpiStatus.INVALID_PARAMETERS)


class InvalidResponseSignature(ScpiError):
    http_status = 200
    status = ScpiStatus.SERVER_ERROR
