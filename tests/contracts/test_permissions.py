"""Behaviour of SCN Permissions: services, agreements that really end, signed variants, events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from tests.contracts.conftest import PERMISSIONS_DOMAIN_NAME, Signer
from tests.contracts.test_registry import (
    SECP256K1_N,
    junk_signatures,
    pack_sig,
    sig_parts,
    topic_address,
)

ZERO = "0x" + "00" * 20
CPO, EMSP, OTHER = 0, 1, 5
NODE = "http://localhost:8080"
NAME, URL = "Payments", "https://pay.example/service"
FORWARD_ALL = 1 << 0
CDRS_SENDER = 1 << 7
SESSIONS_RECEIVER = 1 << 6
ALL_IDS = (1 << 17) - 1

NO_PERMISSIONS = "No permissions given."
BAD_PERMISSION = (
    "Unknown permission: ids are 0 (FORWARD_ALL) to 16 (FORWARD_MODULE_CHARGINGPROFILES_RECEIVER)."
)
BAD_NAME = "Service name must be 1 to 64 bytes."
BAD_URL = "Service url must be an http(s) URL of at most 253 bytes."
PROVIDER_UNLISTED_SET = "Service provider has no party listing in Registry."
NO_SERVICE_TO_DELETE = "Cannot delete service that does not exist."
USER_UNLISTED = "Service user has no party listing in Registry."
OWN_SERVICE = "Cannot agree to one's own service."
NO_SERVICE = "Provider has no registered Service."
PROVIDER_UNLISTED = "Provider has no party listing in Registry."
DUPLICATE = "Agreement already made between user and provider."
NO_AGREEMENT = "No agreement made between user and provider."
EXPIRED = "Signature expired."
INVALID_SIGNATURE = "Invalid signature."

Tx = Callable[[ContractFunction, str], TxReceipt]
Events = Callable[[TxReceipt, str], list[dict[str, Any]]]
Rejected = Callable[[ContractFunction], None]


# ================================================================ fixtures


@pytest.fixture
def operator(registry: Contract, accounts: list[str], tx: Tx) -> str:
    """Account 1, running the node every party here uses."""
    tx(registry.functions.setNode(NODE), accounts[1])
    return accounts[1]


def list_party(
    registry: Contract, tx: Tx, party: str, operator: str, cc: bytes, pid: bytes
) -> None:
    tx(registry.functions.setParty(cc, pid, [OTHER], operator), party)


@pytest.fixture
def provider(registry: Contract, accounts: list[str], operator: str, tx: Tx) -> str:
    """Account 2, listed as CH SRV: the service provider."""
    list_party(registry, tx, accounts[2], operator, b"CH", b"SRV")
    return accounts[2]


@pytest.fixture
def user(registry: Contract, accounts: list[str], operator: str, tx: Tx) -> str:
    """Account 3, listed as DE MSP: the user of services."""
    list_party(registry, tx, accounts[3], operator, b"DE", b"MSP")
    return accounts[3]


@pytest.fixture
def service(permissions: Contract, provider: str, tx: Tx) -> str:
    """The provider's service: FORWARD_ALL."""
    tx(permissions.functions.setService(NAME, URL, FORWARD_ALL), provider)
    return provider


@pytest.fixture
def agreed(permissions: Contract, service: str, user: str, tx: Tx) -> str:
    """The user agreed to the provider's service."""
    tx(permissions.functions.createAgreement(service), user)
    return user


@pytest.fixture
def relayer(accounts: list[str]) -> str:
    """Pays the gas of signed calls; never the subject of one."""
    return accounts[9]


@pytest.fixture
def rejected(relayer: str, reverts: Any) -> Rejected:
    """Sends a signed call from the relayer and asserts that its signature is refused."""

    def send(call: ContractFunction) -> None:
        with reverts(INVALID_SIGNATURE):
            call.transact({"from": relayer})

    return send


@pytest.fixture
def perm_events(permissions: Contract) -> Events:
    from web3.logs import DISCARD

    def _events(receipt: TxReceipt, name: str) -> list[dict[str, Any]]:
        decoded = permissions.events[name]().process_receipt(receipt, errors=DISCARD)
        return [dict(event["args"]) for event in decoded]

    return _events


def topic0(contract: Contract, name: str) -> bytes:
    return bytes.fromhex(contract.events[name].topic.removeprefix("0x"))


def topics(receipt: TxReceipt, contract: Contract) -> list[list[bytes]]:
    return [[bytes(t) for t in log["topics"]] for log in receipt["logs"]]


def get_service(permissions: Contract, provider: str) -> list[Any]:
    return permissions.functions.getService(provider).call()


def services_of(permissions: Contract, cc: bytes, pid: bytes) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in permissions.functions.servicesOfParty(cc, pid).call()]


def agreements_of(permissions: Contract, user: str) -> list[str]:
    return permissions.functions.agreementsOf(user).call()


def has(permissions: Contract, user: str, provider: str) -> bool:
    return permissions.functions.hasAgreement(user, provider).call()


def nonce(permissions: Contract, address: str) -> int:
    return permissions.functions.nonces(address).call()


