"""What the registry says about nodes and parties, and the permissions contract about services:
the rows its views return, decoded into frozen values. A party and a service are the hub's own
values (`ListedParty`, `Service`), built here once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address

from scn_node.hub.model import ListedParty, Service
from scn_node.scpi.party import ModuleId, PartyId, Role
from scn_node.scpi.services import MAX_PERMISSION, ServicePermission
from scn_node.scpi.versions import FUNCTIONAL_MODULES

# The contract stores roles and modules as indices in these orders (the OCN ones).
REGISTRY_ROLES: tuple[Role, ...] = (
    Role.CPO,
    Role.EMSP,
    Role.HUB,
    Role.NAP,
    Role.NSP,
    Role.OTHER,
    Role.SCSP,
)
# The registry stores a party's modules as indices into this tuple: its order is on the chain.
REGISTRY_MODULES: tuple[ModuleId, ...] = FUNCTIONAL_MODULES
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True, slots=True)
class NodeListing:
    operator: str
    url: str


@dataclass(frozen=True, slots=True)
class TransactionReceipt:
    tx_hash: str
    block_number: int
    gas_used: int
    contract_address: str | None = None


def party_of(country_code: bytes, party_id: bytes) -> PartyId:
    """A party as the contracts key it: bytes2 and bytes3."""
    return PartyId(country_code.decode("ascii"), party_id.decode("ascii"))


def role_indices(roles: Sequence[Role]) -> list[int]:
    return sorted({REGISTRY_ROLES.index(r) for r in roles})


def module_indices(modules: Sequence[ModuleId]) -> list[int]:
    try:
        return sorted({REGISTRY_MODULES.index(m) for m in modules})
    except ValueError as error:
        raise ValueError(f"not a registry module: {error}") from None


def roles_of(indices: list[int]) -> tuple[Role, ...]:
    return tuple(REGISTRY_ROLES[i] for i in indices)


def modules_of(indices: list[int]) -> tuple[ModuleId, ...]:
    return tuple(REGISTRY_MODULES[i] for i in indices)


def permission_mask(permissions: Sequence[ServicePermission]) -> int:
    """The contract's bit set: bit i is permission id i."""
    return sum(1 << int(p) for p in set(permissions))


def permissions_of(mask: int) -> tuple[ServicePermission, ...]:
    """The permissions in a mask, by id; ids this node does not know are left out."""
    return tuple(ServicePermission(i) for i in range(int(MAX_PERMISSION) + 1) if mask >> i & 1)


def party_from_chain(
    address: str,
    party: PartyId,
    roles: list[int],
    sender: list[int],
    receiver: list[int],
    operator: str,
    node_url: str,
) -> ListedParty:
    """A party from the fields the registry's views return, each view in its own order."""
    return ListedParty(
        party,
        roles_of(roles),
        to_checksum_address(operator),
        node_url,
        to_checksum_address(address),
        modules_of(sender),
        modules_of(receiver),
    )


def service_from_chain(row: Sequence[Any]) -> Service:
    """A service from a row of the permissions contract: provider, bytes2, bytes3, name, url,
    permission mask."""
    provider, cc, pid, name, url, mask = row
    return Service(
        to_checksum_address(provider), party_of(cc, pid), permissions_of(mask), name, url
    )
