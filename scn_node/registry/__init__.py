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
from scn_node.registry.listings import NodeListing, PartyListing, TransactionReceipt
from scn_node.registry.signing import InvalidAuthorisation, SignedAction

__all__ = [
    "InsufficientFunds",
    "InvalidAuthorisation",
    "NodeListing",
    "NotARegistry",
    "PartyListing",
    "RegistryContract",
    "RegistryError",
    "RegistryRevert",
    "RegistryUnavailable",
    "SignedAction",
    "TransactionFailed",
    "TransactionReceipt",
]
