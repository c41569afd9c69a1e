"""AddressGuard: the node calls public addresses only, unless a local network allows private ones.

A party chooses the URLs the node calls (versions, endpoints, response_url). Without this
guard a party on a public node could make the node call its own loopback, the cloud's
metadata address or the operator's private network (server-side request forgery).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from time import monotonic

from scn_node.scpi.errors import InvalidParameters

VERDICT_SECONDS = 60.0  # how long a host's private/public verdict is trusted
VERDICT_ENTRIES = 4096  # hosts remembered at most

Lookup = Callable[[str, int | None], Awaitable[list[str]]]
_IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


async def resolve(host: str, port: int | None) -> list[str]:
    """The addresses a name resolves to, as the event loop resolves them for a connection."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class AddressGuard:
    """Refuses hosts that are, or resolve to, addresses that are not public; remembers the
    verdict per host for `seconds`, so the forward path does not resolve every time."""

    def __init__(
        self,
        *,
        lookup: Lookup = resolve,
        clock: Callable[[], float] = monotonic,
        seconds: float = VERDICT_SECONDS,
        entries: int = VERDICT_ENTRIES,
    ) -> None:
        self.lookup = lookup
        self.clock = clock
        self.seconds = seconds
        self.entries = entries
        self.verdicts: dict[str, tuple[float, bool]] = {}  # host -> (expiry, is private)

    async def refuse(self, host: str, port: int | None) -> None:
        """Raises InvalidParameters if `host` (a name or an address literal) is not public."""
        if await self._is_private(host, port):
            raise InvalidParameters(
                f"The node does not call private addresses ({host.strip('[]')}); "
                "set SCN_ALLOW_PRIVATE_URLS=true on a local network"
            )

    async def _is_private(self, host: str, port: int | None) -> bool:
        try:
            return not_public(ipaddress.ip_address(host.strip("[]")))
        except ValueError:
            pass  # a name, not an address literal
        now = self.clock()
        verdict = self.verdicts.get(host)
        if verdict is not None:
            if verdict[0] > now:
                return verdict[1]
            del self.verdicts[host]
        try:
            addresses = await self.lookup(host, port)
        except (OSError, UnicodeError):
            return False  # unresolvable: the request fails with ConnectionProblem anyway
        private = any(not_public(_address(address)) for address in addresses)
        if len(self.verdicts) >= self.entries:
            self.verdicts.pop(next(iter(self.verdicts)))  # the oldest entry
        self.verdicts[host] = (now + self.seconds, private)
        return private


def _address(text: str) -> _IpAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def not_public(address: _IpAddress | None) -> bool:
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