def listing(provider: str, cc: bytes, pid: bytes, mask: int = FORWARD_ALL) -> tuple[Any, ...]:
    return (provider, cc, pid, NAME, URL, mask)


# ================================================================ construction


def test_permissions_reads_the_registry_it_was_built_with(
    permissions: Contract, registry: Contract
) -> None:
    assert permissions.functions.registry().call() == registry.address
    assert permissions.functions.serviceCount().call() == 0


def test_a_registry_that_is_not_a_contract_is_refused(
    w3: Web3, chain: Any, accounts: list[str], reverts: Any
) -> None:
    artifact = chain.permissions_artifact
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    with reverts("Registry is not a contract."):
        factory.constructor(accounts[5]).estimate_gas({"from": accounts[0]})


# ================================================================ services


def test_set_service_lists_the_provider_with_its_live_credentials(
    permissions: Contract, provider: str, tx: Tx, perm_events: Events
) -> None:
    receipt = tx(permissions.functions.setService(NAME, URL, FORWARD_ALL | CDRS_SENDER), provider)
    assert get_service(permissions, provider) == [
        b"CH",
        b"SRV",
        NAME,
        URL,
        FORWARD_ALL | CDRS_SENDER,
        True,
    ]
    assert permissions.functions.serviceCount().call() == 1
    assert [tuple(r) for r in permissions.functions.listServices(0, 10).call()] == [
        listing(provider, b"CH", b"SRV", FORWARD_ALL | CDRS_SENDER)
    ]
    assert perm_events(receipt, "ServiceSet") == [
        {"provider": provider, "name": NAME, "url": URL, "permissions": FORWARD_ALL | CDRS_SENDER}
    ]
    [log] = receipt["logs"]
    assert [bytes(t) for t in log["topics"]] == [
        topic0(permissions, "ServiceSet"),
        topic_address(provider),
    ]


def test_updating_a_service_keeps_one_entry(
    permissions: Contract, service: str, tx: Tx, perm_events: Events
) -> None:
    receipt = tx(permissions.functions.setService("Renamed", URL, FORWARD_ALL), service)
    assert perm_events(receipt, "ServiceSet")[0]["name"] == "Renamed"
    assert permissions.functions.serviceCount().call() == 1
    assert [r[0] for r in permissions.functions.listServices(0, 10).call()] == [service]
    assert get_service(permissions, service)[2] == "Renamed"


@pytest.mark.parametrize(
    ("mask", "reason"),
    [
        pytest.param(0, NO_PERMISSIONS, id="zero"),
        pytest.param(1 << 17, BAD_PERMISSION, id="id-17"),
        pytest.param(ALL_IDS + 1, BAD_PERMISSION, id="all-plus-one"),
        pytest.param(2**32 - 1, BAD_PERMISSION, id="every-bit"),
    ],
)
def test_permission_mask_out_of_range_is_refused(
    permissions: Contract, provider: str, reverts: Any, mask: int, reason: str
) -> None:
    with reverts(reason):
        permissions.functions.setService(NAME, URL, mask).transact({"from": provider})
    assert get_service(permissions, provider)[-1] is False


def test_every_known_permission_id_is_accepted(
    permissions: Contract, provider: str, tx: Tx
) -> None:
    tx(permissions.functions.setService(NAME, URL, ALL_IDS), provider)
    assert get_service(permissions, provider)[4] == ALL_IDS
    tx(permissions.functions.setService(NAME, URL, 1 << 16), provider)
    assert get_service(permissions, provider)[4] == 1 << 16


@pytest.mark.parametrize(
    ("name", "url", "reason"),
    [
        pytest.param("", URL, BAD_NAME, id="empty-name"),
        pytest.param("x" * 65, URL, BAD_NAME, id="long-name"),
        pytest.param(NAME, "", BAD_URL, id="empty-url"),
        pytest.param(NAME, "ftp://pay.example", BAD_URL, id="ftp"),
        pytest.param(NAME, "https://", BAD_URL, id="scheme-only"),
        pytest.param(NAME, "https://" + "a" * 246, BAD_URL, id="long-url"),
    ],
)
def test_service_name_and_url_are_checked(
    permissions: Contract, provider: str, reverts: Any, name: str, url: str, reason: str
) -> None:
    with reverts(reason):
        permissions.functions.setService(name, url, FORWARD_ALL).transact({"from": provider})


def test_name_and_url_at_their_limits_are_accepted(
    permissions: Contract, provider: str, tx: Tx
) -> None:
    url = "https://" + "a" * 245
    tx(permissions.functions.setService("x" * 64, url, FORWARD_ALL), provider)
    assert get_service(permissions, provider)[2:4] == ["x" * 64, url]


def test_a_provider_needs_a_registry_listing(
    permissions: Contract, accounts: list[str], reverts: Any
) -> None:
    with reverts(PROVIDER_UNLISTED_SET):
        permissions.functions.setService(NAME, URL, FORWARD_ALL).transact({"from": accounts[6]})


