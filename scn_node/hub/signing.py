"""When the node checks parties' Notary signatures, and how it re-signs what it rewrites.

A request's signature is checked when the node requires signatures (`SCN_SIGNATURES`), when the
request carries one, or when the receiver's rules ask for them. The signer must be the sending
party's registry address or its node's operator (nodes re-sign what they rewrite). A response's
signature is checked when it carries one or the sender requires signatures; its signer must be
the receiving party or its node's operator.

Where the node rewrites a signed value (a `response_url`, the to-headers of a service copy, a
`Link` or `Location` header), it keeps the original in the signature's rewrites and signs the new
values, so the receiver can verify the whole chain back to the party. The to-headers the hub
adds to an open request had no original: the rewrite keeps them as None, which `Notary.verify`
skips (`opened`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl

from scn_node.hub.message import ScpiRequest
from scn_node.hub.modules import ModuleSpec, SignedAs
from scn_node.hub.ports import Registry, Wallet
from scn_node.hub.rewrites import replace_member
from scn_node.scpi.envelope import read_envelope
from scn_node.scpi.errors import (
    InvalidParameters,
    InvalidResponseSignature,
    InvalidSignature,
    MissingSignature,
)
from scn_node.scpi.headers import PARTY_SIGNATURE
from scn_node.scpi.notary import (
    RESPONSE_FIELD,
    Notary,
    NotaryError,
    request_values,
    response_values,
    sign_with,
)
from scn_node.scpi.party import PartyId

OCN_RESPONSE_FIELD = "ocn_signature"
# The JSON paths of the values a node rewrites, as the signature's `rewrites` name them.
FROM_COUNTRY_CODE_PATH = "$['headers']['scpi-from-country-code']"
FROM_PARTY_ID_PATH = "$['headers']['scpi-from-party-id']"
TO_COUNTRY_CODE_PATH = "$['headers']['scpi-to-country-code']"
TO_PARTY_ID_PATH = "$['headers']['scpi-to-party-id']"
LINK_PATH = "$['headers']['link']"
LOCATION_PATH = "$['headers']['location']"
X_TOTAL_COUNT_PATH = "$['headers']['x-total-count']"
X_LIMIT_PATH = "$['headers']['x-limit']"


def body_path(member: str) -> str:
    return f"$['body']['{member}']"


def params_path(name: str) -> str:
    return f"$['params']['{name}']"


@dataclass(frozen=True, slots=True)
class SignaturePolicy:
    """Who asks for signatures on one exchange: the node (`SCN_SIGNATURES`), the sender (its
    rules: signed answers) and the receiver (its rules: signed requests; known only when it is
    on this node). A signature that comes is always checked; these say when one must come."""

    node: bool = False
    sender: bool = False
    receiver: bool = False

    @property
    def request_required(self) -> bool:
        return self.node or self.receiver

    @property
    def answer_required(self) -> bool:
        return self.node or self.sender

    def signs_errors(self, request_signed: bool) -> bool:
        """The node signs its own error answers when signatures are in play at all; otherwise
        it spares every error answer some 500 characters."""
        return self.node or self.sender or request_signed

    def with_receiver(self, requires: bool) -> SignaturePolicy:
        return replace(self, receiver=requires)


class Signatures:
    def __init__(self, wallet: Wallet, registry: Registry) -> None:
        self.wallet = wallet
        self.registry = registry

    def sign_envelope(self, envelope: Mapping[str, object]) -> str:
        """The node's scn_signature of an envelope it wrote itself (an error answer)."""
        values = response_values(envelope=envelope)
        return sign_with(values, self.wallet.sign, self.wallet.address).encode()

    # ---------------------------------------------------------------- requests

    async def check_request(
        self, request: ScpiRequest, spec: ModuleSpec, policy: SignaturePolicy
    ) -> Notary | None:
        """The request's verified signature, or None when none is needed and none came."""
        headers = request.headers
        if headers.signature is None:
            if policy.request_required:
                raise MissingSignature(
                    f"{_whose(policy.node, headers.receiver)} signed requests: send "
                    f"{PARTY_SIGNATURE} (see the node's signing guide)"
                )
            return None
        try:
            notary = Notary.decode(headers.signature)
        except NotaryError as error:
            raise InvalidSignature(f"Invalid {PARTY_SIGNATURE}: {error}") from None
        # Who signed first: a signature by anyone else costs no verification work.
        await self._signed_by(notary, headers.sender, InvalidSignature)
        try:
            notary.verify_exactly(values_of_request(request, spec))
        except NotaryError as error:
            raise InvalidSignature(f"Invalid {PARTY_SIGNATURE}: {error}") from None
        return notary

    async def opened(self, request: ScpiRequest, spec: ModuleSpec) -> ScpiRequest:
        """A signed open request, once the hub addressed it: the sender's signature checked
        over the values it signed (no TO headers), and the node's over the values with them,
        keeping the sender's with the TO headers' originals absent (None). `Notary.verify`
        skips absent originals, so the receiver verifies the chain back to the sender."""
        headers = request.headers
        assert headers.signature is not None
        try:
            notary = Notary.decode(headers.signature)
        except NotaryError as error:
            raise InvalidSignature(f"Invalid {PARTY_SIGNATURE}: {error}") from None
        await self._signed_by(notary, headers.sender, InvalidSignature)
        values = values_of_request(request, spec)
        to_headers = {_header_of(TO_COUNTRY_CODE_PATH), _header_of(TO_PARTY_ID_PATH)}
        signed = {name: v for name, v in values["headers"].items() if name not in to_headers}
        try:
            notary.verify_exactly({**values, "headers": signed})
        except NotaryError as error:
            raise InvalidSignature(f"Invalid {PARTY_SIGNATURE}: {error}") from None
        absent = {TO_COUNTRY_CODE_PATH: None, TO_PARTY_ID_PATH: None}
        return self.resign_request(request, spec, notary, absent)

    def resign_request(
        self,
        request: ScpiRequest,
        spec: ModuleSpec,
        notary: Notary,
        rewritten: Mapping[str, object],
    ) -> ScpiRequest:
        """`request` (already rewritten) with a signature over its new values that keeps
        the originals of `rewritten` (JSON path -> original value)."""
        new = notary.resign(
            values_of_request(request, spec), rewritten, self.wallet.sign, self.wallet.address
        )
        return replace(request, headers=replace(request.headers, signature=new.encode()))

    # ---------------------------------------------------------------- responses

    async def check_response(
        self,
        body: bytes,
        headers: Mapping[str, str],
        receiver: PartyId,
        policy: SignaturePolicy,
    ) -> Notary | None:
        """The verified signature of a receiver's answer (`headers` lower-case), or None.
        Only successful answers must be signed: errors may come from a node, not the party."""
        required = policy.answer_required
        if not required and b"_signature" not in body and b"\\u" not in body:
            return None  # the common case, decided without parsing (an escape could hide the key)
        envelope = read_envelope(body)
        signature = None
        if envelope is not None:
            signature = envelope.get(RESPONSE_FIELD) or envelope.get(OCN_RESPONSE_FIELD)
        if not signature:
            if required and not _an_error(envelope):
                raise InvalidResponseSignature(
                    f"Receiver {receiver} answered without the scn_signature this message requires"
                )
            return None
        assert envelope is not None
        try:
            notary = Notary.decode(str(signature))
        except NotaryError as error:
            raise InvalidResponseSignature(
                f"Unable to verify the scn_signature of receiver {receiver}: {error}"
            ) from None
        await self._signed_by(notary, receiver, InvalidResponseSignature)
        try:
            notary.verify_exactly(values_of_response(envelope, headers))
        except NotaryError as error:
            raise InvalidResponseSignature(
                f"Unable to verify the scn_signature of receiver {receiver}: {error}"
            ) from None
        return notary

    def resign_response(
        self,
        body: bytes,
        headers: Mapping[str, str],
        notary: Notary,
        rewritten: Mapping[str, object],
    ) -> bytes:
        """`body` with its scn_signature replaced by the node's over `headers` (the reply's
        new headers, lower-case), keeping the originals of `rewritten`."""
        envelope = read_envelope(body)
        if envelope is None:
            return body
        new = notary.resign(
            values_of_response(envelope, headers), rewritten, self.wallet.sign, self.wallet.address
        )
        member = RESPONSE_FIELD if RESPONSE_FIELD in envelope else OCN_RESPONSE_FIELD
        try:
            signed, _ = replace_member(body, member, new.encode())
        except InvalidParameters:
            return body
        return signed

    async def _signed_by(
        self,
        notary: Notary,
        party: PartyId,
        error: type[InvalidSignature] | type[InvalidResponseSignature],
    ) -> None:
        """The party signed first, and the latest signer is the party or its node: a node
        never speaks for a party that did not sign (it only re-signs what it rewrote)."""
        listed = await self.registry.party(party)
        address = listed.address.lower() if listed else ""
        operator = listed.operator.lower() if listed else ""
        latest, first = notary.signatories()[0].lower(), notary.signatories()[-1].lower()
        if not address or latest not in (address, operator):
            raise error(
                f"The signature is by {notary.signatory}, not by {party}'s registry address "
                f"or its node's operator"
            )
        if first != address:
            raise error(
                f"The first signature is by {notary.signatories()[-1]}, not by {party}'s "
                "registry address: a node may only re-sign what the party signed"
            )


