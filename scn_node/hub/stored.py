"""Objects broadcast TO the hub (locations, tariffs, tokens), kept by every node they reach,
for GET All to be answered from (the spec's GET All diagram; ocpi/ocpi issue 508).

`keep` applies each broadcast push (`hub/objects.py`) to the kept object and saves its owner's
roles and rules. `page` answers a GET All of a kept module from the store: the kept bytes of
each object, never re-serialised, in the order the objects were first kept, with the owners'
rules applied per requester. A node that keeps none of the module says None: the sources are
asked instead.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qsl

from scn_node.hub.exchange import Exchange, FromParty
from scn_node.hub.message import ScpiReply
from scn_node.hub.modules import COUNTERPARTS
from scn_node.hub.objects import Deleted, ObjectOwner, Push, Unusable, apply
from scn_node.hub.ports import HubObjects, Registry
from scn_node.hub.rules import PartyRules
from scn_node.hub.signing import Signatures
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.envelope import timestamp
from scn_node.scpi.errors import ScpiError, SenderBlocked
from scn_node.scpi.headers import CORRELATION_ID, REQUEST_ID, routing_pair
from scn_node.scpi.notary import RESPONSE_FIELD, response_values, sign_with
from scn_node.scpi.pagination import Page, link_header
from scn_node.scpi.party import ModuleId, PartyId, Role
from scn_node.scpi.status import ScpiStatus
from scn_node.scpi.versions import InterfaceRole, module_path

log = logging.getLogger(__name__)

# The hub's page size (X-Limit) per kept module: a Location with its EVSEs is kilobytes,
# a tariff or a token far less.
PAGE_LIMITS: dict[str, int] = {ModuleId.LOCATIONS: 50, ModuleId.TARIFFS: 100, ModuleId.TOKENS: 100}
_SUCCESS = "Success"


class StoredObjects:
    def __init__(
        self,
        objects: HubObjects | None,
        registry: Registry,
        signing: Signatures,
        *,
        node_url: str,
    ) -> None:
        self.objects = objects  # None: this hub keeps nothing (GET All asks the sources)
        self.registry = registry
        self.signing = signing
        self.node_url = node_url

    async def keep(self, exchange: Exchange, owner_rules: PartyRules) -> None:
        """Apply one broadcast push (PUT, PATCH, DELETE) to the kept objects; `owner_rules`
        are the sender's own, which decide who may GET them."""
        if self.objects is None:
            return
        request = exchange.request
        try:
            push = Push.of(request)
            kept = None
            if push.path or push.method == "PATCH":  # a whole PUT or a DELETE needs no reading
                kept = await self.objects.hub_object(push.key)
            change = apply(push, kept)
        except Unusable as error:
            # The broadcast went out all the same: only the copy kept here misses it.
            what = f"{request.method} {request.module}{request.tail}"
            log.info("broadcast %s not kept: %s", what, error)
            return
        if isinstance(change, Deleted):
            await self.objects.delete_hub_object(change.key)
        elif not await self.objects.keep_hub_object(change):
            log.info("broadcast %s %s not kept: a later one is", request.method, change.key)
            return
        roles = await self._roles(exchange, push.key.owner)
        await self.objects.save_object_owner(ObjectOwner(push.key.owner, roles, owner_rules))

    async def page(self, exchange: Exchange) -> ScpiReply | None:
        """A GET All page from the kept objects; None when none of the module are kept."""
        if self.objects is None:
            return None
        request, headers = exchange.request, exchange.headers
        module, requester = request.module, headers.sender
        limit = PAGE_LIMITS.get(request.module, 100)
        query = dict(parse_qsl(request.query, keep_blank_values=True))
        page = Page.parse(query, max_limit=limit)
        roles = await self._roles(exchange, requester)
        owners = await self.objects.object_owners()
        listed = await self._listed()
        hidden = frozenset(
            o.party
            for o in owners
            if not _sees(o, requester, roles, module) or (listed and o.party not in listed)
        )
        found = await self.objects.hub_objects(module, page, hidden)
        if found is None:
            return None
        bodies, total = found
        reply = {"Content-Type": "application/json", "X-Total-Count": str(total)}
        reply["X-Limit"] = str(limit)
        if page.offset + len(bodies) < total:
            path = module_path("scpi", InterfaceRole.SENDER, module)
            reply["Link"] = link_header(f"{self.node_url}{path}?{page.next_query(query)}")
        moment = timestamp()
        # The kept objects as they came: joined, not parsed and written again.
        body = (
            b'{"data":['
            + b",".join(bodies)
            + b'],"status_code":1000,"status_message":"Success","timestamp":"'
            + moment.encode()
            + b'"'
        )
        if exchange.policy.answer_required:
            body += b',"' + RESPONSE_FIELD.encode() + b'":' + self._signature(bodies, reply, moment)
        reply[REQUEST_ID] = headers.request_id
        reply[CORRELATION_ID] = headers.correlation_id
        reply.update(routing_pair(NODE_PARTY, requester))
        return ScpiReply(200, body + b"}", reply)

    def _signature(self, bodies: list[bytes], headers: dict[str, str], moment: str) -> bytes:
        """The node's scn_signature over the page it wrote, its paging headers included."""
        envelope = {
            "data": [json.loads(b) for b in bodies],
            "status_code": int(ScpiStatus.SUCCESS),
            "status_message": _SUCCESS,
            "timestamp": moment,
        }
        values = response_values(
            envelope=envelope,
            limit=headers["X-Limit"],
            total_count=headers["X-Total-Count"],
            link=headers.get("Link"),
        )
        wallet = self.signing.wallet
        return json.dumps(sign_with(values, wallet.sign, wallet.address).encode()).encode()

    async def _listed(self) -> frozenset[PartyId]:
        """The parties the registry lists (cached): an owner that left the network is no
        longer served. Empty when the registry cannot say (then nobody is hidden for it)."""
        try:
            return frozenset(listed.party for listed in await self.registry.parties())
        except ScpiError as error:
            log.warning("kept objects served without the registry's party list: %s", error)
            return frozenset()

    async def _roles(self, exchange: Exchange, party: PartyId) -> frozenset[Role]:
        """The roles `party` holds: on its platform here, or as the registry lists it."""
        if isinstance(exchange.origin, FromParty):
            platform = exchange.origin.caller.platform
            return frozenset(r.role for r in platform.roles if r.party == party)
        listed = await self.registry.party(party)
        return frozenset(listed.roles) if listed is not None else frozenset()


def _sees(owner: ObjectOwner, requester: PartyId, roles: frozenset[Role], module: str) -> bool:
    """Whether `requester` (holding `roles`) may GET `owner`'s kept objects: it would have
    received them as a broadcast (an opposite role; not its own), and the owner's rules let it
    reach the owner with `module`."""
    if owner.party == requester:
        return False
    if not any(owner.roles & COUNTERPARTS.get(role, frozenset()) for role in roles):
        return False
    try:
        owner.rules.check(requester, module, owner.party)
    except SenderBlocked:
        return False
    return True