def test_delete_service_removes_it(
    permissions: Contract, service: str, tx: Tx, perm_events: Events
) -> None:
    receipt = tx(permissions.functions.deleteService(), service)
    assert perm_events(receipt, "ServiceDeleted") == [{"provider": service}]
    [log] = receipt["logs"]
    assert [bytes(t) for t in log["topics"]] == [
        topic0(permissions, "ServiceDeleted"),
        topic_address(service),
    ]
    assert get_service(permissions, service) == [b"CH", b"SRV", "", "", 0, False]
    assert permissions.functions.serviceCount().call() == 0
    assert permissions.functions.listServices(0, 10).call() == []


def test_delete_service_without_one_is_refused(
    permissions: Contract, provider: str, service: str, tx: Tx, reverts: Any
) -> None:
    tx(permissions.functions.deleteService(), service)
    with reverts(NO_SERVICE_TO_DELETE):
        permissions.functions.deleteService().transact({"from": service})


def test_a_service_set_again_after_deletion_is_listed_once(
    permissions: Contract, service: str, tx: Tx
) -> None:
    tx(permissions.functions.deleteService(), service)
    tx(permissions.functions.setService(NAME, URL, CDRS_SENDER), service)
    assert permissions.functions.serviceCount().call() == 1
    assert [r[0] for r in permissions.functions.listServices(0, 10).call()] == [service]


def test_services_list_in_pages_and_stay_dense_after_deletions(
    permissions: Contract, registry: Contract, accounts: list[str], operator: str, tx: Tx
) -> None:
    providers = accounts[4:9]
    for i, account in enumerate(providers):
        list_party(registry, tx, account, operator, b"NL", f"P{i}0".encode())
        tx(permissions.functions.setService(f"S{i}", URL, FORWARD_ALL), account)
    tx(permissions.functions.deleteService(), providers[1])
    count = permissions.functions.serviceCount().call()
    assert count == 4
    paged = []
    for offset in range(0, 6, 2):
        paged += [r[0] for r in permissions.functions.listServices(offset, 2).call()]
    assert sorted(paged) == sorted(a for a in providers if a != providers[1])
    assert permissions.functions.listServices(10, 5).call() == []
    assert len(permissions.functions.listServices(0, 2**256 - 1).call()) == 4


def test_service_credentials_follow_the_registry(
    permissions: Contract, registry: Contract, service: str, operator: str, tx: Tx
) -> None:
    list_party(registry, tx, service, operator, b"CH", b"NEW")
    assert get_service(permissions, service)[:2] == [b"CH", b"NEW"]
    tx(registry.functions.deleteParty(), service)
    # Unlisted: no credentials, but the service stays (the provider may still delete it).
    assert get_service(permissions, service) == [b"\x00\x00", b"\x00\x00\x00", NAME, URL, 1, True]
    tx(permissions.functions.deleteService(), service)
    assert permissions.functions.serviceCount().call() == 0


# ================================================================ agreements


def test_create_agreement_is_seen_by_every_view(
    permissions: Contract, service: str, user: str, tx: Tx, perm_events: Events
) -> None:
    receipt = tx(permissions.functions.createAgreement(service), user)
    assert perm_events(receipt, "AgreementCreated") == [{"user": user, "provider": service}]
    [log] = receipt["logs"]
    assert [bytes(t) for t in log["topics"]] == [
        topic0(permissions, "AgreementCreated"),
        topic_address(user),
        topic_address(service),
    ]
    assert has(permissions, user, service)
    assert permissions.functions.hasAgreementByOcpi(b"DE", b"MSP", service).call()
    assert agreements_of(permissions, user) == [service]
    assert services_of(permissions, b"DE", b"MSP") == [listing(service, b"CH", b"SRV")]
    # Agreements run one way.
    assert not has(permissions, service, user)
    assert services_of(permissions, b"CH", b"SRV") == []


def test_agreement_events_can_be_filtered_by_user_and_by_provider(
    w3: Web3, permissions: Contract, agreed: str, service: str
) -> None:
    created = topic0(permissions, "AgreementCreated")
    for topic_list in ([created, topic_address(agreed)], [created, None, topic_address(service)]):
        logs = w3.eth.get_logs(
            {
                "address": permissions.address,
                "fromBlock": 0,
                "topics": ["0x" + t.hex() if t else None for t in topic_list],
            }
        )
        assert len(logs) == 1


def test_a_user_needs_a_registry_listing(
    permissions: Contract, service: str, accounts: list[str], reverts: Any
) -> None:
    with reverts(USER_UNLISTED):
        permissions.functions.createAgreement(service).transact({"from": accounts[6]})


def test_a_provider_cannot_agree_to_its_own_service(
    permissions: Contract, service: str, reverts: Any
) -> None:
    with reverts(OWN_SERVICE):
        permissions.functions.createAgreement(service).transact({"from": service})


def test_an_agreement_needs_a_service(
    permissions: Contract, provider: str, user: str, reverts: Any
) -> None:
    with reverts(NO_SERVICE):
        permissions.functions.createAgreement(provider).transact({"from": user})
    with reverts(NO_SERVICE):
        permissions.functions.createAgreement(ZERO).transact({"from": user})


