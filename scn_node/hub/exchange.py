"""An Exchange: one routed request on its way through the hub's one pipeline (`Forwarder.handle`).

It holds what came in (the request), who sent it (a party's platform on this node, or a peer
node that vouched for the sender), the module's spec, the signature policy, and, when the
sender called one of this node's proxy URLs, that proxy. The entry points only build one;
every difference between a party's request, a proxy URL and a peer's message is a field here,
not a branch of the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from scn_node.hub.message import ScpiRequest
from scn_node.hub.model import Caller, Platform, Proxy
from scn_node.hub.modules import STANDARD, ModuleSpec, spec_for
from scn_node.hub.peer import NodeMessage
from scn_node.hub.rules import PartyRules
from scn_node.hub.scenario import Scenario
from scn_node.hub.signing import SignaturePolicy
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.headers import RoutingHeaders
from scn_node.scpi.party import PartyId


@dataclass(frozen=True, slots=True)
class FromParty:
    """A party on this node sent it, authenticated with its TOKEN_C."""

    caller: Caller


@dataclass(frozen=True, slots=True)
class FromPeer:
    """A peer node brought it; its signature vouched for the sender (`PeerLink.accept`)."""

    message_id: str
    owner_rules: PartyRules | None = None
    """A broadcast's sender's own rules, as its node sent them."""


Origin = FromParty | FromPeer


@dataclass(frozen=True, slots=True)
class LocalParty:
    """A receiver connected here; `url` is a stored URL (a proxy's) to call instead of its
    module endpoint."""

    platform: Platform
    url: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteParty:
    """A receiver on another node; `proxy` is that node's proxy uid behind one of ours, and
    `url` the URL its answer's Link and Location are read against, when not the node's."""

    node_url: str
    operator: str
    proxy: str | None = None
    url: str | None = None


Target = LocalParty | RemoteParty


@dataclass(frozen=True, slots=True)
class Exchange:
    request: ScpiRequest
    origin: Origin
    spec: ModuleSpec
    policy: SignaturePolicy
    via: str | None = None
    """A proxy uid of this node the sender called: the request goes to the URL it stands for."""
    proxy: Proxy | None = None
    """That proxy, once admitted (only its caller may use it, towards its target)."""
    scenario: Scenario = Scenario.DIRECT
    opened: bool = False
    """Open routing found the receiver: the sender sent (and signed) no SCPI-to-*. Until it
    is found (scenario OPEN) the request's receiver is the hub."""

    @property
    def headers(self) -> RoutingHeaders:
        return self.request.headers

    @property
    def caller(self) -> Caller | None:
        return self.origin.caller if isinstance(self.origin, FromParty) else None

    @classmethod
    def via_proxy(
        cls, origin: Origin, request: ScpiRequest, policy: SignaturePolicy, uid: str
    ) -> Exchange:
        """A call to a node URL that stands for another URL (a page, a CDR, a response_url).
        What it reaches is known once the proxy is admitted (`through`)."""
        scenario = Scenario.GET_ALL if request.headers.receiver == NODE_PARTY else Scenario.DIRECT
        return cls(request, origin, STANDARD, policy, via=uid, scenario=scenario)

    @classmethod
    def from_peer(cls, message: NodeMessage, policy: SignaturePolicy) -> Exchange:
        """A peer's message; the sender's own node checks the answer for its sender."""
        request = message.request
        spec = STANDARD
        if message.proxy is None:
            spec = spec_for(request.module, request.interface, message.family)
        # A message to the hub is a broadcast: its sender's node sends one to every node.
        scenario = Scenario.BROADCAST if request.headers.receiver == NODE_PARTY else Scenario.DIRECT
        origin = FromPeer(message.id, message.owner_rules)
        return cls(
            request,
            origin,
            spec,
            policy,
            via=message.proxy,
            scenario=scenario,
            opened=message.opened,
        )

    def addressed(self, receiver: PartyId) -> Exchange:
        """This open-routed exchange, once the hub found its receiver: party to party now."""
        request = replace(self.request, headers=replace(self.headers, receiver=receiver))
        return replace(self, request=request, scenario=Scenario.DIRECT, opened=True)

    def through(self, proxy: Proxy) -> Exchange:
        """This exchange once its proxy is admitted: the proxy's module, to a stored URL (a
        query on the node URL is not passed on)."""
        request = replace(
            self.request, module=proxy.module, interface=proxy.interface, tail="", query=""
        )
        spec = spec_for(proxy.module, proxy.interface)
        return replace(self, request=request, spec=spec, proxy=proxy)
