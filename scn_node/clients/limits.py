"""How much of a receiver's answer the node reads: at most `max_response_bytes`, decoded.

A receiver that answers without end, or with a small gzip body that unpacks to gigabytes,
must not fill the node's memory: reading stops as soon as the cap is passed.
"""

from __future__ import annotations

import aiohttp

from scn_node.scpi.errors import HubError

DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_READ_STEP = 64 * 1024


def _too_large(limit: int) -> HubError:
    return HubError(f"The receiver's answer is larger than {limit} bytes")


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole decoded body, or HubError as soon as it passes `limit` bytes."""
    declared = response.content_length
    # A declared length counts only for bytes still to come: not when they are compressed
    # (they unpack to more), nor for an answer that has no body (HEAD, 204, 304).
    if (
        declared is not None
        and declared > limit
        and "Content-Encoding" not in response.headers
        and _has_body(response)
    ):
        raise _too_large(limit)
    parts: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_READ_STEP):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        parts.append(chunk)
    return b"".join(parts)


def _has_body(response: aiohttp.ClientResponse) -> bool:
    return response.method != "HEAD" and response.status not in (204, 304)
