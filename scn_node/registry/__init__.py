"""web3 adapter for the SCN Registry, shared by the node and the `scn-registry` CLI. Its reads
return the hub's own values (`ListedParty`, `Service`), re-exported here for the CLI."""

from scn_node.hub.model import ListedParty, Service
from scn_node.registry.contract import RegistryContract
from scn_node.registry.errors import (
    InsufficientFunds,
    NotARegistry,
    RegistryError,
    RegistryRevert,
    RegistryUnavailable,
    TransactionFailed,
)
from scn_node.registry.listings import NodeListing, TransactionReceipt
from scn_node.registry.permissions import PermissionsContract
from scn_node.registry.signing import InvalidAuthorisation, SignedAction

__all__ = [
    "InsufficientFunds",
    "InvalidAuthorisation",
    "ListedParty",
    "NodeListing",
    "NotARegistry",
    "PermissionsContract",
    "RegistryContract",
    "RegistryError",
    "RegistryRevert",
    "RegistryUnavailable",
    "Service",
    "SignedAction",
    "TransactionFailed",
    "TransactionReceipt",
]
