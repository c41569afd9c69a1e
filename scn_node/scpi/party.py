"""Party identity and roles (SCPI 2.2 / OCPI 2.2 §2.4 CredentialsRole)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_COUNTRY_CODE = re.compile(r"[A-Z]{2}")
_PARTY_ID = re.compile(r"[A-Z0-9]{3}")


class Role(StrEnum):
    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


class ModuleId(StrEnum):
    CDRS = "cdrs"
    CHARGING_PROFILES = "chargingprofiles"
    COMMANDS = "commands"
    CREDENTIALS = "credentials"
    HUB_CLIENT_INFO = "hubclientinfo"
    LOCATIONS = "locations"
    SCN_RULES = "scnrules"  # the node's own configuration module: a party's rules
    SESSIONS = "sessions"
    TARIFFS = "tariffs"
    TOKENS = "tokens"


class InvalidPartyId(ValueError):
    """A country code or party id that SCPI does not allow."""


@dataclass(frozen=True, slots=True)
class PartyId:
    """A party's SCPI identity: ISO 3166 alpha-2 country code and a 3-character party id."""

    country_code: str
    party_id: str

    @classmethod
    def parse(cls, country_code: str, party_id: str) -> PartyId:
        """Validate and upper-case, as parties and the registry compare them case-insensitively."""
        cc, pid = country_code.strip().upper(), party_id.strip().upper()
        if not _COUNTRY_CODE.fullmatch(cc):
            raise InvalidPartyId(f"country code {country_code!r} must be two letters")
        if not _PARTY_ID.fullmatch(pid):
            raise InvalidPartyId(f"party id {party_id!r} must be three letters or digits")
        return cls(cc, pid)

    def __str__(self) -> str:
        return f"{self.country_code} {self.party_id}"
