"""Party message signatures: the Notary of OCN, under SCN names (`ocn-node.md` §5.2-5.4, App. B).

A party signs the values of a message: the routing headers, the query parameters and the body
of a request (header `SCN-Signature`), or the pagination/Location headers and the envelope of a
response (field `scn_signature`). The signature records each value's JSON path (`fields`), the
keccak of the concatenated values (`hash`), an EIP-191 signature of that hash string (`rsv`) and
the signer (`signatory`). A node that must change a signed value (a `response_url`, the
to-headers, `Link`, `Location`) stashes the previous signature with the original values as a
`Rewrite` and signs again, so a receiver can check every signer in the chain.

The wire format is byte-compatible with OCN: base64(brotli quality 4(compact JSON)). Only the
header names differ (`scpi-*` instead of `ocpi-*`), which change the field paths, not the hash.

Usable by backoffices as is: pure, no I/O, depends on eth-account, eth-hash and brotli only.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Final, TypeVar

import brotli
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_hash.auto import keccak

from scn_node.scpi.headers import PARTY_SIGNATURE
from scn_node.scpi.party import PartyId

SIGNATURE_HEADER: Final = PARTY_SIGNATURE
RESPONSE_FIELD: Final = "scn_signature"
MAX_DECODED_BYTES: Final = 1_000_000  # a signature's JSON; anything bigger is a brotli bomb

MODIFIED: Final = "Request has been modified"
WRONG_SIGNATORY: Final = "Signatories do not match"

Signer = Callable[[bytes], str]
"""Returns the EIP-191 (personal_sign) signature of the given bytes as hex: r | s | v (27/28)."""

Segment = str | int
_MISSING: Final = object()
_T = TypeVar("_T")


MAX_REWRITES = 16  # a message crosses two nodes; each rewrites at most a few values


class NotaryError(ValueError):
    """A signature that is malformed, or does not match the values or its signatory."""


@dataclass(frozen=True, slots=True)
class Rewrite:
    """A previous signature, kept when a node changed `rewritten_fields` (path -> original value)."""

    rewritten_fields: Mapping[str, object]
    hash: str
    rsv: str
    signatory: str


@dataclass(frozen=True, slots=True)
class Notary:
    """One signature and the chain of signatures it replaced (oldest rewrite first)."""

    fields: tuple[str, ...]
    hash: str
    rsv: str
    signatory: str
    rewrites: tuple[Rewrite, ...] = field(default=())

    def encode(self) -> str:
        """The header or envelope value: base64(brotli(compact JSON)), exactly as OCN writes it."""
        document = {
            "fields": list(self.fields),
            "hash": self.hash,
            "rsv": self.rsv,
            "signatory": self.signatory,
            "rewrites": [
                {
                    "rewrittenFields": dict(rewrite.rewritten_fields),
                    "hash": rewrite.hash,
                    "rsv": rewrite.rsv,
                    "signatory": rewrite.signatory,
                }
                for rewrite in self.rewrites
            ],
        }
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)  # as Jackson
        return base64.b64encode(brotli.compress(text.encode(), quality=4)).decode("ascii")

    @classmethod
    def decode(cls, text: str) -> Notary:
        try:
            compressed = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise NotaryError("Signature is not base64") from None
        raw = _decompress(compressed)
        try:
            document = json.loads(raw)
        except (ValueError, RecursionError):  # also UnicodeDecodeError, and absurd nesting
            raise NotaryError("Signature is not JSON") from None
        if not isinstance(document, dict):
            raise NotaryError("Signature is not a JSON object")
        rewrites = _get(document, "rewrites", list)
        # Each rewrite costs a signature recovery: a chain longer than any route needs is refused
        # before any is checked (a few hundred bytes of brotli could otherwise hold thousands).
        if len(rewrites) > MAX_REWRITES:
            raise NotaryError(f"More than {MAX_REWRITES} rewrites")
        notary = cls(
            fields=tuple(_string(path, "fields") for path in _get(document, "fields", list)),
            hash=_get(document, "hash", str),
            rsv=_get(document, "rsv", str),
            signatory=_get(document, "signatory", str),
            rewrites=tuple(_rewrite(item) for item in rewrites),
        )
        for path in notary.fields:
            _parse_path(path)
        return notary

    def verify(self, values: Mapping[str, object]) -> None:
        """Check this signature, then each rewrite back to the original signer; NotaryError if not.

        Who may have signed is the caller's policy: see `signatories()`.
        """
        paths = [_parse_path(path) for path in self.fields]
        # The JVM Notary reads a missing value as the text "null"; kept for compatibility.
        message = "".join(
            "null" if (value := _read(values, path)) is None else _java_string(value)
            for path in paths
        )
        _check(message, self.hash, self.rsv, self.signatory, where="")
        # One copy, rolled back rewrite by rewrite: each step starts from the one before it.
        previous: object = copy.deepcopy(values) if self.rewrites else values
        for number, rewrite in reversed(list(enumerate(self.rewrites, start=1))):
            for path, original in rewrite.rewritten_fields.items():
                _write(previous, _parse_path(path), original)
            # Rewrites are checked over the latest signer's fields; here missing values are skipped.
            message = "".join(
                _java_string(value)
                for path in paths
                if (value := _read(previous, path)) is not None
            )
            where = f"Rewrite {number} by {rewrite.signatory}: "
            _check(message, rewrite.hash, rewrite.rsv, rewrite.signatory, where=where)

    def verify_exactly(self, values: Mapping[str, object]) -> None:
        """`verify`, insisting first that the signature covers exactly the message's values,
        in their order. Use this one: OCN's check (`verify` alone) lets a value the signer left
        out, or one added after signing, through; and as the values are joined without
        separators, it lets the fields be read in another order as another message with the
        same hash."""
        fields = fields_of(values)
        if fields != self.fields:
            unsigned = set(fields).difference(self.fields)
            if unsigned:
                raise NotaryError(f"Not signed: {', '.join(sorted(unsigned)[:5])}")
            raise NotaryError("The signed fields are not the message's values, in their order")
        self.verify(values)

    def signatories(self) -> list[str]:
        """Who signed, latest first: the current signer, then the rewrites newest to oldest."""
        return [self.signatory, *(rewrite.signatory for rewrite in reversed(self.rewrites))]

    def stash(self, rewritten_fields: Mapping[str, object]) -> Notary:
        """A copy that keeps this signature as a Rewrite, before a node signs changed values.

        `rewritten_fields` maps each changed path to its ORIGINAL value.
        """
        for path in rewritten_fields:
            _parse_path(path)
        kept = Rewrite(dict(rewritten_fields), self.hash, self.rsv, self.signatory)
        return replace(self, rewrites=(*self.rewrites, kept))

    def resign(
        self,
        values: Mapping[str, object],
        rewritten_fields: Mapping[str, object],
        signer: Signer,
        signatory: str,
    ) -> Notary:
        """A node's signature of the changed `values`, keeping this one and the originals."""
        return sign_with(values, signer, signatory, self.stash(rewritten_fields).rewrites)


