"""A broadcast push applied to the objects the hub keeps: which object it names, and what that
object becomes (`apply`). Pure: the store reads and writes, `hub/stored.py` wires the two.

Client Owned Objects (OCPI 2.2.1 "PUT / PATCH", Locations, Tariffs, Tokens):

* PUT replaces the object, or the EVSE / Connector inside a kept Location (by `uid` / `id`),
  adding it when absent;
* PATCH merges top-level fields (a list is replaced whole) into the object or the element;
* a changed EVSE or Connector moves its parents' `last_updated` to its own: the sender's value,
  never the hub's clock ("the `last_updated` fields SHALL NOT be updated by the Hub");
* tariff DELETE deletes; an EVSE `REMOVED` or a token `valid: false` stays, as pushed (a GET
  All answer is a full sync: what it leaves out, the requester deletes).

A whole-object PUT is kept as the exact bytes received; only a PATCH or an element's PUT makes
the node write the object anew (compact JSON).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from scn_node.hub.message import ScpiRequest
from scn_node.hub.rules import PartyRules
from scn_node.scpi.errors import InvalidParameters
from scn_node.scpi.pagination import parse_datetime
from scn_node.scpi.party import InvalidPartyId, ModuleId, PartyId, Role

DEFAULT_TYPE = "RFID"  # OCPI 2.2.1 Tokens: `type` "Default if omitted: RFID"
# The element lists below a Location, and the key of an element in each.
_ELEMENTS = (("evses", "uid"), ("connectors", "id"))


class Unusable(ValueError):
    """A push the store cannot apply (the broadcast itself went out all the same): why."""


@dataclass(frozen=True, slots=True)
class ObjectKey:
    module: str
    owner: PartyId
    object_id: str
    token_type: str = ""  # tokens are unique by uid and type; "" for the other modules

    def __str__(self) -> str:
        kind = f" ({self.token_type})" if self.token_type else ""
        return f"{self.module} {self.owner}/{self.object_id}{kind}"


@dataclass(frozen=True, slots=True)
class HubObject:
    key: ObjectKey
    last_updated: datetime
    body: bytes  # the object as JSON: the bytes a GET All answer carries


@dataclass(frozen=True, slots=True)
class ObjectOwner:
    """A party whose broadcast objects are kept: its roles and its own rules, as of its last
    push, which decide who may GET them."""

    party: PartyId
    roles: frozenset[Role]
    rules: PartyRules


@dataclass(frozen=True, slots=True)
class Push:
    """One broadcast push: `method` to the object `key`, or to the element `path` inside it
    (an EVSE uid, then a Connector id)."""

    method: str
    key: ObjectKey
    path: tuple[str, ...]
    body: bytes

    @classmethod
    def of(cls, request: ScpiRequest) -> Push:
        """The push a broadcast request makes: `/{cc}/{pid}/{object_id}[/{evse}[/{connector}]]`,
        and for tokens `?type=` (RFID if omitted)."""
        segments = [unquote(s) for s in request.tail.split("/") if s]
        depth = 5 if request.module == ModuleId.LOCATIONS else 3
        if not 3 <= len(segments) <= depth:
            raise Unusable(f"{request.module} has no object at {request.tail or '/'}")
        try:
            owner = PartyId.parse(segments[0], segments[1])
        except InvalidPartyId as error:
            raise Unusable(str(error)) from None
        token_type = ""
        if request.module == ModuleId.TOKENS:
            query = dict(parse_qsl(request.query, keep_blank_values=True))
            token_type = query.get("type") or DEFAULT_TYPE
        key = ObjectKey(request.module, owner, segments[2], token_type)
        return cls(request.method.upper(), key, tuple(segments[3:]), request.body)


@dataclass(frozen=True, slots=True)
class Deleted:
    key: ObjectKey


def apply(push: Push, kept: HubObject | None) -> HubObject | Deleted:
    """What the kept object (None: none is kept) becomes; Unusable when nothing can be applied."""
    if push.method == "DELETE":
        if push.key.module != ModuleId.TARIFFS or push.path:
            raise Unusable(f"DELETE is not a push of {push.key.module} objects kept by the hub")
        return Deleted(push.key)
    if push.method not in ("PUT", "PATCH"):
        raise Unusable(f"{push.method} does not change a kept object")
    change = _json_object(push.body)
    last_updated = _last_updated(change, push.method)
    if push.method == "PUT" and not push.path:
        _not_older(kept, last_updated)
        return HubObject(push.key, last_updated, push.body)
    if kept is None:
        raise Unusable(f"{push.key} is not kept: no object to apply a {push.method} to")
    _not_older(kept, last_updated)
    whole = _json_object(kept.body)
    if push.path:
        _change_element(whole, push.path, change, replace=push.method == "PUT")
        whole["last_updated"] = change["last_updated"]
    else:
        whole.update(change)  # top-level fields; a list in the PATCH replaces the kept one
    body = json.dumps(whole, separators=(",", ":"), ensure_ascii=False).encode()
    return HubObject(push.key, last_updated, body)


def _change_element(
    parent: dict[str, Any],
    path: tuple[str, ...],
    change: dict[str, Any],
    *,
    replace: bool,
    level: int = 0,
) -> None:
    """Put or patch the element `path` names below `parent` (an EVSE, then a Connector),
    moving the `last_updated` of each parent in between to the change's."""
    field, key = _ELEMENTS[level]
    elements = parent.get(field)
    last = len(path) == 1
    if elements is None and replace and last:
        elements = parent[field] = []
    if not isinstance(elements, list):
        raise Unusable(f"The kept object has no {field} list")
    index = next(
        (i for i, e in enumerate(elements) if isinstance(e, dict) and e.get(key) == path[0]), None
    )
    if index is None and not (replace and last):
        raise Unusable(f"The kept object has no {path[0]} in its {field}")
    if not last:
        assert index is not None
        child = elements[index]
        _change_element(child, path[1:], change, replace=replace, level=level + 1)
        child["last_updated"] = change["last_updated"]
    elif index is None:
        elements.append(change)
    else:
        elements[index] = change if replace else {**elements[index], **change}


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body.decode())  # UTF-8 only: the store keeps it as text
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise Unusable("The body is not valid JSON") from None
    if not isinstance(value, dict):
        raise Unusable("The body is not a JSON object")
    return value


def _last_updated(change: dict[str, Any], method: str) -> datetime:
    value = change.get("last_updated")
    if not isinstance(value, str):
        raise Unusable(f"The {method} has no last_updated")
    try:
        return parse_datetime(value, "last_updated")
    except InvalidParameters as error:
        raise Unusable(error.message) from None


def _not_older(kept: HubObject | None, last_updated: datetime) -> None:
    """Copies of a push may come late (another node's, a retry): the later change wins."""
    if kept is not None and last_updated < kept.last_updated:
        raise Unusable(f"{kept.key} is kept as of a later last_updated")
