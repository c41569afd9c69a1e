"""Broadcast push: a push TO the hub goes to every party that receives the module.

(Stub: issue 12 builds it.)
"""

from __future__ import annotations

from scn_node.hub.exchange import Exchange
from scn_node.hub.message import ScpiReply
from scn_node.scpi.errors import ConnectionProblem


class Broadcaster:
    async def push(self, exchange: Exchange) -> ScpiReply:
        """A party's push TO the hub (or a peer's, FromPeer): legs to every receiver here."""
        raise ConnectionProblem("No connected party receives this module")

    async def drain(self) -> None:
        pass

    async def close(self) -> None:
        pass
