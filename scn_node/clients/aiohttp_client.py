"""AiohttpTransport: the hub's PartyTransport over one shared aiohttp ClientSession.

The node's only HTTP client. Measured against httpx on the same party server (2 cores),
aiohttp spends about 130 µs of CPU per request against httpx's 800 µs, which decides the
node's throughput (bench/network.py).

Whatever goes wrong on the way out becomes an SCPI error (ReceiverTimeout, ConnectionProblem,
HubError or InvalidParameters); no aiohttp exception reaches the hub. Timeout and connection
messages are predicates ("could not be reached (ClientConnectorError)") that the hub puts
after the name of the hop. They name the kind of failure only: never the URL's query or a
header value.
"""

from __future__ import annotations

import asyncio

import aiohttp
from yarl import URL

from scn_node.clients.guard import AddressGuard
from scn_node.clients.limits import DEFAULT_MAX_RESPONSE_BYTES, read_capped
from scn_node.hub.ports import OutboundRequest, PartyResponse
from scn_node.scpi.errors import ConnectionProblem, ReceiverTimeout


def new_session(*, timeout: float, connect_timeout: float) -> aiohttp.ClientSession:
    """One pooled session for every party and peer (create it inside the running loop)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200, ttl_dns_cache=60),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout, sock_read=timeout),
        headers={"Accept-Encoding": "identity"},  # bodies are relayed as they are, unpacked
        trust_env=False,
        raise_for_status=False,
    )


class AiohttpTransport:
    """Sends one request to a party or a peer node and reads its whole answer, within bounds.

    * `deadline`: seconds the whole exchange (resolving, connecting, sending and reading
      the answer) may take; the session's timeouts only bound each single step. None: no bound.
    * `max_response_bytes`: the most (decoded) body bytes read from a receiver.
    * `allow_private`: False refuses URLs whose host is, or resolves to, an address that is
      not public (loopback, private, link-local, ...), before connecting.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        allow_private: bool = True,
        guard: AddressGuard | None = None,
    ) -> None:
        self.session = session
        self.deadline = deadline
        self.max_response_bytes = max_response_bytes
        self.allow_private = allow_private
        self.guard = guard or AddressGuard()

    async def send(self, request: OutboundRequest) -> PartyResponse:
        try:
            async with asyncio.timeout(self.deadline):
                url = URL(request.url, encoded=True)  # the path and query go out byte for byte
                if url.host is None or url.scheme not in ("http", "https"):
                    raise ConnectionProblem("could not be reached (InvalidURL)")
                if not self.allow_private:
                    await self.guard.refuse(url.raw_host or url.host, url.port)
                return await self._exchange(request, url)
        except TimeoutError:  # the deadline, and the session's connect and read timeouts
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
            body = await read_capped(response, self.max_response_bytes)
            return PartyResponse(
                response.status,
                {name.lower(): value for name, value in response.headers.items()},
                body,
            )
