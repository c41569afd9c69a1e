"""Open routing: a request with no SCPI-to-* goes to the party the hub finds for it.

(Stub: issue 12 builds it. Until then nothing is found: 4001.)
"""

from __future__ import annotations

from scn_node.hub.exchange import Exchange
from scn_node.scpi.errors import UnknownReceiver


class OpenRouting:
    async def address(self, exchange: Exchange) -> Exchange:
        """`exchange` addressed to the receiver the hub found (`Exchange.addressed`)."""
        raise UnknownReceiver("No receiver could be determined for this request")

    def learn(self, exchange: Exchange, answer: object) -> None:
        """Remember, off the hot path, who owns what this routed exchange names."""

    async def drain(self) -> None:
        pass

    async def close(self) -> None:
        pass
