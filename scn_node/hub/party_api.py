"""The node as a client of a party's own SCPI API: its versions and the endpoints of the best
version both speak (2.2.1, then 2.2), and its credentials endpoint (the node's side of a
handshake or rotation it starts)."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Sequence

from scn_node.hub.model import OutboundRequest, PartyResponse
from scn_node.hub.ports import Transport
from scn_node.scpi.authorization import TokenForm, authorization
from scn_node.scpi.credentials import Credentials, credentials_from, node_credentials
from scn_node.scpi.envelope import decode
from scn_node.scpi.errors import (
    ConnectionProblem,
    InvalidParameters,
    MalformedJson,
    ReceiverTimeout,
    ScpiError,
    UnableToUseClientApi,
)
from scn_node.scpi.headers import CORRELATION_ID, REQUEST_ID
from scn_node.scpi.party import ModuleId
from scn_node.scpi.status import ScpiStatus
from scn_node.scpi.versions import (
    Endpoint,
    InterfaceRole,
    VersionDetails,
    parse_details,
    pick_version,
)


class PartyApi:
    """`versions_url`: this node's, as its credentials name it."""

    def __init__(self, transport: Transport, versions_url: str) -> None:
        self.transport = transport
        self.versions_url = versions_url

    async def endpoints(
        self, versions_url: str, token: str, form: TokenForm = TokenForm.PLAIN
    ) -> tuple[VersionDetails, TokenForm]:
        """A party's endpoints of the version picked, read with `token`, and the token form it
        accepted. The node calls the party only at these: a 2.2.1 party at its 2.2.1 ones."""
        versions, form = await self._get(versions_url, token, form)
        version = pick_version(versions, versions_url)
        details, form = await self._get(version.url, token, form)
        return parse_details(details, version.url, version.version), form

    async def send_credentials(
        self, method: str, url: str, token: str, form: TokenForm, token_c: str
    ) -> Credentials:
        """Send the node's credentials (holding `token_c`) to a party's credentials endpoint
        with `token`; the party's credentials it answers with."""
        body = json.dumps(node_credentials(token_c, self.versions_url)).encode()
        headers = {**_headers(token, form), "Content-Type": "application/json"}
        try:
            response = await self.transport.send(OutboundRequest(method, url, headers, body))
        except (ReceiverTimeout, ConnectionProblem) as error:
            raise UnableToUseClientApi(
                f"Could not {method} credentials to {url}: {error.message}"
            ) from None
        data = _answer(url, response.status, response.body)
        try:
            return credentials_from(data)
        except InvalidParameters as error:
            raise UnableToUseClientApi(f"{url} answered with {error.message}") from None

    async def withdraw(self, url: str, token: str, form: TokenForm) -> None:
        """Tell a party the node did not keep the credentials it answered with (DELETE).
        Best effort: the party's next call with its TOKEN_C is refused anyway."""
        with contextlib.suppress(ScpiError):
            await self.transport.send(OutboundRequest("DELETE", url, _headers(token, form)))

    async def _get(self, url: str, token: str, form: TokenForm) -> tuple[object, TokenForm]:
        """GET an SCPI resource of the party, learning which token form it accepts."""
        response = await self._send_get(url, token, form)
        if response.status == 401:  # the party may expect the other token form
            form = TokenForm.PLAIN if form is TokenForm.BASE64 else TokenForm.BASE64
            response = await self._send_get(url, token, form)
        return _answer(url, response.status, response.body), form

    async def _send_get(self, url: str, token: str, form: TokenForm) -> PartyResponse:
        try:
            return await self.transport.send(OutboundRequest("GET", url, _headers(token, form)))
        except (ReceiverTimeout, ConnectionProblem) as error:
            raise UnableToUseClientApi(f"Could not fetch {url}: {error.message}") from None


def credentials_url(endpoints: Sequence[Endpoint], versions_url: str) -> str:
    for interface in (InterfaceRole.SENDER, InterfaceRole.RECEIVER):
        for endpoint in endpoints:
            if endpoint.identifier == ModuleId.CREDENTIALS and endpoint.role is interface:
                return endpoint.url
    raise UnableToUseClientApi(f"The endpoints at {versions_url} hold no credentials endpoint")


def _headers(token: str, form: TokenForm) -> dict[str, str]:
    return {
        "Authorization": authorization(token, form),
        REQUEST_ID: str(uuid.uuid4()),
        CORRELATION_ID: str(uuid.uuid4()),
    }


def _answer(url: str, status: int, body: bytes) -> object:
    """The data of a party's successful SCPI answer; UnableToUseClientApi for anything else."""
    if status != 200:
        raise UnableToUseClientApi(f"{url} answered HTTP {status}")
    try:
        envelope = decode(body)
    except MalformedJson:
        raise UnableToUseClientApi(f"{url} did not answer with JSON") from None
    if not isinstance(envelope, dict) or envelope.get("status_code") != ScpiStatus.SUCCESS:
        code = envelope.get("status_code") if isinstance(envelope, dict) else None
        raise UnableToUseClientApi(f"{url} answered status_code {code}, not 1000")
    return envelope.get("data")
