"""Message ids and routing headers (OCPI 2.2 transport_and_format, "Message Routing").

SCPI renames OCPI's `OCPI-from-*`/`OCPI-to-*` headers to `SCPI-*`. The node accepts both
families on the way in and sends both on the way out, so OCPI backoffices work unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from scn_node.scpi.errors import InvalidHeader
from scn_node.scpi.party import InvalidPartyId, PartyId

REQUEST_ID = "X-Request-ID"
# One header name, two meanings: on a routed request it is the party's Notary signature; on a
# node-to-node message (and its answer) it is the sending node's EIP-191 signature.
PARTY_SIGNATURE = "SCN-Signature"
OCN_PARTY_SIGNATURE = "OCN-Signature"
NODE_SIGNATURE = "SCN-Signature"
CORRELATION_ID = "X-Correlation-ID"
FAMILIES = ("SCPI", "OCPI")
FROM_COUNTRY_CODE = "from-country-code"
FROM_PARTY_ID = "from-party-id"
TO_COUNTRY_CODE = "to-country-code"
TO_PARTY_ID = "to-party-id"
# The answer headers that mean something to the sender (lower-case): relayed, covered by a
# response's scn_signature and by a node's answer signature. Link and Location are rewritten.
ANSWER_HEADERS = ("link", "location", "x-total-count", "x-limit")
# How the node spells them (and Content-Type, relayed as is) on the answers it relays.
ANSWER_HEADER_NAMES = {
    name: "-".join(word.capitalize() for word in name.split("-"))
    for name in ("content-type", *ANSWER_HEADERS)
}
_ID = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, as message ids travel in headers


def routing_header(family: str, name: str) -> str:
    return f"{family}-{name}"


def read_routing(headers: Mapping[str, str], name: str) -> str | None:
    """The value of a routing header in either family (`headers` must be case-insensitive)."""
    values = {
        value.strip().upper()  # CiString: case does not make a difference
        for family in FAMILIES
        if (value := headers.get(routing_header(family, name))) is not None
    }
    if len(values) > 1:
        raise InvalidHeader(f"SCPI-{name} and OCPI-{name} disagree")
    return values.pop() if values else None


def read_party(headers: Mapping[str, str], country_name: str, party_name: str) -> PartyId | None:
    country_code = read_routing(headers, country_name)
    party_id = read_routing(headers, party_name)
    if country_code is None and party_id is None:
        return None
    if country_code is None or party_id is None:
        missing = country_name if country_code is None else party_name
        raise InvalidHeader(f"Missing header SCPI-{missing} (routing headers come in pairs)")
    try:
        return PartyId.parse(country_code, party_id)
    except InvalidPartyId as error:
        raise InvalidHeader(f"Invalid routing header: {error}") from None


def read_message_id(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None or not value.strip():
        raise InvalidHeader(f"Missing header {name}")
    value = value.strip()
    if not _ID.fullmatch(value):
        raise InvalidHeader(f"Invalid header {name}: printable ASCII up to 255 characters")
    return value


@dataclass(frozen=True, slots=True)
class RoutingHeaders:
    """The headers of a routed (functional module) request."""

    request_id: str
    correlation_id: str
    sender: PartyId
    receiver: PartyId
    signature: str | None = None  # the sender's SCN-Signature, when it signed

    @classmethod
    def parse(cls, headers: Mapping[str, str]) -> RoutingHeaders:
        request_id = read_message_id(headers, REQUEST_ID)
        correlation_id = read_message_id(headers, CORRELATION_ID)
        sender = read_party(headers, FROM_COUNTRY_CODE, FROM_PARTY_ID)
        if sender is None:
            raise InvalidHeader("Missing header SCPI-from-country-code and SCPI-from-party-id")
        receiver = read_party(headers, TO_COUNTRY_CODE, TO_PARTY_ID)
        if receiver is None:
            raise InvalidHeader("Missing header SCPI-to-country-code and SCPI-to-party-id")
        signature = headers.get(PARTY_SIGNATURE) or headers.get(OCN_PARTY_SIGNATURE)
        return cls(request_id, correlation_id, sender, receiver, signature or None)


@dataclass(frozen=True, slots=True)
class Unaddressed:
    """A routed request's headers with no SCPI-to-* pair at all: open routing finds the
    receiver (`to`), or the hub refuses it."""

    request_id: str
    correlation_id: str
    sender: PartyId
    signature: str | None = None

    def to(self, receiver: PartyId) -> RoutingHeaders:
        return RoutingHeaders(
            self.request_id, self.correlation_id, self.sender, receiver, self.signature
        )


@dataclass(frozen=True, slots=True)
class Routing:
    """A request's routing headers, read once: what the handler, the hub and the request log
    all use. `sender`/`receiver` are whatever valid pair each names (for the log and the
    swapped headers of any answer); `headers` is the full set a routed request needs, or None
    with `problem` saying why not."""

    sender: PartyId | None
    receiver: PartyId | None
    signed: bool  # the request carries a party signature (even if nothing else is valid)
    headers: RoutingHeaders | None
    problem: InvalidHeader | None = None
    unaddressed: Unaddressed | None = None
    """Set when every header is valid but SCPI-to-* is absent, both halves."""

    @classmethod
    def read(cls, headers: Mapping[str, str]) -> Routing:
        signed = bool(headers.get(PARTY_SIGNATURE) or headers.get(OCN_PARTY_SIGNATURE))
        try:
            parsed = RoutingHeaders.parse(headers)
        except InvalidHeader as error:
            sender, receiver = _party_or_none(headers, FROM), _party_or_none(headers, TO)
            return cls(sender, receiver, signed, None, error, _unaddressed(headers, sender))
        return cls(parsed.sender, parsed.receiver, signed, parsed)

    def require(self) -> RoutingHeaders:
        """The routing headers; InvalidHeader when they are missing or malformed."""
        if self.headers is None:
            assert self.problem is not None
            raise self.problem
        return self.headers

    def require_any(self) -> RoutingHeaders | Unaddressed:
        """The routing headers, or those of a request with no SCPI-to-* at all."""
        return self.unaddressed or self.require()


FROM = (FROM_COUNTRY_CODE, FROM_PARTY_ID)
TO = (TO_COUNTRY_CODE, TO_PARTY_ID)


def _party_or_none(headers: Mapping[str, str], names: tuple[str, str]) -> PartyId | None:
    try:
        return read_party(headers, *names)
    except InvalidHeader:
        return None


def _unaddressed(headers: Mapping[str, str], sender: PartyId | None) -> Unaddressed | None:
    """The headers of a request that left out SCPI-to-* (both halves, in both families) and
    got every other one right; None otherwise."""
    if sender is None:
        return None
    try:
        if any(read_routing(headers, name) is not None for name in TO):
            return None
        request_id = read_message_id(headers, REQUEST_ID)
        correlation_id = read_message_id(headers, CORRELATION_ID)
    except InvalidHeader:
        return None
    signature = headers.get(PARTY_SIGNATURE) or headers.get(OCN_PARTY_SIGNATURE)
    return Unaddressed(request_id, correlation_id, sender, signature or None)


def routing_pair(sender: PartyId, receiver: PartyId) -> dict[str, str]:
    """Both header families for a message from `sender` to `receiver`."""
    headers: dict[str, str] = {}
    for family in FAMILIES:
        headers[routing_header(family, FROM_COUNTRY_CODE)] = sender.country_code
        headers[routing_header(family, FROM_PARTY_ID)] = sender.party_id
        headers[routing_header(family, TO_COUNTRY_CODE)] = receiver.country_code
        headers[routing_header(family, TO_PARTY_ID)] = receiver.party_id
    return headers
