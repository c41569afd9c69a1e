"""A party's own rules (the custom configuration module `scnrules`): who may reach it, and
whether it wants signed messages.

A rule list entry names a party and, optionally, modules. An entry without modules means every
module. One list is active at a time:

* whitelist: only listed senders reach the party, for their listed modules (all if none);
* blacklist: listed senders are refused for their listed modules (all if none), others pass;
* block all: the whitelist, active and empty.

OCN's bugs are not repeated: block-all touches only the caller's rules (OCN wiped every party's
lists), and blacklisting one module blocks only that module (OCN blocked them all). Removing the
last whitelist entry leaves an empty, active whitelist: a party that narrowed its senders is
never silently opened to everyone (`PUT whitelist []` opens it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from scn_node.scpi.errors import InvalidParameters, ResourceNotFound, SenderBlocked
from scn_node.scpi.party import InvalidPartyId, ModuleId, PartyId

# Enough for any roaming partner list; the HubClientInfo filter is one SQL condition per entry.
MAX_ENTRIES = 500
MODULE = ModuleId.SCN_RULES


class ListKind(StrEnum):
    WHITELIST = "whitelist"
    BLACKLIST = "blacklist"


@dataclass(frozen=True, slots=True)
class RuleEntry:
    party: PartyId
    modules: frozenset[str] = frozenset()  # empty: every module

    def covers(self, module: str) -> bool:
        return not self.modules or module.lower() in self.modules

    def to_json(self) -> dict[str, object]:
        return {
            "country_code": self.party.country_code,
            "party_id": self.party.party_id,
            "modules": sorted(self.modules),
        }


@dataclass(frozen=True, slots=True)
class PartyRules:
    signatures: bool = False
    active: ListKind | None = None
    entries: tuple[RuleEntry, ...] = ()

    def entry(self, party: PartyId) -> RuleEntry | None:
        return next((e for e in self.entries if e.party == party), None)

    def check(self, sender: PartyId, module: str, receiver: PartyId) -> None:
        """Raise SenderBlocked unless `receiver`, under these rules, accepts `module` requests
        from `sender`."""
        entry = self.entry(sender)
        if self.active is ListKind.WHITELIST and (entry is None or not entry.covers(module)):
            raise SenderBlocked(
                f"Receiver {receiver} does not accept {module} requests from {sender}: "
                "the sender is not on its whitelist for that module"
            )
        if self.active is ListKind.BLACKLIST and entry is not None and entry.covers(module):
            raise SenderBlocked(
                f"Receiver {receiver} does not accept {module} requests from {sender}: "
                "the sender is on its blacklist for that module"
            )

    def sees(self, party: PartyId) -> bool:
        """Whether `party` belongs in this party's HubClientInfo list: it can reach it with at
        least one module."""
        entry = self.entry(party)
        if self.active is ListKind.WHITELIST:
            return entry is not None
        if self.active is ListKind.BLACKLIST:
            return entry is None or bool(entry.modules)
        return True

    def visibility(self) -> tuple[frozenset[PartyId] | None, frozenset[PartyId]]:
        """`sees` as two sets a database query can use: the only parties seen (None: no such
        limit) and the parties never seen."""
        if self.active is ListKind.WHITELIST:
            return frozenset(e.party for e in self.entries), frozenset()
        if self.active is ListKind.BLACKLIST:
            return None, frozenset(e.party for e in self.entries if not e.modules)
        return None, frozenset()

    def to_json(self) -> dict[str, object]:
        def listing(kind: ListKind) -> dict[str, object]:
            active = self.active is kind
            return {
                "active": active,
                "list": [e.to_json() for e in self.entries] if active else [],
            }

        return {
            "signatures": self.signatures,
            "whitelist": listing(ListKind.WHITELIST),
            "blacklist": listing(ListKind.BLACKLIST),
        }

    # ---------------------------------------------------------------- changes a party asks for

    def with_signatures(self, required: bool | None) -> PartyRules:
        """Set signatures on or off; None toggles (OCN's PUT without a body)."""
        return replace(self, signatures=not self.signatures if required is None else required)

    def add(self, kind: ListKind, entry: RuleEntry) -> PartyRules:
        self._not_other(kind)
        entries = self.entries if self.active is kind else ()
        if any(e.party == entry.party for e in entries):
            raise InvalidParameters(f"{entry.party} is already on your {kind}")
        if len(entries) >= MAX_ENTRIES:
            raise InvalidParameters(f"Your {kind} is full: at most {MAX_ENTRIES} parties")
        return replace(self, active=kind, entries=(*entries, entry))

    def replace_list(self, kind: ListKind, entries: tuple[RuleEntry, ...]) -> PartyRules:
        """The whole list; an empty one switches the list off."""
        if not entries:
            return replace(self, active=None, entries=()) if self.active is kind else self
        self._not_other(kind)
        return replace(self, active=kind, entries=entries)

    def remove(self, kind: ListKind, party: PartyId) -> PartyRules:
        if self.active is not kind:
            raise InvalidParameters(f"Your {kind} is not active")
        if self.entry(party) is None:
            raise ResourceNotFound(f"{party} is not on your {kind}")
        return replace(self, entries=tuple(e for e in self.entries if e.party != party))

    def block_all(self) -> PartyRules:
        return replace(self, active=ListKind.WHITELIST, entries=())

    def _not_other(self, kind: ListKind) -> None:
        if self.active is not None and self.active is not kind:
            raise InvalidParameters(
                f"Your {self.active} is active: a whitelist and a blacklist cannot be active "
                f"at the same time (PUT an empty {self.active} first)"
            )


NO_RULES = PartyRules()  # what a party that never set any has: everyone may reach it


def parse_entry(data: object) -> RuleEntry:
    """`{"country_code", "party_id", "modules"?}`; modules are module identifiers."""
    if not isinstance(data, dict):
        raise InvalidParameters(
            'A rule entry is an object: {"country_code", "party_id", "modules"}'
        )
    cc, pid = data.get("country_code"), data.get("party_id")
    if not isinstance(cc, str) or not isinstance(pid, str):
        raise InvalidParameters("A rule entry needs country_code and party_id strings")
    try:
        party = PartyId.parse(cc, pid)
    except InvalidPartyId as error:
        raise InvalidParameters(f"Rule entry: {error}") from None
    modules = data.get("modules", [])
    if modules is None:
        modules = []
    if not isinstance(modules, list) or not all(isinstance(m, str) and m.strip() for m in modules):
        raise InvalidParameters("Rule entry modules must be a list of module identifiers")
    return RuleEntry(party, frozenset(m.strip().lower() for m in modules))


def parse_entries(data: object) -> tuple[RuleEntry, ...]:
    if not isinstance(data, list):
        raise InvalidParameters("A rule list is a JSON array of entries")
    if len(data) > MAX_ENTRIES:
        raise InvalidParameters(f"A rule list holds at most {MAX_ENTRIES} parties")
    entries = tuple(parse_entry(item) for item in data)
    _unique(entries)
    return entries


def parse_signatures(data: object) -> bool | None:
    """The body of PUT signatures: `{"signatures": bool}`, or nothing to toggle."""
    if data is None:
        return None
    value = data.get("signatures") if isinstance(data, dict) else data
    if not isinstance(value, bool):
        raise InvalidParameters('PUT signatures takes {"signatures": true|false} or no body')
    return value


def _unique(entries: Iterable[RuleEntry]) -> None:
    seen: set[PartyId] = set()
    for entry in entries:
        if entry.party in seen:
            raise InvalidParameters(f"{entry.party} is listed twice")
        seen.add(entry.party)
