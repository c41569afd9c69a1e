"""Every transaction the CLI sends, in one table.

A row says which parameters its command takes, which contract method it calls with them, what its
receipt shows, and, for an action that may be signed offline, the EIP-712 fields the same
parameters become in its `sign …` twin. commands/writes.py makes the commands from the rows, so a
parameter's meaning is written once for both ways of sending it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from eth_account.signers.local import LocalAccount

from registry_cli.params import (
    Decorator,
    address_argument,
    credentials_option,
    module_options,
    no_params,
    party_options,
    service_options,
    url_argument,
)
from registry_cli.session import C, OnSent
from scn_node.registry import PermissionsContract, RegistryContract, TransactionReceipt
from scn_node.registry.listings import module_indices, permission_mask, role_indices
from scn_node.scpi.party import ModuleId, PartyId, Role
from scn_node.scpi.services import ServicePermission

A = TypeVar("A")


# ---------------------------------------------------------------------- what commands take
# One record per parameter set; its fields are the click parameters' names.


@dataclass(frozen=True)
class Nothing:
    pass


@dataclass(frozen=True)
class NodeUrl:
    url: str


@dataclass(frozen=True)
class PartyEntry:
    party: PartyId
    roles: list[Role]
    operator: str


@dataclass(frozen=True)
class Modules:
    sender_interface: list[ModuleId]
    receiver_interface: list[ModuleId]


@dataclass(frozen=True)
class Service:
    name: str
    url: str
    permissions: list[ServicePermission]


@dataclass(frozen=True)
class Provider:
    provider: str


@dataclass(frozen=True)
class Operator:
    operator: str


@dataclass(frozen=True)
class Credentials:
    party: PartyId


@dataclass(frozen=True)
class NewOwner:
    new_owner: str


# ---------------------------------------------------------------------- the table


def _nothing_shown(_arguments: Any) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Signed(Generic[A]):
    """An action's offline twin: its EIP-712 struct type and its fields (the subject, nonce and
    deadline are added when signing)."""

    type: str
    fields: Callable[[A], dict[str, Any]]
    help: str


@dataclass(frozen=True)
class Action(Generic[C, A]):
    label: str
    """How the command is typed (`set-node`, `admin delete-node`) and how its progress is shown."""
    help: str
    params: Decorator
    """The click parameters, whose values fill `arguments`."""
    arguments: type[A]
    contract: type[C]
    send: Callable[[C, LocalAccount, A, OnSent], Awaitable[TransactionReceipt]]
    signer_as: str
    """The name the receipt gives SIGNER's address."""
    shown: Callable[[A], dict[str, str]] = _nothing_shown
    signed: Signed[A] | None = None

    @property
    def group(self) -> str | None:
        """The command group it belongs to, or None for the top level."""
        return self.label.rpartition(" ")[0] or None

    @property
    def name(self) -> str:
        return self.label.rpartition(" ")[2]


