"""Objects broadcast TO the hub (locations, tariffs, tokens), kept by every node they reach,
for GET All to be answered from.

(Stub: issue 12 builds it.)
"""

from __future__ import annotations

from scn_node.hub.exchange import Exchange
from scn_node.hub.message import ScpiReply
from scn_node.hub.rules import PartyRules


class StoredObjects:
    async def keep(self, exchange: Exchange, owner_rules: PartyRules) -> None:
        """Apply one broadcast push (PUT, PATCH, DELETE) to the kept objects; `owner_rules`
        are the sender's own, which decide who may GET them."""

    async def page(self, exchange: Exchange) -> ScpiReply | None:
        """A GET All page from the kept objects; None when none of the module are kept."""
        return None
