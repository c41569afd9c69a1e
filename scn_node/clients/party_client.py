"""TEMPORARY, for scn_node/app.py only: it still imports these names. Delete this file when
app.py builds AiohttpTransport alone (the httpx transport is gone; these are not it)."""

from scn_node.clients.aiohttp_client import AiohttpTransport as HttpPartyTransport
from scn_node.clients.aiohttp_client import new_session as new_client

__all__ = ["HttpPartyTransport", "new_client"]