# Not annotated: each row's own inferred type is what checks its `send` and `fields` against its
# contract and its arguments (an Action[Any, Any] annotation would silence that).
ACTIONS = (
    Action(
        "set-node",
        "List (or change) the signer's node at URL.",
        url_argument,
        NodeUrl,
        RegistryContract,
        lambda r, signer, a, sent: r.set_node(signer, a.url, on_sent=sent),
        signer_as="operator",
        shown=lambda a: {"url": a.url},
        signed=Signed(
            "SetNode", lambda a: {"domain": a.url}, "Sign listing the signer's node at URL."
        ),
    ),
    Action(
        "delete-node",
        "Remove the signer's node from the registry.",
        no_params,
        Nothing,
        RegistryContract,
        lambda r, signer, _, sent: r.delete_node(signer, on_sent=sent),
        signer_as="operator",
        signed=Signed("DeleteNode", lambda _: {}, "Sign removing the signer's node."),
    ),
    Action(
        "set-party",
        "List (or update) the signer as an SCPI party using OPERATOR's node.",
        party_options,
        PartyEntry,
        RegistryContract,
        lambda r, signer, a, sent: r.set_party(signer, a.party, a.roles, a.operator, on_sent=sent),
        signer_as="party",
        signed=Signed(
            "SetParty",
            lambda a: {
                "countryCode": a.party.country_code,
                "partyId": a.party.party_id,
                "roles": role_indices(a.roles),
                "operator": a.operator,
            },
            "Sign listing the signer as a party.",
        ),
    ),
    Action(
        "set-party-modules",
        "Declare the SCPI modules the signer's party implements.",
        module_options,
        Modules,
        RegistryContract,
        lambda r, signer, a, sent: r.set_party_modules(
            signer, a.sender_interface, a.receiver_interface, on_sent=sent
        ),
        signer_as="party",
        signed=Signed(
            "SetPartyModules",
            lambda a: {
                "sender": module_indices(a.sender_interface),
                "receiver": module_indices(a.receiver_interface),
            },
            "Sign declaring the signer's party modules.",
        ),
    ),
    Action(
        "delete-party",
        "Remove the signer's party from the registry.",
        no_params,
        Nothing,
        RegistryContract,
        lambda r, signer, _, sent: r.delete_party(signer, on_sent=sent),
        signer_as="party",
        signed=Signed("DeleteParty", lambda _: {}, "Sign removing the signer's party."),
    ),
    Action(
        "set-service",
        "Offer (or change) the signer's party's service. Adding permissions lapses its users' "
        "agreements: they agree again to the wider set.",
        service_options,
        Service,
        PermissionsContract,
        lambda p, signer, a, sent: p.set_service(
            signer, a.name, a.url, a.permissions, on_sent=sent
        ),
        signer_as="provider",
        shown=lambda a: {"permissions": ", ".join(p.name for p in sorted(a.permissions))},
        signed=Signed(
            "SetService",
            lambda a: {"name": a.name, "url": a.url, "permissions": permission_mask(a.permissions)},
            "Sign offering the signer's service.",
        ),
    ),
    Action(
        "delete-service",
        "Withdraw the signer's service; its users' agreements lapse.",
        no_params,
        Nothing,
        PermissionsContract,
        lambda p, signer, _, sent: p.delete_service(signer, on_sent=sent),
        signer_as="provider",
        signed=Signed("DeleteService", lambda _: {}, "Sign withdrawing the signer's service."),
    ),
    Action(
        "agree",
        "Agree, as the signer's party, to PROVIDER's service: its node then copies the party's "
        "matching requests to the service.",
        address_argument("provider"),
        Provider,
        PermissionsContract,
        lambda p, signer, a, sent: p.agree(signer, a.provider, on_sent=sent),
        signer_as="user",
        shown=lambda a: {"provider": a.provider},
        signed=Signed(
            "CreateAgreement",
            lambda a: {"provider": a.provider},
            "Sign agreeing to PROVIDER's service.",
        ),
    ),
    Action(
        "revoke",
        "Withdraw the signer's agreement to PROVIDER's service, at once.",
        address_argument("provider"),
        Provider,
        PermissionsContract,
        lambda p, signer, a, sent: p.revoke(signer, a.provider, on_sent=sent),
        signer_as="user",
        shown=lambda a: {"provider": a.provider},
        signed=Signed(
            "RevokeAgreement",
            lambda a: {"provider": a.provider},
            "Sign withdrawing the agreement to PROVIDER's service.",
        ),
    ),
    # The owner's actions: the contract has no signed variant of them.
    Action(
        "admin delete-node",
        "Remove OPERATOR's node (owner only).",
        address_argument("operator"),
        Operator,
        RegistryContract,
        lambda r, owner, a, sent: r.admin_delete_node(owner, a.operator, on_sent=sent),
        signer_as="owner",
        shown=lambda a: {"operator": a.operator},
    ),
    Action(
        "admin delete-party",
        "Remove a party by CC PID (owner only).",
        credentials_option(required=True),
        Credentials,
        RegistryContract,
        lambda r, owner, a, sent: r.admin_delete_party(owner, a.party, on_sent=sent),
        signer_as="owner",
        shown=lambda a: {"party": str(a.party)},
    ),
    Action(
        "admin transfer-ownership",
        "Offer ownership to NEW_OWNER, who must accept it.",
        address_argument("new_owner"),
        NewOwner,
        RegistryContract,
        lambda r, owner, a, sent: r.transfer_ownership(owner, a.new_owner, on_sent=sent),
        signer_as="owner",
        shown=lambda a: {"pendingOwner": a.new_owner},
    ),
    Action(
        "admin accept-ownership",
        "Accept ownership offered to the signer.",
        no_params,
        Nothing,
        RegistryContract,
        lambda r, owner, _, sent: r.accept_ownership(owner, on_sent=sent),
        signer_as="owner",
    ),
)