def test_an_agreement_needs_a_listed_provider(
    permissions: Contract, registry: Contract, service: str, user: str, tx: Tx, reverts: Any
) -> None:
    tx(registry.functions.deleteParty(), service)
    with reverts(PROVIDER_UNLISTED):
        permissions.functions.createAgreement(service).transact({"from": user})


def test_duplicate_agreement_is_refused(
    permissions: Contract, agreed: str, service: str, reverts: Any
) -> None:
    with reverts(DUPLICATE):
        permissions.functions.createAgreement(service).transact({"from": agreed})
    assert agreements_of(permissions, agreed) == [service]


def test_revoke_really_removes_the_agreement(
    permissions: Contract, agreed: str, service: str, tx: Tx, perm_events: Events
) -> None:
    receipt = tx(permissions.functions.revokeAgreement(service), agreed)
    assert perm_events(receipt, "AgreementRevoked") == [{"user": agreed, "provider": service}]
    [log] = receipt["logs"]
    assert [bytes(t) for t in log["topics"]] == [
        topic0(permissions, "AgreementRevoked"),
        topic_address(agreed),
        topic_address(service),
    ]
    assert topic0(permissions, "AgreementRevoked") != topic0(permissions, "AgreementCreated")
    assert not has(permissions, agreed, service)
    assert not permissions.functions.hasAgreementByOcpi(b"DE", b"MSP", service).call()
    assert agreements_of(permissions, agreed) == []
    assert services_of(permissions, b"DE", b"MSP") == []


def test_revoke_then_agree_again_gives_one_entry(
    permissions: Contract, agreed: str, service: str, tx: Tx
) -> None:
    tx(permissions.functions.revokeAgreement(service), agreed)
    tx(permissions.functions.createAgreement(service), agreed)
    assert agreements_of(permissions, agreed) == [service]
    assert services_of(permissions, b"DE", b"MSP") == [listing(service, b"CH", b"SRV")]
    tx(permissions.functions.revokeAgreement(service), agreed)
    assert agreements_of(permissions, agreed) == []


def test_revoke_without_an_agreement_is_refused(
    permissions: Contract, agreed: str, service: str, user: str, tx: Tx, reverts: Any
) -> None:
    tx(permissions.functions.revokeAgreement(service), agreed)
    with reverts(NO_AGREEMENT):
        permissions.functions.revokeAgreement(service).transact({"from": agreed})
    with reverts(NO_AGREEMENT):
        permissions.functions.revokeAgreement(user).transact({"from": service})


def test_revoking_one_of_several_keeps_the_others(
    permissions: Contract,
    registry: Contract,
    accounts: list[str],
    operator: str,
    user: str,
    tx: Tx,
) -> None:
    providers = accounts[4:8]
    for i, account in enumerate(providers):
        list_party(registry, tx, account, operator, b"NL", f"S{i}0".encode())
        tx(permissions.functions.setService(NAME, URL, FORWARD_ALL), account)
        tx(permissions.functions.createAgreement(account), user)
    tx(permissions.functions.revokeAgreement(providers[0]), user)  # the first: swapped with last
    tx(permissions.functions.revokeAgreement(providers[2]), user)
    kept = {providers[1], providers[3]}
    assert set(agreements_of(permissions, user)) == kept
    assert {row[0] for row in services_of(permissions, b"DE", b"MSP")} == kept
    # Each remaining one can still be revoked: the moved entry's slot was kept up to date.
    for account in kept:
        tx(permissions.functions.revokeAgreement(account), user)
    assert agreements_of(permissions, user) == []
    tx(permissions.functions.createAgreement(providers[2]), user)
    assert agreements_of(permissions, user) == [providers[2]]


def test_services_of_party_carries_each_providers_credentials_and_mask(
    permissions: Contract,
    registry: Contract,
    accounts: list[str],
    operator: str,
    service: str,
    agreed: str,
    tx: Tx,
) -> None:
    other = accounts[4]
    list_party(registry, tx, other, operator, b"NL", b"SRV")
    tx(permissions.functions.setService(NAME, URL, CDRS_SENDER | SESSIONS_RECEIVER), other)
    tx(permissions.functions.createAgreement(other), agreed)
    assert sorted(services_of(permissions, b"DE", b"MSP")) == sorted(
        [
            listing(service, b"CH", b"SRV"),
            listing(other, b"NL", b"SRV", CDRS_SENDER | SESSIONS_RECEIVER),
        ]
    )
    assert services_of(permissions, b"XX", b"XXX") == []
    assert not permissions.functions.hasAgreementByOcpi(b"XX", b"XXX", service).call()


def test_a_deleted_service_leaves_every_view(
    permissions: Contract, agreed: str, service: str, tx: Tx
) -> None:
    tx(permissions.functions.deleteService(), service)
    assert not has(permissions, agreed, service)
    assert not permissions.functions.hasAgreementByOcpi(b"DE", b"MSP", service).call()
    assert agreements_of(permissions, agreed) == []
    assert services_of(permissions, b"DE", b"MSP") == []


