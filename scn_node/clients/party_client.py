"""HttpPartyTransport: the hub's PartyTransport over one shared, pooled httpx.AsyncClient.

Whatever goes wrong on the way out becomes an SCPI error (ReceiverTimeout, ConnectionProblem,
HubError or InvalidParameters); no httpx exception reaches the hub. Timeout and connection
messages are predicates ("could not be reached (ConnectError)") that the hub puts after the
name of the hop. They name the kind of failure only: never the URL's query or a header value.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from time import monotonic

import httpx

from scn_node.hub.ports import OutboundRequest, PartyResponse
from scn_node.scpi.errors import ConnectionProblem, HubError, InvalidParameters, ReceiverTimeout

DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
VERDICT_SECONDS = 60.0  # how long a host's private/public verdict is trusted
VERDICT_ENTRIES = 4096  # hosts remembered at most

_IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def new_client(*, timeout: float, connect_timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        follow_redirects=False,  # a redirect could carry TOKEN_B to a URL the party never gave us
        trust_env=False,
        headers={"Accept-Encoding": "identity"},  # bodies are relayed as they are, unpacked
    )


class HttpPartyTransport:
    """Sends one request to a party and reads its whole answer, within bounds.

    * `deadline`: seconds the whole exchange (resolving, connecting, sending and reading
      the answer) may take; httpx's own timeouts only bound each single read. None: no bound.
    * `max_response_bytes`: the most (decoded) body bytes read from a receiver.
    * `allow_private`: False refuses URLs whose host is, or resolves to, an address that is
      not public (loopback, private, link-local, ...), before connecting.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        allow_private: bool = True,
    ) -> None:
        self.client = client
        self.deadline = deadline
        self.max_response_bytes = max_response_bytes
        self.allow_private = allow_private
        self.guard = AddressGuard()

    async def send(self, request: OutboundRequest) -> PartyResponse:
        try:
            async with asyncio.timeout(self.deadline):
                url = httpx.URL(request.url)
                if not 0 <= (url.port or 0) <= 0xFFFF:  # anyio would raise OverflowError
                    raise httpx.InvalidURL("port out of range")
                if not self.allow_private:
                    await self._refuse_private(url)
                return await self._exchange(request, url)
        except TimeoutError:
            raise ReceiverTimeout("did not answer in time") from None
        except httpx.ConnectTimeout:
            raise ConnectionProblem("could not be reached (connect timeout)") from None
        except httpx.TimeoutException:
            raise ReceiverTimeout("did not answer in time") from None
        except (httpx.TransportError, httpx.InvalidURL) as error:
            raise ConnectionProblem(f"could not be reached ({type(error).__name__})") from None
        except httpx.HTTPError as error:  # DecodingError, TooManyRedirects, ...
            raise ConnectionProblem(
                f"answered, but the answer could not be read ({type(error).__name__})"
            ) from None
        except UnicodeEncodeError:  # httpx sends header names and values as ASCII only
            raise ConnectionProblem(
                "could not be sent the request (a header is not ASCII)"
            ) from None

    async def _exchange(self, request: OutboundRequest, url: httpx.URL) -> PartyResponse:
        async with self.client.stream(
            request.method, url, headers=dict(request.headers), content=request.body or None
        ) as response:
            body = await self._read(response)
        return PartyResponse(
            response.status_code,
            {name.lower(): value for name, value in response.headers.items()},
            body,
        )

    async def _read(self, response: httpx.Response) -> bytes:
        """The decoded body, or HubError as soon as it exceeds max_response_bytes."""
        limit = self.max_response_bytes
        if response.is_stream_consumed:  # built from bytes (a mock transport): already decoded
            if len(response.content) > limit:
                raise self._too_large()
            return response.content
        declared = response.headers.get("content-length", "")
        if (
            declared.isdigit()
            and int(declared) > limit
            and "content-encoding" not in response.headers
            and _has_body(response)
        ):
            raise self._too_large()
        # The node asks for identity encoding; a party that compresses anyway is decoded by
        # httpx one received chunk at a time, and the cap applies to the decoded bytes.
        chunks = response.aiter_bytes()
        parts: list[bytes] = []
        size = 0
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise self._too_large()
            parts.append(chunk)
        return b"".join(parts)

    def _too_large(self) -> HubError:
        return HubError(f"The receiver's answer is larger than {self.max_response_bytes} bytes")

    async def _refuse_private(self, url: httpx.URL) -> None:
        raw_host = url.raw_host.decode("ascii", "replace")  # IDNA-encoded
        if raw_host:  # httpx refuses a URL without a host
            await self.guard.refuse(raw_host, url.port, shown=url.host)

    @property
    def _verdicts(self) -> dict[str, tuple[float, bool]]:
        return self.guard.verdicts


class AddressGuard:
    """Refuses hosts that are, or resolve to, addresses that are not public; remembers the
    verdict per host for VERDICT_SECONDS, so the forward path does not resolve every time."""

    def __init__(self) -> None:
        self.verdicts: dict[str, tuple[float, bool]] = {}  # host -> (expiry, is private)

    async def refuse(self, host: str, port: int | None, *, shown: str | None = None) -> None:
        if await self._is_private(host, port):
            raise InvalidParameters(
                f"The node does not call private addresses ({shown or host}); "
                "set SCN_ALLOW_PRIVATE_URLS=true on a local network"
            )

    async def _is_private(self, host: str, port: int | None) -> bool:
        try:
            return _not_public(ipaddress.ip_address(host.strip("[]")))
        except ValueError:
            pass  # a name, not an address literal
        now = monotonic()
        verdict = self.verdicts.get(host)
        if verdict is not None:
            if verdict[0] > now:
                return verdict[1]
            del self.verdicts[host]
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError):
            return False  # unresolvable: the request fails with ConnectionProblem anyway
        private = any(_not_public(_address(info[4][0])) for info in infos)
        if len(self.verdicts) >= VERDICT_ENTRIES:
            self.verdicts.pop(next(iter(self.verdicts)))  # the oldest entry
        self.verdicts[host] = (now + VERDICT_SECONDS, private)
        return private


def _has_body(response: httpx.Response) -> bool:
    """Whether Content-Length announces body bytes to come (not so for HEAD, 204 or 304)."""
    return response.request.method != "HEAD" and response.status_code not in (204, 304)


def _address(text: object) -> _IpAddress | None:
    try:
        return ipaddress.ip_address(str(text))
    except ValueError:
        return None


def _not_public(address: _IpAddress | None) -> bool:
    """Loopback, link-local, private, unspecified, multicast, reserved or otherwise not global.

    IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry; an address that
    cannot be parsed counts as not public.
    """
    if address is None:
        return True
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address.is_site_local:
            return True
    return (
        address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_unspecified
        or address.is_multicast
        or address.is_reserved
        or not address.is_global  # e.g. 100.64.0.0/10, the carrier-grade NAT space
    )
