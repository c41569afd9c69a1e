"""httpx adapters: how the node reaches parties (and, later, peer nodes)."""

from scn_node.clients.party_client import HttpPartyTransport

__all__ = ["HttpPartyTransport"]
