"""InMemoryRegistry: the SCN Registry as the hub sees it (hub.ports.Registry and NetworkListing),
in memory. List and unlist nodes, parties and services with plain method calls; no chain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from scn_node.hub.model import ListedNode, ListedParty, Service
from scn_node.scpi.party import PartyId, Role
from scn_node.scpi.services import ServicePermission


@dataclass
class InMemoryRegistry:
    node_urls: dict[str, str] = field(default_factory=dict)  # operator (lower-case) -> node URL
    listed: dict[PartyId, tuple[tuple[Role, ...], str, str]] = field(default_factory=dict)
    services: dict[PartyId, list[Service]] = field(default_factory=dict)
    agreements: set[tuple[PartyId, str]] = field(default_factory=set)
    reads: int = 0  # how often the hub asked about a party

    # ------------------------------------------------------------ what a test lists

    def set_node(self, operator: str, url: str) -> None:
        self.node_urls[operator.lower()] = url

    def list_party(
        self, party: PartyId, roles: Sequence[Role], operator: str, address: str = ""
    ) -> None:
        """List `party` with the node of `operator`; `address` is its own signing account."""
        self.listed[party] = (tuple(roles), operator, address)

    def unlist(self, party: PartyId) -> None:
        self.listed.pop(party, None)

    def add_service(
        self,
        user: PartyId,
        service: PartyId,
        provider: str,
        *permissions: ServicePermission,
        agreed: bool = True,
    ) -> None:
        """`user` takes `service` (whose account is `provider`): it gets copies of the
        requests its permissions cover."""
        self.services.setdefault(user, []).append(Service(provider, service, permissions))
        if agreed:
            self.agreements.add((user, provider.lower()))

    def revoke(self, user: PartyId, provider: str) -> None:
        self.agreements.discard((user, provider.lower()))

    def listing(self, operator: str) -> NodeView:
        """What the node of `operator` reads of the network (hub.ports.NetworkListing)."""
        return NodeView(self, operator.lower())

    # ------------------------------------------------------------ hub.ports.Registry

    async def party(self, party: PartyId, *, fresh: bool = False) -> ListedParty | None:
        self.reads += 1
        listed = self.listed.get(party)
        if listed is None:
            return None
        roles, operator, address = listed
        return ListedParty(
            party, roles, operator, self.node_urls.get(operator.lower(), ""), address
        )

    async def node_url(self, operator: str, *, fresh: bool = False) -> str | None:
        return self.node_urls.get(operator.lower())

    async def parties(self) -> tuple[ListedParty, ...]:
        found = [await self.party(party) for party in sorted(self.listed, key=str)]
        return tuple(p for p in found if p is not None)

    async def nodes(self) -> tuple[ListedNode, ...]:
        return tuple(ListedNode(op, url) for op, url in self.node_urls.items() if url)

    async def services_of(self, user: PartyId) -> tuple[Service, ...]:
        return tuple(self.services.get(user, ()))

    def known_services(self, user: PartyId) -> tuple[Service, ...] | None:
        return tuple(self.services.get(user, ()))

    async def agrees(self, user: PartyId, provider: str) -> bool:
        return (user, provider.lower()) in self.agreements


@dataclass(frozen=True)
class NodeView:
    registry: InMemoryRegistry
    operator: str

    async def other_nodes(self) -> Sequence[str]:
        return [url for op, url in self.registry.node_urls.items() if op != self.operator and url]

    async def planned_parties(self) -> Sequence[ListedParty]:
        found = [await self.registry.party(p) for p in self.registry.listed]
        return [p for p in found if p is not None and p.operator.lower() == self.operator]
