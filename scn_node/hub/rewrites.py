"""Byte-preserving edits of a request: one JSON member, or one query parameter.

Parties only ever talk to the node, so a `response_url` that points at another party is replaced
by a node URL (where `modules.RULES` says), without re-serialising anything else.
"""

from __future__ import annotations

import json
from urllib.parse import quote, unquote_plus

from scn_node.scpi.errors import InvalidParameters

RESPONSE_URL = "response_url"


def replace_member(body: bytes, key: str, value: str) -> tuple[bytes, str]:
    """Replace the string value of a top-level member; every other byte stays as it was."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidParameters("The body must be UTF-8 JSON") from None
    try:
        spans = _member_spans(text, key)
    except (ValueError, IndexError):
        raise InvalidParameters("The body is not valid JSON") from None
    if not spans or not all(isinstance(s[2], str) for s in spans):
        raise InvalidParameters(f"{key} is required and must be a string")
    original = str(spans[-1][2])  # what a JSON parser reads: the last duplicate wins
    for start, end, _ in reversed(spans):
        text = text[:start] + json.dumps(value) + text[end:]
    return text.encode("utf-8"), original


def _member_spans(text: str, key: str) -> list[tuple[int, int, object]]:
    """Where each top-level `key` member's value starts and ends in `text`."""
    spans: list[tuple[int, int, object]] = []
    decoder = json.JSONDecoder()
    i = _skip_space(text, 0)
    if i >= len(text) or text[i] != "{":
        return spans
    i = _skip_space(text, i + 1)
    while i < len(text) and text[i] != "}":
        name, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
        i = _skip_space(text, i)
        i = _skip_space(text, i + 1)  # the colon
        member, end = decoder.raw_decode(text, i)
        if name == key:
            spans.append((i, end, member))
        i = _skip_space(text, end)
        if text[i] == ",":
            i = _skip_space(text, i + 1)
    return spans


def replace_query_parameter(query: str, name: str, value: str) -> tuple[str, str]:
    """Replace one query parameter's value; the others keep their order and encoding."""
    parts = query.split("&") if query else []
    original: str | None = None
    for index, part in enumerate(parts):
        key, _, raw = part.partition("=")
        if unquote_plus(key) == name:
            original = unquote_plus(raw)
            parts[index] = f"{key}={quote(value, safe='')}"
    if original is None:
        raise InvalidParameters(f"Query parameter {name} is required")
    return "&".join(parts), original


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\n\r":
        i += 1
    return i
