"""Logging: one JSON object per line, carrying the request's X-Request-ID and X-Correlation-ID.

Nothing here logs headers or bodies, so tokens and keys never reach the log.

The request log is on by default (INFO, a line per request), so writing it must not cost the
event loop: records are queued (`QueueHandler`) with the request's ids taken at once, and a
thread (`QueueListener`) formats and writes them. The queue is drained at exit.
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
from contextvars import ContextVar
from datetime import UTC, datetime
from logging.handlers import QueueHandler, QueueListener

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
        request_id, correlation_id = _ids_of(record)
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
        request_id, correlation_id = _ids_of(record)
        if request_id:
            details.append(f"[request {request_id}, correlation {correlation_id}]")
        line = super().formatMessage(record)
        return " ".join([line, *details]) if details else line


def _ids_of(record: logging.LogRecord) -> tuple[str | None, str | None]:
    """The ids the record was made under (taken when it was queued), else the current ones."""
    ids = getattr(record, "request_ids", None)
    return ids if isinstance(ids, tuple) else request_ids.get()


class _Queued(QueueHandler):
    """Queues the record itself for the writing thread (no pickling: one process), with the
    ids of the request it was made under: the thread cannot see the request's context."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.request_ids = request_ids.get()
        return record


_listener: QueueListener | None = None


def configure(level: str, form: str) -> None:
    global _listener
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if form == "json"
        else TextFormatter("%(asctime)s %(levelname)s %(message)s")
    )
    if _listener is not None:
        _listener.stop()
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    _listener = QueueListener(lines, handler)
    _listener.start()
    root = logging.getLogger()
    root.handlers[:] = [_Queued(lines)]
    root.setLevel(level)
    # Their debug output carries headers and SQL parameters, i.e. tokens: never below WARNING.
    for chatty in QUIET_LOGGERS:
        logging.getLogger(chatty).setLevel(logging.WARNING)


@atexit.register
def drain() -> None:
    """Write every queued line and stop the writing thread (at exit: nothing is lost)."""
    global _listener
    if _listener is not None:
        _listener.stop()
        _listener = None
