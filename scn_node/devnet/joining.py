"""Joining a node, as a party does it: a registry listing with the node's operator, a TOKEN_A
from the node's admin API, then the credentials handshake (versions and details read with
TOKEN_A, our credentials POSTed, TOKEN_C kept). The demo CPOs, the tests and the benchmarks all
join this way; each step is narrated on the `scn_node.devnet.demo` logger."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from eth_account.signers.local import LocalAccount

from scn_node.registry import RegistryContract
from scn_node.scpi.party import PartyId, Role
from scn_node.scpi.status import ScpiStatus

log = logging.getLogger("scn_node.devnet.demo")
VERSION = "2.2"


class RegistrationFailed(RuntimeError):
    """A party could not join its node; the message says at which step."""


@dataclass(frozen=True)
class Joined:
    """What a party keeps from the handshake."""

    token_c: str
    credentials_url: str


async def join(
    session: aiohttp.ClientSession,
    node_url: str,
    *,
    credentials: dict[str, Any],
    admin_key: str,
    registry: RegistryContract,
    signer: LocalAccount,
    party: PartyId,
    roles: Sequence[Role],
    label: str = "",
) -> Joined:
    """List `party` in the registry with the node's operator, get a TOKEN_A and complete the
    credentials handshake with `credentials` (the party's own, with its TOKEN_B)."""
    label = label or str(party)
    node_url = node_url.rstrip("/")
    log.info("%s asking %s for its node info", label, node_url)
    info = await get_json(session, f"{node_url}/scn/registry/node-info", label=label)
    operator = str(info["address"])
    log.info("%s node %s is operated by %s", label, info.get("url", node_url), operator)
    await list_party(registry, signer, party, roles, operator, label=label)
    token_a, versions_url = await registration_token(session, node_url, admin_key, label=label)
    return await handshake(session, versions_url, token_a, credentials, label=label)


async def list_party(
    registry: RegistryContract,
    signer: LocalAccount,
    party: PartyId,
    roles: Sequence[Role],
    operator: str,
    *,
    label: str = "",
) -> None:
    """`set-party` with `operator`, unless the registry already lists it so."""
    label = label or str(party)
    listed = await registry.get_party(party)
    if (
        listed is not None
        and listed.address.lower() == signer.address.lower()
        and listed.operator.lower() == operator.lower()
        and set(roles) <= set(listed.roles)
    ):
        log.info("%s already listed in the SCN Registry with that node", label)
        return
    names = " ".join(f"-r {role.value}" for role in roles)
    log.info(
        "%s listing itself in the SCN Registry: set-party -c %s %s %s -o %s (signer %s)",
        label,
        party.country_code,
        party.party_id,
        names,
        operator,
        signer.address,
    )
    receipt = await registry.set_party(signer, party, list(roles), operator)
    log.info(
        "%s listed in the SCN Registry (transaction %s, block %d)",
        label,
        receipt.tx_hash,
        receipt.block_number,
    )


async def registration_token(
    session: aiohttp.ClientSession,
    node_url: str,
    admin_key: str,
    roles: list[dict[str, str]] | None = None,
    *,
    label: str = "",
) -> tuple[str, str]:
    """A TOKEN_A from the node's admin API (for `roles`, when given) and the versions URL to
    use it at."""
    node_url = node_url.rstrip("/")
    log.info("%s asking the node's admin API for a registration token (TOKEN_A)", label)
    async with session.post(
        f"{node_url}/admin/generate-registration-token",
        headers={"Authorization": f"Token {admin_key}"},
        json=roles,
    ) as response:
        text = await response.text()
    if response.status != 200:
        raise RegistrationFailed(
            f"{label}: generate-registration-token answered {response.status}: {text}"
        )
    generated = json.loads(text)
    return str(generated["token"]), str(generated.get("versions") or f"{node_url}/scpi/versions")


async def handshake(
    session: aiohttp.ClientSession,
    versions_url: str,
    token_a: str,
    credentials: dict[str, Any],
    *,
    label: str = "",
    version: str = VERSION,
) -> Joined:
    """GET versions and `version`'s details with TOKEN_A, POST `credentials`: the TOKEN_C."""
    auth = {"Authorization": f"Token {token_a}"}
    log.info("%s GET %s (versions, with TOKEN_A)", label, versions_url)
    versions = await scpi_data(session, versions_url, auth, label=label)
    details_url = next((str(v["url"]) for v in versions if v.get("version") == version), None)
    if details_url is None:
        raise RegistrationFailed(f"{label}: the node offers no SCPI {version}: {versions}")
    log.info("%s GET %s (version %s details)", label, details_url, version)
    details = await scpi_data(session, details_url, auth, label=label)
    credentials_url = next(
        (str(e["url"]) for e in details["endpoints"] if e.get("identifier") == "credentials"),
        None,
    )
    if credentials_url is None:
        raise RegistrationFailed(f"{label}: the node has no credentials endpoint")
    log.info(
        "%s POST %s (our credentials; the node will now fetch our versions and details)",
        label,
        credentials_url,
    )
    async with session.post(credentials_url, headers=auth, json=credentials) as response:
        text = await response.text()
    answer = json_or_none(text)
    if (
        response.status != 200
        or not isinstance(answer, dict)
        or answer.get("status_code") != ScpiStatus.SUCCESS
    ):
        raise RegistrationFailed(f"{label}: credentials POST answered {response.status}: {text}")
    log.info("%s registered with the node: TOKEN_C saved", label)
    return Joined(str(answer["data"]["token"]), credentials_url)


async def get_json(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str] | None = None,
    *,
    label: str = "",
) -> Any:
    async with session.get(url, headers=headers) as response:
        text = await response.text()
    if response.status != 200:
        raise RegistrationFailed(f"{label}: GET {url} answered {response.status}: {text}")
    return json.loads(text)


async def scpi_data(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], *, label: str = ""
) -> Any:
    answer = await get_json(session, url, headers, label=label)
    if answer.get("status_code") != ScpiStatus.SUCCESS:
        raise RegistrationFailed(f"{label}: GET {url} answered {answer}")
    return answer["data"]


def json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
