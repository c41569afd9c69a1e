"""AiohttpPartyTransport: the hub's PartyTransport over one shared aiohttp ClientSession.

The default forwarding client: measured against httpx on the same party server (2 cores),
aiohttp spends about 130 µs of CPU per request against httpx's 800 µs, which decides the
node's throughput (bench/network.py). Same contract as HttpPartyTransport: every failure
becomes an SCPI error whose message names the kind of failure only.
"""

from __future__ import annotations

import asyncio

import aiohttp
from yarl import URL

from scn_node.clients.party_client import DEFAULT_MAX_RESPONSE_BYTES, AddressGuard
from scn_node.hub.ports import OutboundRequest, PartyResponse
from scn_node.scpi.errors import ConnectionProblem, HubError, ReceiverTimeout

_READ_STEP = 64 * 1024


def new_session(*, timeout: float, connect_timeout: float) -> aiohttp.ClientSession:
    """One pooled session for every party and peer (create it inside the running loop)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200, ttl_dns_cache=60),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout, sock_read=timeout),
        headers={"Accept-Encoding": "identity"},  # bodies are relayed as they are, unpacked
        trust_env=False,
        raise_for_status=False,
    )


class AiohttpPartyTransport:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        allow_private: bool = True,
    ) -> None:
        self.session = session
        self.deadline = deadline
        self.max_response_bytes = max_response_bytes
        self.allow_private = allow_private
        self.guard = AddressGuard()

    async def send(self, request: OutboundRequest) -> PartyResponse:
        try:
            async with asyncio.timeout(self.deadline):
                url = URL(request.url, encoded=True)  # the path and query go out byte for byte
                if url.host is None or url.scheme not in ("http", "https"):
                    raise ConnectionProblem("could not be reached (InvalidURL)")
                if not self.allow_private:
                    await self.guard.refuse(url.raw_host or url.host, url.port)
                return await self._exchange(request, url)
        except TimeoutError:
            raise ReceiverTimeout("did not answer in time") from None
        except aiohttp.ClientPayloadError as error:
            raise ConnectionProblem(
                f"answered, but the answer could not be read ({type(error).__name__})"
            ) from None
        except (aiohttp.ClientError, ValueError, OSError) as error:
            # ValueError: yarl/aiohttp refusing a URL or a header value it cannot send.
            raise ConnectionProblem(f"could not be reached ({type(error).__name__})") from None

    async def _exchange(self, request: OutboundRequest, url: URL) -> PartyResponse:
        async with self.session.request(
            request.method,
            url,
            headers=dict(request.headers),
            data=request.body or None,
            allow_redirects=False,  # a redirect could carry TOKEN_B somewhere the party never said
        ) as response:
            declared = response.content_length
            if (
                declared is not None
                and declared > self.max_response_bytes
                and "Content-Encoding" not in response.headers
            ):
                raise self._too_large()
            parts: list[bytes] = []
            size = 0
            async for chunk in response.content.iter_chunked(_READ_STEP):
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise self._too_large()
                parts.append(chunk)
            return PartyResponse(
                response.status,
                {name.lower(): value for name, value in response.headers.items()},
                b"".join(parts),
            )

    def _too_large(self) -> HubError:
        return HubError(f"The receiver's answer is larger than {self.max_response_bytes} bytes")
