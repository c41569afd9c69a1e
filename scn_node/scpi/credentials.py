"""The Credentials object (OCPI 2.2 credentials module) and the node's own credentials."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from scn_node.scpi.envelope import decode
from scn_node.scpi.errors import InvalidParameters
from scn_node.scpi.party import InvalidPartyId, PartyId, Role

NODE_PARTY = PartyId("DE", "SCN")
NODE_NAME = "Smart Charging Network Node"


class Image(BaseModel):
    model_config = ConfigDict(extra="allow")
    url: str
    category: str
    type: str


class BusinessDetails(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1, max_length=100)
    website: str | None = None
    logo: Image | None = None


class CredentialsRole(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Role
    business_details: BusinessDetails
    party_id: str
    country_code: str

    @model_validator(mode="after")
    def _valid_party(self) -> CredentialsRole:
        try:
            party = PartyId.parse(self.country_code, self.party_id)
        except InvalidPartyId as error:
            raise ValueError(str(error)) from None
        self.country_code, self.party_id = party.country_code, party.party_id
        return self

    @property
    def party(self) -> PartyId:
        return PartyId(self.country_code, self.party_id)


class Credentials(BaseModel):
    model_config = ConfigDict(extra="allow")
    token: str = Field(min_length=1, max_length=64)
    url: str = Field(min_length=1, max_length=255)
    roles: list[CredentialsRole] = Field(min_length=1)

    @field_validator("token")
    @classmethod
    def _printable(cls, token: str) -> str:
        if not all("\x21" <= c <= "\x7e" for c in token):
            raise ValueError("must be printable ASCII without spaces")
        return token

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return url

    @model_validator(mode="after")
    def _unique_roles(self) -> Credentials:
        keys = [(r.role, r.country_code, r.party_id) for r in self.roles]
        if len(set(keys)) != len(keys):
            raise ValueError("each role, country_code and party_id may appear only once")
        return self


def parse_credentials(body: bytes) -> Credentials:
    data = decode(body)
    try:
        return Credentials.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()
        )
        raise InvalidParameters(f"Invalid credentials: {problems}") from None


def node_credentials(token: str, versions_url: str) -> dict[str, Any]:
    """The node's own Credentials: it reports itself only as a HUB (OCPI 2.2 credentials)."""
    return {
        "token": token,
        "url": versions_url,
        "roles": [
            {
                "role": Role.HUB.value,
                "business_details": {"name": NODE_NAME},
                "party_id": NODE_PARTY.party_id,
                "country_code": NODE_PARTY.country_code,
            }
        ],
    }


class _TokenRole(BaseModel):
    model_config = ConfigDict(extra="forbid")
    country_code: str
    party_id: str
    role: Role | None = None


def parse_token_roles(body: bytes) -> list[tuple[PartyId, Role | None]] | None:
    """The admin API's optional list of roles a TOKEN_A may register (None: no restriction)."""
    if not body.strip():
        return None
    data = decode(body)
    if not isinstance(data, list):
        raise InvalidParameters('The body must be a list of {"country_code", "party_id", "role"}')
    roles: list[tuple[PartyId, Role | None]] = []
    for item in data:
        try:
            entry = _TokenRole.model_validate(item)
            roles.append((PartyId.parse(entry.country_code, entry.party_id), entry.role))
        except (ValidationError, InvalidPartyId) as error:
            raise InvalidParameters(f"Invalid role {item!r}: {error}") from None
    return roles or None
