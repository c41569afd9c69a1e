"""Outbound HTTP: one pooled aiohttp session that reaches parties and peer nodes."""

from scn_node.clients.aiohttp_client import AiohttpTransport, new_session

__all__ = ["AiohttpTransport", "new_session"]
