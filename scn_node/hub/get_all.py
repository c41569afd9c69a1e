"""GET All via the hub: one list from every source party, page by page.

(Stub: issue 12 builds it.)
"""

from __future__ import annotations

from scn_node.hub.exchange import Exchange
from scn_node.hub.message import ScpiReply
from scn_node.scpi.errors import UnknownReceiver


class GetAllPages:
    async def page(self, exchange: Exchange) -> ScpiReply:
        """A GET All's page: the first (a list GET TO the hub) or the next (its cursor proxy)."""
        raise UnknownReceiver("No party sends this module")
