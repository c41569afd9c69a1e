"""Who owns a key open routing can find a receiver by: the values of the ownership index."""

from __future__ import annotations

from dataclasses import dataclass

from scn_node.hub.modules import KeyKind
from scn_node.scpi.party import PartyId


@dataclass(frozen=True, slots=True)
class OwnedKey:
    """`key` (of `kind`; for a token uid, with the token `type`) belongs to `owner`.

    Keys are CiStrings in OCPI: compare them with `normal`."""

    kind: KeyKind
    key: str
    owner: PartyId
    type: str = ""

    @staticmethod
    def normal(key: str) -> str:
        return key.strip().upper()