def request_values(
    *,
    correlation_id: str | None,
    sender: PartyId,
    receiver: PartyId,
    params: Mapping[str, object] | None = None,
    body: object = None,
) -> dict[str, object]:
    """What a request's signature covers (`Authorization` and `X-Request-ID` are not signed)."""
    headers = _headers(
        ("x-correlation-id", correlation_id),
        ("scpi-from-country-code", sender.country_code),
        ("scpi-from-party-id", sender.party_id),
        ("scpi-to-country-code", receiver.country_code),
        ("scpi-to-party-id", receiver.party_id),
    )
    return _values(headers, params, body)


def response_values(
    *,
    envelope: Mapping[str, object],
    limit: str | int | None = None,
    total_count: str | int | None = None,
    link: str | None = None,
    location: str | None = None,
) -> dict[str, object]:
    """What a response's signature covers: these headers and the envelope minus scn_signature."""
    headers = _headers(
        ("x-limit", limit), ("x-total-count", total_count), ("link", link), ("location", location)
    )
    body = {key: value for key, value in envelope.items() if key != RESPONSE_FIELD}
    return _values(headers, None, body)


def sign(
    values: Mapping[str, object], private_key: str | bytes, rewrites: Iterable[Rewrite] = ()
) -> Notary:
    """Sign `values` (from request_values/response_values) with an Ethereum private key."""
    account = Account.from_key(private_key)

    def signer(data: bytes) -> str:
        return "0x" + bytes(account.sign_message(encode_defunct(primitive=data)).signature).hex()

    return sign_with(values, signer, account.address, rewrites)


