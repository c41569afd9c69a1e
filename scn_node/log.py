"""Logging: one JSON object per line, carrying the request's X-Request-ID and X-Correlation-ID.

Nothing here logs headers or bodies, so tokens and keys never reach the log.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

request_ids: ContextVar[tuple[str | None, str | None]] = ContextVar(
    "request_ids", default=(None, None)
)
QUIET_LOGGERS = (
    "aiosqlite",
    "sqlalchemy",
    "asyncpg",
    "web3",
    "aiohttp.access",
)
# Fields callers may attach with `extra=`; anything else on a record stays out of the log.
_FIELDS = ("method", "path", "status", "scpi_status", "sender", "receiver", "duration_ms")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id, correlation_id = request_ids.get()
        if request_id:
            entry["request_id"] = request_id
        if correlation_id:
            entry["correlation_id"] = correlation_id
        for name in _FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """One line for people: what the JSON line says, in words, after the message."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        details = []
        scpi_status = getattr(record, "scpi_status", None)
        if scpi_status is not None:
            details.append(f"SCPI {scpi_status}")
        sender, receiver = getattr(record, "sender", None), getattr(record, "receiver", None)
        if sender or receiver:
            details.append(f"{sender or '?'} -> {receiver or '?'}")
        duration = getattr(record, "duration_ms", None)
        if duration is not None:
            details.append(f"{duration} ms")
        request_id, correlation_id = request_ids.get()
        if request_id:
            details.append(f"[request {request_id}, correlation {correlation_id}]")
        line = super().formatMessage(record)
        return " ".join([line, *details]) if details else line


def configure(level: str, form: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if form == "json"
        else TextFormatter("%(asctime)s %(levelname)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Their debug output carries headers and SQL parameters, i.e. tokens: never below WARNING.
    for chatty in QUIET_LOGGERS:
        logging.getLogger(chatty).setLevel(logging.WARNING)
