"""The SCPI response envelope (OCPI 2.2 transport_and_format, "Response format")."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from scn_node.scpi.errors import Codes, MalformedJson, ScpiError
from scn_node.scpi.status import ScpiStatus


def timestamp(moment: datetime | None = None) -> str:
    """UTC with millisecond precision and a Z, the form the spec's examples use."""
    moment = moment or datetime.now(UTC)
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def envelope(
    data: Any = None,
    status: ScpiStatus = ScpiStatus.SUCCESS,
    message: str | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"status_code": int(status)}
    if message is not None:
        body["status_message"] = message
    if data is not None:
        body["data"] = data
    body["timestamp"] = timestamp(now)
    return body


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def decode(body: bytes) -> Any:
    """Parse a JSON body from a party; anything that is not JSON is MalformedJson."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        detail = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise MalformedJson(f"Request body is not valid JSON: {detail}") from None


def read_envelope(body: bytes) -> dict[str, Any] | None:
    """A party's answer as an envelope (a JSON object), or None when it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def error_envelope(
    error: ScpiError, codes: Codes, sign: Callable[[dict[str, Any]], str] | None = None
) -> tuple[int, ScpiStatus, bytes]:
    """The one rendering of an error: the HTTP status, the status code and the envelope for a
    route that answers with `codes`; with `sign` (a node's Notary signer of the envelope's
    response values), carrying the node's scn_signature, as a party that checks signatures
    expects of every answer to a routed request."""
    http_status, status = error.wire(codes)
    body = envelope(status=status, message=error.message)
    if sign is not None:
        body["scn_signature"] = sign(body)
    return http_status, status, encode(body)