def values_of_request(request: ScpiRequest, spec: ModuleSpec) -> dict[str, Any]:
    params = dict(parse_qsl(request.query, keep_blank_values=True)) if request.query else None
    body: object = None
    if request.body:
        text = request.body.decode("utf-8", errors="replace")
        body = text if spec.body_signed_as is SignedAs.TEXT else _json_or_text(text)
    headers = request.headers
    return request_values(
        correlation_id=headers.correlation_id,
        sender=headers.sender,
        receiver=headers.receiver,
        params=params,
        body=body,
    )


def values_of_response(envelope: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
    unsigned = {k: v for k, v in envelope.items() if k not in (RESPONSE_FIELD, OCN_RESPONSE_FIELD)}
    return response_values(
        limit=headers.get("x-limit"),
        total_count=headers.get("x-total-count"),
        link=headers.get("link"),
        location=headers.get("location"),
        envelope=unsigned,
    )


def _header_of(path: str) -> str:
    """The header name in a path `$['headers']['…']`."""
    return path.removeprefix("$['headers']['").removesuffix("']")


def _an_error(envelope: Mapping[str, Any] | None) -> bool:
    """An answer that reports an error (status_code 2000 or higher) and so may come from a node
    rather than the party; anything else must be signed when signatures are required."""
    if envelope is None:
        return False
    status = envelope.get("status_code")
    return isinstance(status, int) and not isinstance(status, bool) and status >= 2000


def _json_or_text(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _whose(node: bool, receiver: PartyId) -> str:
    return "This node requires" if node else f"Receiver {receiver} requires"