def test_a_service_set_again_does_not_revive_old_agreements(
    permissions: Contract, agreed: str, service: str, tx: Tx, reverts: Any
) -> None:
    tx(permissions.functions.deleteService(), service)
    tx(permissions.functions.setService(NAME, URL, FORWARD_ALL), service)
    assert not has(permissions, agreed, service)
    assert services_of(permissions, b"DE", b"MSP") == []
    # The user may agree to the new service: its lapsed entry is reused, not duplicated.
    tx(permissions.functions.createAgreement(service), agreed)
    assert agreements_of(permissions, agreed) == [service]
    with reverts(DUPLICATE):
        permissions.functions.createAgreement(service).transact({"from": agreed})


def test_a_lapsed_agreement_can_be_revoked(
    permissions: Contract, agreed: str, service: str, tx: Tx, perm_events: Events
) -> None:
    tx(permissions.functions.deleteService(), service)
    receipt = tx(permissions.functions.revokeAgreement(service), agreed)
    assert perm_events(receipt, "AgreementRevoked") == [{"user": agreed, "provider": service}]
    tx(permissions.functions.setService(NAME, URL, FORWARD_ALL), service)
    tx(permissions.functions.createAgreement(service), agreed)
    assert agreements_of(permissions, agreed) == [service]


def test_wider_permissions_need_the_users_consent_again(
    permissions: Contract, agreed: str, service: str, tx: Tx
) -> None:
    tx(permissions.functions.setService(NAME, URL, FORWARD_ALL | CDRS_SENDER), service)
    assert not has(permissions, agreed, service)
    assert services_of(permissions, b"DE", b"MSP") == []
    tx(permissions.functions.createAgreement(service), agreed)
    assert services_of(permissions, b"DE", b"MSP") == [
        listing(service, b"CH", b"SRV", FORWARD_ALL | CDRS_SENDER)
    ]


def test_narrower_permissions_or_a_new_name_keep_agreements(
    permissions: Contract, service: str, user: str, tx: Tx
) -> None:
    tx(permissions.functions.setService(NAME, URL, FORWARD_ALL | CDRS_SENDER), service)
    tx(permissions.functions.createAgreement(service), user)
    tx(permissions.functions.setService("Renamed", URL + "/v2", CDRS_SENDER), service)
    assert has(permissions, user, service)
    assert services_of(permissions, b"DE", b"MSP") == [
        (service, b"CH", b"SRV", "Renamed", URL + "/v2", CDRS_SENDER)
    ]


def test_an_unlisted_provider_is_skipped_and_returns_when_listed_again(
    permissions: Contract,
    registry: Contract,
    agreed: str,
    service: str,
    operator: str,
    tx: Tx,
) -> None:
    tx(registry.functions.deleteParty(), service)
    assert not has(permissions, agreed, service)
    assert services_of(permissions, b"DE", b"MSP") == []
    assert agreements_of(permissions, agreed) == []
    list_party(registry, tx, service, operator, b"CH", b"SRV")
    assert services_of(permissions, b"DE", b"MSP") == [listing(service, b"CH", b"SRV")]


def test_an_unlisted_user_keeps_its_agreements_but_cannot_be_found_by_credentials(
    permissions: Contract,
    registry: Contract,
    agreed: str,
    service: str,
    operator: str,
    tx: Tx,
) -> None:
    tx(registry.functions.deleteParty(), agreed)
    assert services_of(permissions, b"DE", b"MSP") == []
    assert has(permissions, agreed, service)
    # It may still withdraw consent.
    tx(permissions.functions.revokeAgreement(service), agreed)
    assert agreements_of(permissions, agreed) == []


# ================================================================ signed variants


class Signed:
    """Signed permissions calls for one signer, ready to be sent by any relayer."""

    def __init__(self, permissions: Contract, sign: Signer, key: bytes, deadline: int) -> None:
        self.permissions = permissions
        self.sign = sign
        self.key = key
        self.address = Account.from_key(key).address
        self.deadline = deadline

    def set_service(
        self,
        name: str = NAME,
        url: str = URL,
        mask: int = FORWARD_ALL,
        signature: bytes | None = None,
        **options: Any,
    ) -> ContractFunction:
        """The call carrying `signature`, else the signer's signature of these fields."""
        deadline = options.pop("deadline", self.deadline)
        if signature is None:
            signature = self.set_service_signature(name, url, mask, deadline=deadline, **options)
        return self.permissions.functions.setServiceSigned(
            self.address, name, url, mask, deadline, signature
        )

    def set_service_signature(
        self, name: str = NAME, url: str = URL, mask: int = FORWARD_ALL, **options: Any
    ) -> bytes:
        deadline = options.pop("deadline", self.deadline)
        return self.sign.set_service(self.key, self.address, name, url, mask, deadline, **options)

    def delete_service(self, **options: Any) -> ContractFunction:
        deadline = options.pop("deadline", self.deadline)
        sig = self.sign.delete_service(self.key, self.address, deadline, **options)
        return self.permissions.functions.deleteServiceSigned(self.address, deadline, sig)

    def create(self, provider: str, **options: Any) -> ContractFunction:
        deadline = options.pop("deadline", self.deadline)
        sig = self.sign.agreement(
            "CreateAgreement", self.key, self.address, provider, deadline, **options
        )
        return self.permissions.functions.createAgreementSigned(
            self.address, provider, deadline, sig
        )

    def revoke(self, provider: str, **options: Any) -> ContractFunction:
        deadline = options.pop("deadline", self.deadline)
        sig = self.sign.agreement(
            "RevokeAgreement", self.key, self.address, provider, deadline, **options
        )
        return self.permissions.functions.revokeAgreementSigned(
            self.address, provider, deadline, sig
        )


