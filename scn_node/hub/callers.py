"""Who is calling: the platform a presented credentials token belongs to, and which kind it is."""

from __future__ import annotations

from scn_node.hub.model import Caller, TokenKind
from scn_node.hub.ports import Credentials
from scn_node.scpi.authorization import presented_tokens
from scn_node.scpi.errors import Unauthorized


async def identify(
    credentials: Credentials, authorization: str | None, *kinds: TokenKind
) -> Caller:
    """The caller behind an `Authorization` header, if its token is one of `kinds`;
    Unauthorized otherwise (a TOKEN_A says what it is for)."""
    for token in presented_tokens(authorization):
        found = await credentials.authenticate(token.value)
        if found is None:
            continue
        platform, kind = found
        if kind not in kinds:
            if kind is TokenKind.A:
                raise Unauthorized("CREDENTIALS_TOKEN_A is only valid for versions and credentials")
            break
        return Caller(platform, kind, token.form, token.value)
    raise Unauthorized("Unknown credentials token")
