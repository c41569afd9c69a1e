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


def _printable(token: str) -> str:
    if not all("\x21" <= c <= "\x7e" for c in token):
        raise ValueError("must be printable ASCII without spaces")
    return token


def _http_url(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise ValueError("must be an http(s) URL")
    return url


class Credentials(BaseModel):
    model_config = ConfigDict(extra="allow")
    token: str = Field(min_length=1, max_length=64)
    url: str = Field(min_length=1, max_length=255)
    roles: list[CredentialsRole] = Field(min_length=1)

    _token = field_validator("token")(_printable)
    _url = field_validator("url")(_http_url)

    @model_validator(mode="after")
    def _unique_roles(self) -> Credentials:
        keys = [(r.role, r.country_code, r.party_id) for r in self.roles]
        if len(set(keys)) != len(keys):
            raise ValueError("each role, country_code and party_id may appear only once")
        return self


def parse_credentials(body: bytes) -> Credentials:
    return credentials_from(decode(body))


def credentials_from(data: object) -> Credentials:
    """A Credentials object from decoded JSON; InvalidParameters naming what is wrong."""
    try:
        return Credentials.model_validate(data)
    except ValidationError as error:
        raise InvalidParameters(f"Invalid credentials: {_problems(error)}") from None


def _problems(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()
    )


class ConnectRequest(BaseModel):
    """The admin API's node-initiated handshake: a party's versions URL and the TOKEN_A it
    issued for this node."""

    model_config = ConfigDict(extra="forbid")
    versions_url: str = Field(min_length=1, max_length=255)
    token: str = Field(min_length=1, max_length=64)

    _token = field_validator("token")(_printable)
    _url = field_validator("versions_url")(_http_url)


def parse_connect(body: bytes) -> ConnectRequest:
    data = decode(body)
    try:
        return ConnectRequest.model_validate(data)
    except ValidationError as error:
        raise InvalidParameters(f"Invalid connect request: {_problems(error)}") from None


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