@pytest.fixture
def signed(
    permissions: Contract, sign_permissions: Signer, deadline: int
) -> Callable[[bytes], Signed]:
    return lambda key: Signed(permissions, sign_permissions, key, deadline)


def test_every_signed_variant_acts_for_the_signer_with_the_relayer_paying(
    permissions: Contract,
    provider: str,
    user: str,
    keys: dict[str, bytes],
    signed: Callable[[bytes], Signed],
    relayer: str,
    tx: Tx,
    perm_events: Events,
) -> None:
    as_provider, as_user = signed(keys[provider]), signed(keys[user])

    receipt = tx(as_provider.set_service(), relayer)
    assert perm_events(receipt, "ServiceSet")[0]["provider"] == provider
    assert get_service(permissions, provider) == [b"CH", b"SRV", NAME, URL, FORWARD_ALL, True]

    receipt = tx(as_user.create(provider), relayer)
    assert perm_events(receipt, "AgreementCreated") == [{"user": user, "provider": provider}]
    assert agreements_of(permissions, user) == [provider]

    receipt = tx(as_user.revoke(provider), relayer)
    assert perm_events(receipt, "AgreementRevoked") == [{"user": user, "provider": provider}]
    assert agreements_of(permissions, user) == []

    receipt = tx(as_provider.delete_service(), relayer)
    assert perm_events(receipt, "ServiceDeleted") == [{"provider": provider}]
    assert get_service(permissions, provider)[-1] is False

    assert (nonce(permissions, provider), nonce(permissions, user)) == (2, 2)
    assert nonce(permissions, relayer) == 0


@pytest.mark.parametrize("action", ["set_service", "delete_service", "create", "revoke"])
def test_a_replayed_signature_is_rejected(
    permissions: Contract,
    service: str,
    user: str,
    keys: dict[str, bytes],
    signed: Callable[[bytes], Signed],
    relayer: str,
    tx: Tx,
    action: str,
    rejected: Rejected,
) -> None:
    if action == "revoke":
        tx(permissions.functions.createAgreement(service), user)
    subject = user if action in ("create", "revoke") else service
    actions = signed(keys[subject])
    call = {
        "set_service": lambda: actions.set_service(),
        "delete_service": lambda: actions.delete_service(),
        "create": lambda: actions.create(service),
        "revoke": lambda: actions.revoke(service),
    }[action]()
    tx(call, relayer)
    # Put the state back so that only the used nonce stands in the way.
    undo = {
        "set_service": None,
        "delete_service": permissions.functions.setService(NAME, URL, FORWARD_ALL),
        "create": permissions.functions.revokeAgreement(service),
        "revoke": permissions.functions.createAgreement(service),
    }[action]
    if undo is not None:
        tx(undo, subject)
    rejected(call)
    assert nonce(permissions, subject) == 1


def test_an_agreement_signature_cannot_be_used_for_the_other_action(
    permissions: Contract,
    agreed: str,
    service: str,
    keys: dict[str, bytes],
    sign_permissions: Signer,
    deadline: int,
    relayer: str,
    rejected: Rejected,
) -> None:
    # Same fields, other struct type: a "create" consent never revokes and vice versa.
    create = sign_permissions.agreement("CreateAgreement", keys[agreed], agreed, service, deadline)
    rejected(permissions.functions.revokeAgreementSigned(agreed, service, deadline, create))
    assert has(permissions, agreed, service)
    revoke = sign_permissions.agreement("RevokeAgreement", keys[agreed], agreed, service, deadline)
    permissions.functions.revokeAgreementSigned(agreed, service, deadline, revoke).transact(
        {"from": relayer}
    )
    assert not has(permissions, agreed, service)
    rejected(permissions.functions.createAgreementSigned(agreed, service, deadline, revoke))


def test_a_delete_service_signature_cannot_delete_a_registry_listing(
    permissions: Contract,
    registry: Contract,
    service: str,
    keys: dict[str, bytes],
    sign_permissions: Signer,
    deadline: int,
    rejected: Rejected,
) -> None:
    signature = sign_permissions.delete_service(keys[service], service, deadline)
    rejected(registry.functions.deletePartySigned(service, deadline, signature))
    assert registry.functions.getPartyDetailsByAddress(service).call()[5] != ZERO


