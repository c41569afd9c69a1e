"""sqlmodel adapter: the node's directory of platforms, roles, endpoints and proxied URLs, the
node messages it has seen, and the registry answers it last had."""

from scn_node.store.database import Database
from scn_node.store.directory import SqlDirectory
from scn_node.store.registry_snapshot import SqlRegistrySnapshot
from scn_node.store.seen_messages import SqlSeenMessages

__all__ = ["Database", "SqlDirectory", "SqlRegistrySnapshot", "SqlSeenMessages"]