def sign_with(
    values: Mapping[str, object], signer: Signer, signatory: str, rewrites: Iterable[Rewrite] = ()
) -> Notary:
    """Sign with a key held elsewhere (a node wallet, an HSM): `signer` signs the hash string."""
    fields: list[str] = []
    parts: list[str] = []
    _walk("$", values, fields, parts)
    digest = _keccak("".join(parts))
    rsv = signer(digest.encode()).lower().removeprefix("0x")
    return Notary(tuple(fields), digest, "0x" + rsv, signatory, tuple(rewrites))


def fields_of(values: Mapping[str, object]) -> tuple[str, ...]:
    """The paths of every value a complete signature of `values` covers."""
    fields: list[str] = []
    _walk("$", values, fields, [])
    return tuple(fields)


def recover(hash: str, rsv: str) -> str:
    """The checksummed address that signed the hash string; NotaryError if `rsv` is malformed."""
    try:
        signature = bytes.fromhex(rsv.removeprefix("0x"))
        address: str = Account.recover_message(encode_defunct(text=hash), signature=signature)
    except Exception:  # eth-keys raises several types for malformed signatures
        raise NotaryError(f"Malformed rsv {rsv[:140]!r}") from None
    return address


def _java_string(value: object) -> str:
    """A scalar as the JVM Notary prints it (Kotlin toString): true, 42, 2.5, 1.0E-4."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _java_double(value)
    if isinstance(value, str | int):
        return str(value)
    if isinstance(value, dict | list):  # a signed scalar became an object or array
        raise NotaryError(MODIFIED)
    raise TypeError(f"cannot sign a {type(value).__name__}; pass JSON values")


def _java_double(value: float) -> str:
    """Java's Double.toString: plain in [1e-3, 1e7), else d.dddEn; shortest digits (as repr)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    magnitude = abs(value)
    if magnitude == 0.0 or 1e-3 <= magnitude < 1e7:
        return sign + repr(magnitude)  # repr is plain and has a ".0" in this range
    _, digits, exponent = Decimal(repr(magnitude)).as_tuple()
    assert isinstance(exponent, int)  # finite
    scientific = len(digits) + exponent - 1
    text = "".join(map(str, digits)).rstrip("0") or "0"
    return f"{sign}{text[0]}.{text[1:] or '0'}E{scientific}"


def _walk(path: str, value: object, fields: list[str], parts: list[str]) -> None:
    """Collect each non-empty scalar's path and text, depth first, in the values' own order."""
    if value is None or value == "":
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _walk(f"{path}[{index}]", item, fields, parts)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _walk(f"{path}[{_quote(str(key))}]", item, fields, parts)
    else:
        parts.append(_java_string(value))
        fields.append(path)


def _quote(key: str) -> str:
    # OCN does not escape; a quote or backslash in a key would break its paths, not ours.
    return "'" + key.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _parse_path(path: str) -> list[Segment]:
    """`$['body']['data'][0]['id']` -> ['body', 'data', 0, 'id']; the only syntax we emit."""
    if not path.startswith("$"):
        raise NotaryError(f"Malformed field path {path[:200]!r}")
    segments: list[Segment] = []
    position, end = 1, len(path)
    while position < end:
        if path[position] != "[" or position + 1 >= end:
            raise NotaryError(f"Malformed field path {path[:200]!r}")
        if path[position + 1] == "'":
            key: list[str] = []
            position += 2
            while position < end and path[position] != "'":
                if path[position] == "\\" and position + 1 < end:
                    position += 1
                key.append(path[position])
                position += 1
            if path[position + 1 : position + 2] != "]":
                raise NotaryError(f"Malformed field path {path[:200]!r}")
            segments.append("".join(key))
            position += 2
        else:
            close = path.find("]", position)
            index = path[position + 1 : close]
            if close < 0 or not (index.isascii() and index.isdigit()):
                raise NotaryError(f"Malformed field path {path[:200]!r}")
            segments.append(int(index))
            position = close + 1
    return segments