def test_a_registry_signature_cannot_act_on_permissions(
    permissions: Contract,
    registry: Contract,
    service: str,
    keys: dict[str, bytes],
    sign: Signer,
    sign_permissions: Signer,
    deadline: int,
    rejected: Rejected,
) -> None:
    # A DeleteParty signature of the registry, and a DeleteService one in the registry's domain.
    party = sign.delete_party(keys[service], service, deadline)
    registry_domain = sign_permissions.delete_service(
        keys[service], service, deadline, name="SCN Registry"
    )
    for signature in (party, registry_domain):
        rejected(permissions.functions.deleteServiceSigned(service, deadline, signature))
    assert get_service(permissions, service)[-1] is True


def test_a_signature_for_another_permissions_contract_is_rejected(
    permissions: Contract,
    registry: Contract,
    deploy_permissions: Callable[[str], Contract],
    provider: str,
    keys: dict[str, bytes],
    sign_permissions: Signer,
    deadline: int,
    relayer: str,
    tx: Tx,
    rejected: Rejected,
) -> None:
    other = deploy_permissions(registry.address)
    signature = sign_permissions.set_service(
        keys[provider], provider, NAME, URL, FORWARD_ALL, deadline, verifying_contract=other.address
    )
    call = permissions.functions.setServiceSigned(
        provider, NAME, URL, FORWARD_ALL, deadline, signature
    )
    rejected(call)
    tx(
        other.functions.setServiceSigned(provider, NAME, URL, FORWARD_ALL, deadline, signature),
        relayer,
    )
    assert other.functions.getService(provider).call()[-1] is True
    rejected(call)
    assert get_service(permissions, provider)[-1] is False


def test_a_signature_for_another_chain_is_rejected(
    w3: Web3,
    permissions: Contract,
    provider: str,
    keys: dict[str, bytes],
    signed: Callable[[bytes], Signed],
    rejected: Rejected,
) -> None:
    for chain_id in (1, 9, w3.eth.chain_id + 1):
        rejected(signed(keys[provider]).set_service(chain_id=chain_id))
    assert nonce(permissions, provider) == 0


def test_a_set_service_signature_binds_every_field(
    permissions: Contract,
    provider: str,
    keys: dict[str, bytes],
    signed: Callable[[bytes], Signed],
    rejected: Rejected,
) -> None:
    as_provider = signed(keys[provider])
    signature = as_provider.set_service_signature(mask=CDRS_SENDER)
    for name, url, mask in [
        (NAME, URL, FORWARD_ALL),
        ("Other", URL, CDRS_SENDER),
        (NAME, "https://evil.example", CDRS_SENDER),
    ]:
        rejected(as_provider.set_service(name, url, mask, signature=signature))
    assert get_service(permissions, provider)[-1] is False


def test_an_agreement_signature_binds_the_provider(
    permissions: Contract,
    registry: Contract,
    accounts: list[str],
    operator: str,
    service: str,
    user: str,
    keys: dict[str, bytes],
    sign_permissions: Signer,
    deadline: int,
    tx: Tx,
    rejected: Rejected,
) -> None:
    other = accounts[4]
    list_party(registry, tx, other, operator, b"NL", b"SRV")
    tx(permissions.functions.setService(NAME, URL, FORWARD_ALL), other)
    signature = sign_permissions.agreement("CreateAgreement", keys[user], user, service, deadline)
    rejected(permissions.functions.createAgreementSigned(user, other, deadline, signature))
    assert agreements_of(permissions, user) == []


@pytest.mark.parametrize("action", ["set_service", "delete_service", "create", "revoke"])
def test_an_expired_signature_is_rejected(
    permissions: Contract,
    agreed: str,
    service: str,
    keys: dict[str, bytes],
    signed: Callable[[bytes], Signed],
    now: Callable[[], int],
    relayer: str,
    reverts: Any,
    action: str,
) -> None:
    expired = now() - 1
    subject = agreed if action in ("create", "revoke") else service
    actions = signed(keys[subject])
    call = {
        "set_service": lambda: actions.set_service("New", deadline=expired),
        "delete_service": lambda: actions.delete_service(deadline=expired),
        "create": lambda: actions.create(service, deadline=expired),
        "revoke": lambda: actions.revoke(service, deadline=expired),
    }[action]()
    with reverts(EXPIRED):
        call.transact({"from": relayer})
    assert nonce(permissions, subject) == 0
    assert get_service(permissions, service)[2] == NAME
    assert has(permissions, agreed, service)


@pytest.mark.parametrize("junk", list(junk_signatures(bytes(65))))
def test_a_junk_signature_is_rejected(
    permissions: Contract,
    provider: str,
    keys: dict[str, bytes],
    signed: Callable[[bytes], Signed],
    rejected: Rejected,
    junk: str,
) -> None:
    as_provider = signed(keys[provider])
    good = as_provider.set_service_signature()
    rejected(as_provider.set_service(signature=junk_signatures(good)[junk]))
    assert nonce(permissions, provider) == 0


def test_v_as_0_or_1_is_accepted(
    permissions: Contract,
    provider: str,
    keys: dict[str, bytes],
    signed: Callable[[bytes], Signed],
    relayer: str,
    tx: Tx,
) -> None:
    as_provider = signed(keys[provider])
    r, s, v = sig_parts(as_provider.set_service_signature())
    tx(as_provider.set_service(signature=pack_sig(r, s, v - 27)), relayer)
    assert get_service(permissions, provider)[-1] is True


