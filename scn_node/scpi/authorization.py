"""The `Authorization: Token …` header, in both of the forms parties use.

OCPI 2.2 sends the credentials token as is; 2.2-d2 and 2.2.1 Base64-encode it. Parties use
both, so the node accepts both and answers each party in the form it uses.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from enum import StrEnum

from scn_node.scpi.errors import Unauthorized


class TokenForm(StrEnum):
    PLAIN = "plain"
    BASE64 = "base64"


@dataclass(frozen=True, slots=True)
class PresentedToken:
    """A token as a party presented it: the value, and the form it was sent in."""

    value: str
    form: TokenForm


def presented_tokens(header: str | None) -> list[PresentedToken]:
    """The readings of an Authorization header, most literal first."""
    if header is None:
        raise Unauthorized("Missing Authorization header (expected 'Token <credentials token>')")
    scheme, _, credential = header.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() != "token" or not credential:
        raise Unauthorized("Authorization header must be 'Token <credentials token>'")
    if not _utf8(credential):
        # aiohttp hands over bytes that are not UTF-8 as surrogates: no token the node issued
        # (or a party chose) looks like that, and the token digest could not encode them.
        raise Unauthorized("Unknown credentials token")
    readings = [PresentedToken(credential, TokenForm.PLAIN)]
    try:
        decoded = base64.b64decode(credential, validate=True).decode("utf-8").strip()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return readings
    if decoded and decoded.isprintable():
        readings.append(PresentedToken(decoded, TokenForm.BASE64))
    return readings


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def authorization(token: str, form: TokenForm) -> str:
    """The header value the node sends to a party that uses `form`."""
    if form is TokenForm.BASE64:
        token = base64.b64encode(token.encode()).decode("ascii")
    return f"Token {token}"
