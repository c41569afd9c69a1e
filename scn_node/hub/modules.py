"""What the hub does differently per module: the one table of module-specific behaviour.

Everything not named here is forwarded as it arrives. Custom modules are one row of the table
(`CUSTOM`): any body, no rewrites, no service copies, the body signed as text; they may not use
a standard identifier (that would reach a party's credentials or functional endpoints past the
rules below). Code asks a request's `ModuleSpec`; nothing else tells modules apart.

Open routing's facts are rows here too: per endpoint, the keys that find the receiver of a
request without SCPI-to-* (`receiver_keys`), and what the ownership index learns from the
traffic (`learns`). The tariffs and sessions SENDER interfaces have no single-object GET in
OCPI 2.2.1, so only `GET locations/{id}[/…]` finds its CPO by a GET.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from scn_node.scpi.errors import InvalidParameters
from scn_node.scpi.party import ModuleId, Role
from scn_node.scpi.versions import STANDARD_IDENTIFIERS, InterfaceRole


class Where(StrEnum):
    BODY = "body"
    QUERY = "query"


class Family(StrEnum):
    """Which routes reach a module: /{dialect}/{interface}/2.2/{module} or the custom path."""

    STANDARD = "standard"
    CUSTOM = "custom"


class SignedAs(StrEnum):
    """How a request body enters its Notary signature."""

    JSON = "json"  # the parsed value (text, if it does not parse)
    TEXT = "text"  # the raw text, as OCN signs custom modules' bodies


class KeyKind(StrEnum):
    """What a key in a request is. The first three name their party themselves
    (`scpi.identifiers`); the others are looked up in the ownership index (`RouteKeys`), under
    this name."""

    CONTRACT_ID = "contract_id"  # an eMI3 contract id: the eMSP
    EVSE_ID = "evse_id"  # an EVSE id: the CPO
    CDR_TOKEN = "cdr_token"  # noqa: S105 (a CdrToken: its 2.2.1 cc/pid, else its contract_id)
    TOKEN_UID = "token_uid"  # noqa: S105 (with the token type)
    LOCATION_ID = "location_id"
    SESSION_ID = "session_id"
    RESERVATION_ID = "reservation_id"

    @property
    def names_its_party(self) -> bool:
        return self in (KeyKind.CONTRACT_ID, KeyKind.EVSE_ID, KeyKind.CDR_TOKEN)


PATH = ""
"""`Key.at` for the first segment of the path below the endpoint (`tokens/{uid}/authorize`)."""


@dataclass(frozen=True, slots=True)
class Key:
    """A key in a request: `kind`, read from `at` (a body member, or `PATH`)."""

    kind: KeyKind
    at: str = PATH


@dataclass(frozen=True, slots=True)
class ReceiverKey:
    """How open routing finds the receiver of one endpoint: a request with `method` whose
    path below the endpoint matches `tail` (`*`: one segment) goes to the party holding
    `role` that the first of `keys` to give one names. Keys that name their party come before
    those looked up (one indexed query)."""

    method: str
    tail: str
    role: Role
    keys: tuple[Key, ...]

    def matches(self, method: str, tail: str) -> bool:
        if method != self.method:
            return False
        pattern, segments = self.tail.split("/"), tail.strip("/").split("/")
        return len(pattern) == len(segments) and all(
            p == s or (p == "*" and s != "") for p, s in zip(pattern, segments, strict=True)
        )


class Owner(StrEnum):
    """Who owns a key the hub learns from a request (`Learn`)."""

    URL = "url"  # the party the path names: /{country_code}/{party_id}/{id}
    RECEIVER = "receiver"  # the party that answered it
    OBJECTS = "objects"  # each object of a list answer, by its country_code/party_id


@dataclass(frozen=True, slots=True)
class Learn:
    """What the ownership index learns from one endpoint's requests that succeeded: for
    `methods` (and the path `tail`, if given), the key `kind` (the object id after the owner
    in the URL, a body member `at`, or each listed object's `id`) belongs to `owner`."""

    methods: frozenset[str]
    kind: KeyKind
    owner: Owner
    at: str = PATH
    tail: str | None = None


class GetAll(StrEnum):
    """How a GET of the list with SCPI-to-* = the hub is answered (`hub/get_all.py`)."""

    NONE = "none"  # no list to get: 2001
    SOURCES = "sources"  # every source party asked in turn, its pages relayed
    STORED = "stored"  # from the objects broadcast to the hub, else as SOURCES


@dataclass(frozen=True, slots=True)
class ModuleSpec:
    family: Family = Family.STANDARD
    """The routes the module is served on; a peer message says so too."""
    json_body: bool = True
    """The body must be JSON (it is still forwarded byte for byte)."""
    owner_in_path: bool = False
    """Client Owned Objects: /{country_code}/{party_id}/… names the owner, who must be the sender."""
    response_url: Mapping[str, Where] = field(default_factory=dict)
    """Per method, where the sender's `response_url` for an asynchronous result is."""
    copies: bool = True
    """Services the sender agreed to get a copy of its requests."""
    body_signed_as: SignedAs = SignedAs.JSON
    broadcast: frozenset[str] = frozenset()
    """The methods a sender may push to every receiving party with SCPI-to-* = the hub."""
    get_all: GetAll = GetAll.NONE
    """A GET of the list with SCPI-to-* = the hub: from whom (a SENDER interface only)."""
    receiver_keys: tuple[ReceiverKey, ...] = ()
    """Open routing (no SCPI-to-*): how the hub finds the receiver, per endpoint."""
    learns: tuple[Learn, ...] = ()
    """What the ownership index learns from the requests routed through the hub."""

    def receiver_key(self, method: str, tail: str) -> ReceiverKey | None:
        return next((k for k in self.receiver_keys if k.matches(method, tail)), None)


STANDARD = ModuleSpec()
CUSTOM = ModuleSpec(
    family=Family.CUSTOM, json_body=False, copies=False, body_signed_as=SignedAs.TEXT
)
# Pushes meant for every other party (OCPI 2.2.1 "Broadcast Push": "SHALL only be used with
# information that is meant to be sent to all other parties"); a broadcast tariff is withdrawn
# with DELETE, so tariffs broadcast that too.
_PUSHES = frozenset({"PUT", "PATCH", "POST"})
_WRITES = frozenset({"PUT", "PATCH"})
_FROM_SOURCES = ModuleSpec(get_all=GetAll.SOURCES)
_STORED = ModuleSpec(get_all=GetAll.STORED)

# Open routing: the keys that find a receiver, and what the index learns. A command's `token`
# is the driver's, not the receiver's: commands go to the CPO of the location.
_CONTRACT_IN_PATH = Key(KeyKind.CONTRACT_ID)
_AT_LOCATION = (Key(KeyKind.EVSE_ID, "evse_uid"), Key(KeyKind.LOCATION_ID, "location_id"))
_TO_EMSP_BY_CDR_TOKEN = (Key(KeyKind.CDR_TOKEN, "cdr_token"),)
_SESSION_IN_PATH = (Key(KeyKind.SESSION_ID),)


def _command(name: str, *keys: Key) -> ReceiverKey:
    return ReceiverKey("POST", name, Role.CPO, keys)


SPECS: dict[tuple[str, InterfaceRole], ModuleSpec] = {
    (ModuleId.LOCATIONS, InterfaceRole.RECEIVER): ModuleSpec(
        owner_in_path=True,
        broadcast=_PUSHES,
        learns=(Learn(_WRITES, KeyKind.LOCATION_ID, Owner.URL),),
    ),
    (ModuleId.SESSIONS, InterfaceRole.RECEIVER): ModuleSpec(
        owner_in_path=True,
        receiver_keys=(
            ReceiverKey("PUT", "*/*/*", Role.EMSP, _TO_EMSP_BY_CDR_TOKEN),
            ReceiverKey("PATCH", "*/*/*", Role.EMSP, _TO_EMSP_BY_CDR_TOKEN),
        ),
        learns=(Learn(_WRITES, KeyKind.SESSION_ID, Owner.URL),),
    ),
    (ModuleId.TARIFFS, InterfaceRole.RECEIVER): ModuleSpec(
        owner_in_path=True, broadcast=_PUSHES | {"DELETE"}
    ),
    (ModuleId.TOKENS, InterfaceRole.RECEIVER): ModuleSpec(
        owner_in_path=True,
        broadcast=_PUSHES,
        learns=(Learn(_WRITES, KeyKind.TOKEN_UID, Owner.URL),),
    ),
    (ModuleId.LOCATIONS, InterfaceRole.SENDER): ModuleSpec(
        get_all=GetAll.STORED,
        receiver_keys=tuple(
            ReceiverKey("GET", tail, Role.CPO, (Key(KeyKind.LOCATION_ID),))
            for tail in ("*", "*/*", "*/*/*")
        ),
        learns=(Learn(frozenset({"GET"}), KeyKind.LOCATION_ID, Owner.OBJECTS),),
    ),
    (ModuleId.TARIFFS, InterfaceRole.SENDER): _STORED,
    (ModuleId.TOKENS, InterfaceRole.SENDER): ModuleSpec(
        get_all=GetAll.STORED,
        receiver_keys=(
            ReceiverKey(
                "POST", "*/authorize", Role.EMSP, (_CONTRACT_IN_PATH, Key(KeyKind.TOKEN_UID))
            ),
        ),
    ),
    (ModuleId.CDRS, InterfaceRole.SENDER): _FROM_SOURCES,
    (ModuleId.CDRS, InterfaceRole.RECEIVER): ModuleSpec(
        receiver_keys=(ReceiverKey("POST", "", Role.EMSP, _TO_EMSP_BY_CDR_TOKEN),),
    ),
    (ModuleId.SESSIONS, InterfaceRole.SENDER): ModuleSpec(
        get_all=GetAll.SOURCES,
        receiver_keys=(ReceiverKey("PUT", "*/charging_preferences", Role.CPO, _SESSION_IN_PATH),),
    ),
    (ModuleId.COMMANDS, InterfaceRole.RECEIVER): ModuleSpec(
        response_url={"POST": Where.BODY},
        receiver_keys=(
            _command("START_SESSION", *_AT_LOCATION),
            _command("RESERVE_NOW", *_AT_LOCATION),
            _command("UNLOCK_CONNECTOR", *_AT_LOCATION),
            _command("STOP_SESSION", Key(KeyKind.SESSION_ID, "session_id")),
            _command("CANCEL_RESERVATION", Key(KeyKind.RESERVATION_ID, "reservation_id")),
        ),
        learns=(
            Learn(
                frozenset({"POST"}),
                KeyKind.RESERVATION_ID,
                Owner.RECEIVER,
                "reservation_id",
                tail="RESERVE_NOW",
            ),
        ),
    ),
    (ModuleId.CHARGING_PROFILES, InterfaceRole.RECEIVER): ModuleSpec(
        response_url={"GET": Where.QUERY, "PUT": Where.BODY, "DELETE": Where.QUERY},
        receiver_keys=tuple(
            ReceiverKey(method, "*", Role.CPO, _SESSION_IN_PATH)
            for method in ("GET", "PUT", "DELETE")
        ),
    ),
}


# Who is on the other side of a module from a party in `role` (OCPI 2.2.1: OTHER "is seen as an
# eMSP type of role"): the receivers of its broadcasts, the sources of its GET All. Senders in
# other roles (NAP, SCSP, HUB) are not named by the spec: the hub refuses their broadcasts and
# GET All until someone needs them.
COUNTERPARTS: dict[Role, frozenset[Role]] = {
    Role.CPO: frozenset({Role.EMSP, Role.NSP, Role.OTHER}),
    Role.EMSP: frozenset({Role.CPO}),
    Role.NSP: frozenset({Role.CPO}),
    Role.OTHER: frozenset({Role.CPO}),
}


def spec_for(module: str, interface: InterfaceRole, family: Family = Family.STANDARD) -> ModuleSpec:
    if family is Family.CUSTOM:
        if module.lower() in STANDARD_IDENTIFIERS:
            raise InvalidParameters(
                f"{module} is a standard module: use /scpi/{interface.path}/2.2/{module}, "
                "not the custom module path"
            )
        return CUSTOM
    return SPECS.get((module, interface), STANDARD)
