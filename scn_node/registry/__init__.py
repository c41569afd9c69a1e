"""web3 adapter for the SCN Registry, shared by the node and the `scn-registry` CLI."""

from scn_node.registry.contract import RegistryContract
from scn_node.registry.errors import (
    InsufficientFunds,
    NotARegistry,
    RegistryError,
    RegistryRevert,
    RegistryUnavailable,
    TransactionFailed,
)
from scn_node.registry.listings import (
    NodeListing,
    PartyListing,
    ServiceListing,
    TransactionReceipt,
)
from scn_node.registry.permissions import PermissionsContract
from scn_node.registry.signing import InvalidAuthorisation, SignedAction

__all__ = [
    "InsufficientFunds",
    "InvalidAuthorisation",
    "NodeListing",
    "NotARegistry",
    "PartyListing",
    "PermissionsContract",
    "RegistryContract",
    "RegistryError",
    "RegistryRevert",
    "RegistryUnavailable",
    "ServiceListing",
    "SignedAction",
    "TransactionFailed",
    "TransactionReceipt",
]
