"""Open routing: a request with no SCPI-to-* goes to the party the hub finds for it.

Which key finds the receiver of an endpoint is a row of the module table
(`ModuleSpec.receiver_keys`), tried in order: first identifiers that name their party (an
eMI3 contract id, a 2.2.1 CdrToken's country_code/party_id, an EVSE id), then the ownership
index (`RouteKeys`: token uid -> eMSP, location, session or reservation id -> CPO), learned
from the traffic through this node (`learn`) off the hot path. A candidate must hold the
row's role and be connected here or listed on another node; one here whose rules block the
sender is no candidate. Then:

    one candidate       the request is addressed to it (`Exchange.addressed`), and goes on
                        party to party: rules, signatures, copies, proxies, peers
    several             2002, saying how many, never who
    none                4001; the same answer, word for word, when the only one blocks the
                        sender, so rules cannot be probed

Resolving costs at most one indexed query per key and cached reads (platforms, registry): no
chain call. A signed request is re-signed over the TO headers the hub added (`Signatures.opened`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, unquote

from scn_node.hub.background import Background
from scn_node.hub.delivery import Delivered
from scn_node.hub.exchange import Exchange
from scn_node.hub.message import ScpiRequest
from scn_node.hub.modules import PATH, Key, KeyKind, Learn, ModuleSpec, Owner, ReceiverKey
from scn_node.hub.ownership import OwnedKey
from scn_node.hub.ports import Platforms, Registry, RouteKeys
from scn_node.hub.signing import Signatures
from scn_node.scpi.errors import NotEnoughInformation, ScpiError, UnknownReceiver
from scn_node.scpi.hubclientinfo import ConnectionStatus
from scn_node.scpi.identifiers import cpo_of_evse, emsp_of_contract
from scn_node.scpi.party import InvalidPartyId, PartyId, Role

UNKNOWN = (
    "No receiver could be determined for this request: name it in SCPI-to-country-code and "
    "SCPI-to-party-id"
)
UNTYPED_UID_TYPE = "RFID"  # OCPI: a token uid without ?type= is an RFID token's
OBJECTS_PER_PAGE = 1000  # what the index learns from one list answer, at most
MAX_PENDING = 10_000  # keys waiting for the next write, at most (the rest are dropped)
# A key written this recently is not written again: EVSE status PATCHes, the commonest traffic,
# would otherwise write the same location's row on every change. Keys live for days.
REWRITE_SECONDS = 3600.0
MAX_WRITTEN = 100_000  # keys remembered as written, at most (past that, all are forgotten)


class NoRouteKeys:
    """An index that knows nothing: open routing by identifiers that name their party only."""

    async def owners(self, kind: KeyKind, key: str, type: str = "") -> list[PartyId]:
        return []

    async def remember_keys(self, keys: Sequence[OwnedKey]) -> None:
        pass


class OpenRouting:
    def __init__(
        self,
        platforms: Platforms,
        registry: Registry,
        signatures: Signatures,
        *,
        node_address: str,
        keys: RouteKeys | None = None,
        objects_per_page: int = OBJECTS_PER_PAGE,
    ) -> None:
        self.platforms = platforms
        self.registry = registry
        self.signatures = signatures
        self.node_address = node_address.lower()
        self.keys: RouteKeys = keys or NoRouteKeys()
        self.objects_per_page = objects_per_page
        self.background = Background("open routing: what the ownership index learns", limit=64)
        self._pending: dict[OwnedKey, None] = {}  # a dict: ordered, and merges repeats
        self._written: dict[OwnedKey, float] = {}  # when each key was last written
        self._writing = False

    # ---------------------------------------------------------------- finding the receiver

    async def address(self, exchange: Exchange) -> Exchange:
        """`exchange` addressed to the receiver the hub found (`Exchange.addressed`)."""
        request = exchange.request
        route = exchange.spec.receiver_key(request.method, request.tail.strip("/"))
        if route is None:
            raise UnknownReceiver(UNKNOWN)
        receiver = await self._receiver(route, request, exchange.spec)
        addressed = exchange.addressed(receiver)
        if request.headers.signature is not None:
            signed = await self.signatures.opened(addressed.request, addressed.spec)
            addressed = replace(addressed, request=signed)
        return addressed

    async def _receiver(
        self, route: ReceiverKey, request: ScpiRequest, spec: ModuleSpec
    ) -> PartyId:
        in_body = spec.json_body and any(key.at != PATH for key in route.keys)
        body = _json(request.body) if in_body else None
        for key in route.keys:
            value = _value(key, request, body)
            if value is None:
                continue
            if key.kind.names_its_party:
                named = _named(key.kind, value)
                candidates = [] if named is None else [named]
            elif isinstance(value, str) and value.strip():
                type = _token_type(request.query) if key.kind is KeyKind.TOKEN_UID else ""
                candidates = await self.keys.owners(key.kind, value, type)
            else:
                continue
            found = [
                party
                for party in candidates
                if party != request.headers.sender
                and await self._admits(party, route.role, request)
            ]
            if len(found) > 1:
                raise NotEnoughInformation(
                    f"{len(found)} parties could receive this request: name one in "
                    "SCPI-to-country-code and SCPI-to-party-id"
                )
            if found:
                return found[0]
        raise UnknownReceiver(UNKNOWN)

    async def _admits(self, party: PartyId, role: Role, request: ScpiRequest) -> bool:
        """`party` holds `role`, is connected here and its rules let the sender through, or
        is listed on another node (whose node checks its rules)."""
        platform = await self.platforms.platform_of(party)
        if platform is not None and platform.status is ConnectionStatus.CONNECTED:
            if not any(r.party == party and r.role is role for r in platform.roles):
                return False
            try:
                platform.rules.check(request.headers.sender, request.module, party)
            except ScpiError:
                return False  # indistinguishable from "no such party": rules cannot be probed
            return True
        listed = await self.registry.party(party)
        return (
            listed is not None
            and role in listed.roles
            and bool(listed.node_url)
            and listed.operator.lower() != self.node_address  # ours, but not connected
        )

    # ---------------------------------------------------------------- learning

    def learn(self, exchange: Exchange, delivered: Delivered | None = None) -> None:
        """Remember, off the hot path, who owns the keys this exchange names. `delivered` is
        the receiver's answer (only a 2xx one teaches anything); None for a push whose URL
        names the owner that reached no one party in particular (a broadcast)."""
        if delivered is not None and not 200 <= delivered.response.status < 300:
            return
        request = exchange.request
        for rule in exchange.spec.learns:
            if request.method not in rule.methods:
                continue
            if rule.tail is not None and rule.tail != request.tail.strip("/"):
                continue
            if rule.owner is Owner.URL:
                self._remember(_from_url(rule, request))
            elif delivered is None:
                continue
            elif rule.owner is Owner.RECEIVER:
                value = _value(Key(rule.kind, rule.at), request, _json(request.body))
                if isinstance(value, str) and value.strip():
                    self._remember([OwnedKey(rule.kind, value, request.headers.receiver)])
            elif request.tail.strip("/") == "":  # Owner.OBJECTS: a list's page
                work = self._learn_objects(rule.kind, delivered.response.body, request)
                self.background.spawn(work, "a list answer")

    async def _learn_objects(self, kind: KeyKind, body: bytes, request: ScpiRequest) -> None:
        # A party answers for itself: objects it says another party owns teach nothing.
        owner = request.headers.receiver
        learned = _objects(kind, body, self.objects_per_page)
        self._remember(key for key in learned if key.owner == owner)

    def _remember(self, keys: Iterable[OwnedKey]) -> None:
        fresh = time.monotonic() - REWRITE_SECONDS
        for key in keys:
            if len(self._pending) >= MAX_PENDING:
                break
            if self._written.get(key, fresh) <= fresh:
                self._pending[key] = None
        if self._pending and not self._writing:
            self._writing = self.background.spawn(self._write(), "keys")

    async def _write(self) -> None:
        """Write what is pending, in batches: keys learned while one is written go in the next."""
        try:
            while self._pending:
                batch = list(self._pending)
                self._pending.clear()
                await self.keys.remember_keys(batch)
                if len(self._written) + len(batch) > MAX_WRITTEN:
                    self._written.clear()
                written = time.monotonic()
                self._written.update((key, written) for key in batch)
        finally:
            self._writing = False

    async def drain(self) -> None:
        await self.background.drain()

    async def close(self) -> None:
        await self.background.close()


def _value(key: Key, request: ScpiRequest, body: object) -> object:
    if key.at == PATH:
        segments = [s for s in request.tail.split("/") if s]
        return unquote(segments[0]) if segments else None
    return body.get(key.at) if isinstance(body, dict) else None


def _named(kind: KeyKind, value: object) -> PartyId | None:
    """The party an identifier names itself."""
    if kind is KeyKind.EVSE_ID:
        return cpo_of_evse(value)
    if kind is KeyKind.CDR_TOKEN and isinstance(value, dict):
        country_code, party_id = value.get("country_code"), value.get("party_id")
        if isinstance(country_code, str) and isinstance(party_id, str):  # OCPI 2.2.1
            try:
                return PartyId.parse(country_code, party_id)
            except InvalidPartyId:
                pass
        return emsp_of_contract(value.get("contract_id"))
    return emsp_of_contract(value)


def _from_url(rule: Learn, request: ScpiRequest) -> list[OwnedKey]:
    """/{country_code}/{party_id}/{id}[/…]: the id is the owner's (the hub checked the owner
    is the sender)."""
    segments = [unquote(s) for s in request.tail.split("/") if s]
    if len(segments) < 3:
        return []
    try:
        owner = PartyId.parse(segments[0], segments[1])
    except InvalidPartyId:
        return []
    type = _token_type(request.query) if rule.kind is KeyKind.TOKEN_UID else ""
    return [OwnedKey(rule.kind, segments[2], owner, type)]


def _objects(kind: KeyKind, body: bytes, limit: int) -> list[OwnedKey]:
    """The ids of a successful list answer's objects and their owners (the first `limit`)."""
    envelope = _json(body)
    if not isinstance(envelope, dict) or envelope.get("status_code") != 1000:
        return []
    data = envelope.get("data")
    if not isinstance(data, list):
        return []
    keys = []
    for item in data[:limit]:
        if not isinstance(item, dict):
            continue
        key, country_code, party_id = item.get("id"), item.get("country_code"), item.get("party_id")
        if not (
            isinstance(key, str) and isinstance(country_code, str) and isinstance(party_id, str)
        ):
            continue
        try:
            keys.append(OwnedKey(kind, key, PartyId.parse(country_code, party_id)))
        except InvalidPartyId:
            continue
    return keys


def _token_type(query: str) -> str:
    return dict(parse_qsl(query)).get("type") or UNTYPED_UID_TYPE


def _json(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None
