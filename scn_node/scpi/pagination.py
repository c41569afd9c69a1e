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
_LINK = re.compile(r"<([^>]*)>([^<]*)")
_REL = re.compile(r";\s*rel\s*=\s*(?:\"([^\"]*)\"|([^\s;,]+))", re.IGNORECASE)
_MAX_OFFSET = 10**9


def parse_datetime(value: str, name: str) -> datetime:
    problem = f"{name} must be an SCPI DateTime such as 2020-01-15T09:56:56Z"
    if not _DATETIME.fullmatch(value):
        raise InvalidParameters(problem)
    try:
        return datetime.fromisoformat(value.rstrip("Z")).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidParameters(problem) from None


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
            if not re.fullmatch(r"[0-9]{1,10}", raw) or int(raw) > _MAX_OFFSET:
                raise InvalidParameters(f"{name} must be an integer from 0 to {_MAX_OFFSET}")
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
    for target, params in _LINK.findall(link_header or ""):
        for quoted, bare in _REL.findall(params):
            if "next" in (quoted or bare).lower().split():
                return str(target).strip()
    return None


def link_header(url: str) -> str:
    return f'<{url}>; rel="next"'