def test_the_zero_address_never_acts(
    permissions: Contract,
    service: str,
    deadline: int,
    rejected: Rejected,
) -> None:
    for signature in (bytes(65), pack_sig(0, 0, 27), pack_sig(1, 1, 0), b""):
        calls = [
            permissions.functions.setServiceSigned(
                ZERO, NAME, URL, FORWARD_ALL, deadline, signature
            ),
            permissions.functions.deleteServiceSigned(ZERO, deadline, signature),
            permissions.functions.createAgreementSigned(ZERO, service, deadline, signature),
            permissions.functions.revokeAgreementSigned(ZERO, service, deadline, signature),
        ]
        for call in calls:
            rejected(call)
    assert get_service(permissions, ZERO)[-1] is False
    assert agreements_of(permissions, ZERO) == []


def test_the_high_s_twin_is_rejected(
    provider: str,
    keys: dict[str, bytes],
    sign_permissions: Signer,
    signed: Callable[[bytes], Signed],
    deadline: int,
    relayer: str,
    tx: Tx,
    rejected: Rejected,
) -> None:
    message = {
        "provider": provider,
        "name": NAME,
        "url": URL,
        "permissions": FORWARD_ALL,
        "nonce": 0,
        "deadline": deadline,
    }
    signable = encode_typed_data(full_message=sign_permissions.typed_data("SetService", message))
    good = Account.sign_message(signable, keys[provider]).signature
    r, s, v = sig_parts(good)
    twin = pack_sig(r, SECP256K1_N - s, 55 - v)
    assert Account.recover_message(signable, signature=twin) == provider
    as_provider = signed(keys[provider])
    rejected(as_provider.set_service(signature=twin))
    tx(as_provider.set_service(signature=good), relayer)


def test_a_signature_by_someone_else_is_rejected(
    permissions: Contract,
    agreed: str,
    service: str,
    keys: dict[str, bytes],
    sign_permissions: Signer,
    deadline: int,
    rejected: Rejected,
) -> None:
    # The provider cannot revoke its users' agreements, nor anyone sign for the provider.
    revoke = sign_permissions.agreement("RevokeAgreement", keys[service], agreed, service, deadline)
    rejected(permissions.functions.revokeAgreementSigned(agreed, service, deadline, revoke))
    delete = sign_permissions.delete_service(keys[agreed], service, deadline)
    rejected(permissions.functions.deleteServiceSigned(service, deadline, delete))
    assert has(permissions, agreed, service)


def test_a_future_nonce_is_rejected(
    permissions: Contract,
    provider: str,
    keys: dict[str, bytes],
    signed: Callable[[bytes], Signed],
    rejected: Rejected,
) -> None:
    rejected(signed(keys[provider]).set_service(nonce=1))


def test_a_signed_call_with_bad_input_reverts_with_its_reason_and_keeps_the_nonce(
    permissions: Contract,
    provider: str,
    user: str,
    keys: dict[str, bytes],
    signed: Callable[[bytes], Signed],
    relayer: str,
    reverts: Any,
) -> None:
    with reverts(NO_PERMISSIONS):
        signed(keys[provider]).set_service(mask=0).transact({"from": relayer})
    with reverts(BAD_PERMISSION):
        signed(keys[provider]).set_service(mask=1 << 17).transact({"from": relayer})
    with reverts(NO_SERVICE):
        signed(keys[user]).create(provider).transact({"from": relayer})
    with reverts(NO_AGREEMENT):
        signed(keys[user]).revoke(provider).transact({"from": relayer})
    assert nonce(permissions, provider) == nonce(permissions, user) == 0


# ================================================================ EIP-712 domain


def test_the_domain_separator_matches_eth_account(
    w3: Web3, permissions: Contract, sign_permissions: Signer
) -> None:
    expected = keccak(
        keccak(
            text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
        )
        + keccak(text=PERMISSIONS_DOMAIN_NAME)
        + keccak(text="1")
        + w3.eth.chain_id.to_bytes(32, "big")
        + bytes(12)
        + bytes.fromhex(permissions.address[2:])
    )
    assert permissions.functions.DOMAIN_SEPARATOR().call() == expected
    assert permissions.functions.eip712Domain().call() == [
        b"\x0f",
        PERMISSIONS_DOMAIN_NAME,
        "1",
        w3.eth.chain_id,
        permissions.address,
        bytes(32),
        [],
    ]


@pytest.mark.parametrize(
    ("constant", "action"),
    [
        ("SET_SERVICE_TYPEHASH", "SetService"),
        ("DELETE_SERVICE_TYPEHASH", "DeleteService"),
        ("CREATE_AGREEMENT_TYPEHASH", "CreateAgreement"),
        ("REVOKE_AGREEMENT_TYPEHASH", "RevokeAgreement"),
    ],
)
def test_typehashes_match_the_signed_struct_types(
    permissions: Contract, type_strings: dict[str, str], constant: str, action: str
) -> None:
    assert permissions.functions[constant]().call() == keccak(text=type_strings[action])
