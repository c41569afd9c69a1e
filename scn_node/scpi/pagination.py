"""Pagination parameters and headers (OCPI 2.2 transport_and_format, "Pagination")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from scn_node.scpi.errors import InvalidParameters

# DateTime as the spec allows it: UTC, optional fraction, optional Z.
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?")
_NEXT = re.compile(r"<([^>]*)>\s*;[^,]*\brel\s*=\s*\"?next\"?", re.IGNORECASE)


def parse_datetime(value: str, name: str) -> datetime:
    if not _DATETIME.fullmatch(value):
        raise InvalidParameters(f"{name} must be an SCPI DateTime such as 2020-01-15T09:56:56Z")
    return datetime.fromisoformat(value.rstrip("Z")).replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Page:
    date_from: datetime | None
    date_to: datetime | None
    offset: int
    limit: int

    @classmethod
    def parse(cls, query: Mapping[str, str], *, max_limit: int) -> Page:
        def integer(name: str, default: int) -> int:
            raw = query.get(name)
            if raw is None or raw == "":
                return default
            if not raw.isdigit():
                raise InvalidParameters(f"{name} must be a non-negative integer")
            return int(raw)

        date_from = query.get("date_from")
        date_to = query.get("date_to")
        return cls(
            parse_datetime(date_from, "date_from") if date_from else None,
            parse_datetime(date_to, "date_to") if date_to else None,
            integer("offset", 0),
            max(1, min(integer("limit", max_limit), max_limit)),  # 0 would never end
        )

    def next_query(self, original: Mapping[str, str]) -> str:
        """The query of the next page: the original filters with a moved offset."""
        params = {k: v for k, v in original.items() if k not in ("offset", "limit")}
        params["offset"] = str(self.offset + self.limit)
        params["limit"] = str(self.limit)
        return urlencode(params)


def next_link(link_header: str | None) -> str | None:
    """The target of the `rel="next"` link, if the header has one."""
    if not link_header:
        return None
    match = _NEXT.search(link_header)
    return match.group(1).strip() if match else None


def link_header(url: str) -> str:
    return f'<{url}>; rel="next"'
