"""The custom configuration module `scnrules`: a party reads and changes its own rules.

TOKEN_C only, no routing headers (a configuration module, like OCN's ocnrules). Every answer,
success or not, is the party's rules as they now stand (`data`) or an SCPI error; a change is
saved whole, in one write, or not at all.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable

from aiohttp import web

from scn_node.hub.ports import TokenKind
from scn_node.hub.rules import (
    ListKind,
    PartyRules,
    parse_entries,
    parse_entry,
    parse_signatures,
)
from scn_node.scpi.envelope import decode, envelope
from scn_node.scpi.errors import InvalidParameters, Unauthorized
from scn_node.scpi.party import InvalidPartyId, PartyId
from scn_node.web.handlers import _body, _caller, _state
from scn_node.web.middlewares import json_response

Change = Callable[[PartyRules, bytes], PartyRules]  # the rules as they stand, the body

# One change at a time per app: each reads the rules the one before it saved, so two changes
# at once cannot lose one of them. Changes are rare; parties do not wait on each other long.
_changing: weakref.WeakKeyDictionary[web.Application, asyncio.Lock] = weakref.WeakKeyDictionary()


def _reply(rules: PartyRules) -> web.Response:
    return json_response(envelope(rules.to_json()))


def _list(request: web.Request) -> ListKind:
    return ListKind(request.match_info["list"])  # the route admits only the two names


async def _change(request: web.Request, change: Change) -> web.Response:
    await _caller(request, TokenKind.C)  # an unknown token is refused before the body is read
    body = await _body(request)
    async with _changing.setdefault(request.app, asyncio.Lock()):
        # Authenticated again inside the lock: the rules as the change before this one left them.
        caller = await _caller(request, TokenKind.C)
        rules = change(caller.platform.rules, body)
        saved = await _state(request).directory.set_rules(caller.platform.id, caller.token, rules)
    if saved is None:
        raise Unauthorized("The credentials token was replaced meanwhile; nothing was changed")
    return _reply(saved.rules)


async def show(request: web.Request) -> web.Response:
    """GET: `{"signatures", "whitelist": {"active", "list"}, "blacklist": {"active", "list"}}`."""
    caller = await _caller(request, TokenKind.C)
    return _reply(caller.platform.rules)


async def add(request: web.Request) -> web.Response:
    """POST whitelist|blacklist: one entry, `{"country_code", "party_id", "modules"?}`."""
    kind = _list(request)
    return await _change(request, lambda rules, body: rules.add(kind, parse_entry(decode(body))))


async def replace(request: web.Request) -> web.Response:
    """PUT whitelist|blacklist: the whole list; `[]` switches it off."""
    kind = _list(request)
    return await _change(
        request, lambda rules, body: rules.replace_list(kind, parse_entries(decode(body)))
    )


async def remove(request: web.Request) -> web.Response:
    """DELETE whitelist|blacklist/{country_code}/{party_id}."""
    kind = _list(request)
    try:
        party = PartyId.parse(request.match_info["country_code"], request.match_info["party_id"])
    except InvalidPartyId as error:
        raise InvalidParameters(f"Rule entry: {error}") from None
    return await _change(request, lambda rules, _body: rules.remove(kind, party))


async def signatures(request: web.Request) -> web.Response:
    """PUT signatures: `{"signatures": bool}` sets it; no body toggles it, as OCN's did."""
    return await _change(
        request,
        lambda rules, body: rules.with_signatures(
            parse_signatures(decode(body) if body.strip() else None)
        ),
    )


async def block_all(request: web.Request) -> web.Response:
    """PUT block-all: an active, empty whitelist. Only the caller's own rules change."""
    return await _change(request, lambda rules, _body: rules.block_all())
