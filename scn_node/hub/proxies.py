"""Proxies: party URLs the node hides behind its own, so a party only ever calls its own node.

A receiver's asynchronous `response_url` (in), and the `Link` and `Location` of its answers
(out), are replaced by `{node}/scpi/2.2/proxy/{uid}`. Only the party the proxy was made for may
call it, and only towards the party behind it.

A proxy whose target is the hub itself (`NODE_PARTY`) is a GET All cursor (`hub/cursor.py`):
its URL column holds where the list stands, not a party URL.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urljoin, urlsplit

from scn_node.hub.cursor import Cursor
from scn_node.hub.message import ScpiRequest
from scn_node.hub.model import Proxy
from scn_node.hub.modules import ModuleSpec, Where
from scn_node.hub.ports import Proxies
from scn_node.hub.rewrites import RESPONSE_URL, replace_member, replace_query_parameter
from scn_node.hub.signing import Signatures, body_path, params_path
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.errors import InvalidParameters, ResourceNotFound
from scn_node.scpi.headers import RoutingHeaders
from scn_node.scpi.notary import Notary
from scn_node.scpi.party import PartyId
from scn_node.scpi.versions import InterfaceRole, proxy_path

log = logging.getLogger(__name__)


class ProxyBook:
    def __init__(
        self,
        proxies: Proxies,
        signatures: Signatures,
        *,
        node_url: str,
        new_uid: Callable[[], str] = lambda: secrets.token_urlsafe(18),
    ) -> None:
        self.proxies = proxies
        self.signatures = signatures
        self.node_url = node_url
        self.new_uid = new_uid

    def url(self, uid: str, node_url: str | None = None) -> str:
        """The proxy URL of `uid` on this node (or on the node at `node_url`)."""
        return (node_url or self.node_url) + proxy_path("scpi", uid)

    async def resolve(self, uid: str, headers: RoutingHeaders) -> Proxy:
        """The proxy `uid`, if these routing headers name the party it was made for and the
        party behind it; ResourceNotFound otherwise (as if there were none)."""
        proxy = await self.proxies.proxy(uid)
        if proxy is None or (proxy.caller, proxy.target) != (headers.sender, headers.receiver):
            raise ResourceNotFound(
                f"No proxied resource {uid} from {headers.sender} to {headers.receiver}"
            )
        return proxy

    def peer_uid(self, proxy: Proxy, node_url: str) -> str:
        """The peer's own proxy uid behind one of ours: our proxy stores the peer's proxy URL."""
        prefix = self.url("", node_url)
        if not proxy.url.startswith(prefix):
            raise ResourceNotFound(
                f"The proxied resource belongs to a node that {proxy.target} no longer uses"
            )
        return proxy.url[len(prefix) :]

    async def hide_response_url(
        self, request: ScpiRequest, spec: ModuleSpec, notary: Notary | None
    ) -> ScpiRequest:
        """Give the receiver a node URL for the asynchronous result, remembering the real one.

        The mapping is saved before the request goes out: receivers may post the result
        before they answer the request itself.
        """
        where = spec.response_url.get(request.method)
        if where is None:
            return request
        uid = self.new_uid()
        proxy_url = self.url(uid)
        body, query = request.body, request.query
        if where is Where.BODY:
            body, original = replace_member(body, RESPONSE_URL, proxy_url)
            path = body_path(RESPONSE_URL)
        else:
            query, original = replace_query_parameter(query, RESPONSE_URL, proxy_url)
            path = params_path(RESPONSE_URL)
        if not original.startswith(("http://", "https://")):
            raise InvalidParameters(f"{RESPONSE_URL} must be an http(s) URL")
        headers = request.headers
        await self.proxies.save_proxy(
            Proxy(
                uid,
                headers.receiver,
                headers.sender,
                original,
                request.module,
                InterfaceRole.SENDER,
            )
        )
        hidden = replace(request, query=query, body=body)
        if notary is None:
            return hidden
        return self.signatures.resign_request(hidden, spec, notary, {path: original})

    async def proxy_for(self, request: ScpiRequest, target_url: str) -> str:
        """A node URL for `target_url`, usable only by this sender towards this receiver."""
        uid = self.new_uid()
        headers = request.headers
        await self.proxies.save_proxy(
            Proxy(
                uid, headers.sender, headers.receiver, target_url, request.module, request.interface
            )
        )
        return self.url(uid)

    async def cursor_for(self, caller: PartyId, module: str, cursor: Cursor) -> str:
        """A node URL for the next page of `caller`'s GET All of `module`: a proxy towards the
        hub holding `cursor`."""
        uid = self.new_uid()
        await self.proxies.save_proxy(
            Proxy(uid, caller, NODE_PARTY, cursor.encode(), module, InterfaceRole.SENDER)
        )
        return self.url(uid)


def target_of(base: str, reference: str, header: str, receiver: PartyId) -> str | None:
    """The http(s) URL a receiver's Link or Location names, or None (logged): the node gives
    a proxy URL to nothing else, and the sender gets the answer without that header."""
    try:
        target = urljoin(base, reference)
        parts = urlsplit(target)
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number or too big)
    except ValueError:
        log.warning("dropped the %s header of %s's answer: not a valid URL", header, receiver)
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        log.warning(
            "dropped the %s header of %s's answer: not an http(s) URL with a host", header, receiver
        )
        return None
    return target
