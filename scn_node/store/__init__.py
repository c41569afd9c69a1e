"""sqlmodel adapter: the node's directory of platforms, roles, endpoints and proxied URLs."""

from scn_node.store.database import Database
from scn_node.store.directory import SqlDirectory

__all__ = ["Database", "SqlDirectory"]
