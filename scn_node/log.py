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
    "httpx",
    "httpcore",
    "aiosqlite",
    "sqlalchemy",
    "asyncpg",
    "web3",
    "aiohttp.access",
)
# Fields callers may attach with `extra=`; anything else on a record stays out of the log.
_FIELDS = ("method", "path", "status", "duration_ms")


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
    def format(self, record: logging.LogRecord) -> str:
        request_id, _ = request_ids.get()
        line = super().format(record)
        return f"{line} [{request_id}]" if request_id else line


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