def _read(document: object, path: list[Segment]) -> object:
    """The value at `path`, None if absent.

    OCN lower-cases the whole path before reading, which would break camelCase body keys;
    only header names are case-insensitive, so we lower-case just the header path.
    """
    if path and path[0] == "headers":
        path = [segment.lower() if isinstance(segment, str) else segment for segment in path]
    for segment in path:
        document = _child(document, segment)
        if document is _MISSING:
            return None
    return document


def _write(document: object, path: list[Segment], value: object) -> None:
    """Set an existing value; a path whose parent or leaf is absent is a no-op (as JsonPath)."""
    for segment in path[:-1]:
        document = _child(document, segment)
    if not path or _child(document, path[-1]) is _MISSING:
        return
    if isinstance(document, dict):
        document[path[-1]] = value
    elif isinstance(document, list):
        document[int(path[-1])] = value


def _child(document: object, segment: Segment) -> object:
    if isinstance(segment, int):
        if isinstance(document, list) and segment < len(document):
            return document[segment]
    elif isinstance(document, Mapping) and segment in document:
        return document[segment]
    return _MISSING


def _check(message: str, digest: str, rsv: str, signatory: str, *, where: str) -> None:
    if _keccak(message) != digest.lower():
        raise NotaryError(where + MODIFIED)
    if recover(digest, rsv).lower() != signatory.lower():
        raise NotaryError(where + WRONG_SIGNATORY)


def _keccak(message: str) -> str:
    return "0x" + keccak(message.encode()).hex()


def _decompress(compressed: bytes) -> bytes:
    # brotli >= 1.2 stops growing the output at the limit (give or take a block): no bombs.
    decompressor = brotli.Decompressor()
    try:
        text: bytes = decompressor.process(compressed, output_buffer_limit=MAX_DECODED_BYTES + 1)
    except brotli.error:
        raise NotaryError("Signature is not brotli-compressed") from None
    if len(text) > MAX_DECODED_BYTES or not decompressor.can_accept_more_data():
        raise NotaryError(f"Signature is larger than {MAX_DECODED_BYTES} bytes")
    if not decompressor.is_finished():
        raise NotaryError("Signature is truncated")
    return text


def _headers(*pairs: tuple[str, object]) -> dict[str, object]:
    return {name: value for name, value in pairs if value is not None}


def _values(headers: dict[str, object], params: object, body: object) -> dict[str, object]:
    values: dict[str, object] = {"headers": headers}
    if params is not None:
        values["params"] = dict(params) if isinstance(params, Mapping) else params
    if body is not None:
        values["body"] = body
    return values


def _get(document: Mapping[str, object], key: str, kind: type[_T]) -> _T:
    value = document.get(key)
    if not isinstance(value, kind):
        raise NotaryError(f"Signature needs {key!r} as a {kind.__name__}")
    return value


def _string(value: object, key: str) -> str:
    if not isinstance(value, str):
        raise NotaryError(f"Signature needs {key!r} as strings")
    return value


def _rewrite(item: object) -> Rewrite:
    if not isinstance(item, dict):
        raise NotaryError("Signature needs each rewrite as an object")
    rewritten = _get(item, "rewrittenFields", dict)
    for path in rewritten:
        _parse_path(path)
    return Rewrite(
        rewritten_fields=rewritten,
        hash=_get(item, "hash", str),
        rsv=_get(item, "rsv", str),
        signatory=_get(item, "signatory", str),
    )
