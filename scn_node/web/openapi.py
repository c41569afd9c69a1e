"""The node's OpenAPI 3.1 document, served at GET /openapi.json.

Built from the route table (routes.py) and the descriptions below, so it lists exactly the routes
the node serves: a route without a description fails the build, and tests/api checks the
document against the table. Paths under /ocpi and /ocn, and OCN's ocnrules paths, share the
description of their /scpi and /scn twins.

aiohttp's regex path parameters become plain `{name}` parameters with an enum or a pattern. The
routed module paths end in an optional tail (`{tail:(?:/.*)?}`): they are documented twice, as the
module's base path and as `{base}/{tail}`, where `tail` is the rest of the path (object ids).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from scn_node.scpi.envelope import encode
from scn_node.scpi.party import ModuleId, Role
from scn_node.scpi.versions import (
    VERSIONS,
    configuration_path,
    details_path,
    module_path,
    proxy_path,
    versions_path,
)
from scn_node.web.state import STATE

Schema = dict[str, Any]

OPENAPI_VERSION = "3.1.1"
PATH = "/openapi.json"

# ---------------------------------------------------------------- schemas

ENVELOPE: Schema = {
    "type": "object",
    "description": "The SCPI (OCPI 2.2) response format; errors carry a status_message.",
    "required": ["status_code", "timestamp"],
    "properties": {
        "status_code": {"type": "integer", "description": "1xxx success, 2xxx client error, ..."},
        "status_message": {"type": "string"},
        "timestamp": {"type": "string", "description": "UTC, e.g. 2026-11-23T10:00:00.000Z"},
        "data": {"description": "the answer's payload, if any"},
    },
}
_ENVELOPE_REF: Schema = {"$ref": "#/components/schemas/Envelope"}
_TEXT = {"type": "string", "maxLength": 255}
_COUNTRY_CODE: Schema = {"type": "string", "description": "ISO 3166-1 alpha-2, e.g. DE"}
_PARTY_ID: Schema = {"type": "string", "description": "three characters, e.g. CPO"}
_ROLES = [role.value for role in Role]
_PARTY_ROLE: Schema = {
    "type": "object",
    "required": ["country_code", "party_id", "role"],
    "properties": {"country_code": _COUNTRY_CODE, "party_id": _PARTY_ID, "role": {"enum": _ROLES}},
}
_CREDENTIALS: Schema = {
    "type": "object",
    "description": "OCPI 2.2 Credentials: the party's TOKEN_B, versions URL and roles.",
    "required": ["token", "url", "roles"],
    "properties": {
        "token": _TEXT,
        "url": {"type": "string", "description": "the party's versions URL"},
        "roles": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["role", "business_details", "party_id", "country_code"],
                "properties": {
                    "role": {"enum": _ROLES},
                    "business_details": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": {"type": "string"}},
                    },
                    "party_id": _PARTY_ID,
                    "country_code": _COUNTRY_CODE,
                },
            },
        },
    },
}
_RULE_ENTRY: Schema = {
    "type": "object",
    "required": ["country_code", "party_id"],
    "properties": {
        "country_code": _COUNTRY_CODE,
        "party_id": _PARTY_ID,
        "modules": {"type": "array", "items": {"type": "string"}},
    },
}
_NODE_LISTING: Schema = {
    "type": "object",
    "required": ["url", "address"],
    "properties": {"url": {"type": "string"}, "address": {"type": "string"}},
}
_TOKEN_A: Schema = {
    "type": "object",
    "required": ["token", "versions"],
    "properties": {"token": {"type": "string"}, "versions": {"type": "string"}},
}
_PLATFORM: Schema = {
    "type": "object",
    "description": "A platform connected to this node (never its tokens)",
    "required": ["id", "status", "roles", "endpoint_count", "last_heard"],
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string"},
        "version": {"type": ["string", "null"]},
        "roles": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "country_code": {"type": "string"},
                    "party_id": {"type": "string"},
                    "role": {"type": "string"},
                    "name": {"type": ["string", "null"]},
                },
            },
        },
        "endpoint_count": {"type": "integer"},
        "last_heard": {"type": "string"},
        "versions_url": {"type": "string", "description": "GET /admin/platforms/{id} only"},
        "endpoints": {
            "type": "array",
            "description": "GET /admin/platforms/{id} only",
            "items": {
                "type": "object",
                "properties": {
                    "identifier": {"type": "string"},
                    "role": {"type": "string"},
                    "url": {"type": "string"},
                },
            },
        },
    },
}
_ANY_JSON: Schema = {"description": "any JSON: the module's OCPI object, forwarded unchanged"}
_OBJECT: Schema = {"type": "object"}
_TEXT_OK: Schema = {"type": "string", "const": "OK"}


def _envelope_of(data: Schema) -> Schema:
    return {"allOf": [_ENVELOPE_REF, {"properties": {"data": data}}]}


_ONE_PLATFORM = _envelope_of({"$ref": "#/components/schemas/Platform"})

# ---------------------------------------------------------------- parameters


def _query(name: str, description: str, schema: Schema) -> Schema:
    return {"name": name, "in": "query", "description": description, "schema": schema}


def _header(name: str, description: str, *, required: bool = True) -> Schema:
    return {
        "name": name,
        "in": "header",
        "required": required,
        "description": description,
        "schema": {"type": "string"},
    }


_PAGE = (
    _query("offset", "index of the first item", {"type": "integer", "minimum": 0}),
    _query("limit", "most items in the page", {"type": "integer", "minimum": 1}),
)
_DATES = (
    _query("date_from", "only items changed at or after (SCPI DateTime)", {"type": "string"}),
    _query("date_to", "only items changed before (SCPI DateTime)", {"type": "string"}),
)
_ROUTING = (
    _header("X-Request-ID", "unique per request; printable ASCII, at most 255 characters"),
    _header("X-Correlation-ID", "the same on every request of one exchange"),
    _header("SCPI-from-country-code", "the sender (OCPI-from-country-code is accepted too)"),
    _header("SCPI-from-party-id", "the sender (OCPI-from-party-id is accepted too)"),
    _header(
        "SCPI-to-country-code",
        "the receiver (OCPI-to-country-code is accepted too); DE with SCPI-to-party-id SCN: "
        "the hub (a GET All or a broadcast push); both left out: open routing",
        required=False,
    ),
    _header(
        "SCPI-to-party-id",
        "the receiver (OCPI-to-party-id is accepted too); SCN: the hub; with the country code, "
        "left out: open routing",
        required=False,
    ),
    _header(
        "SCN-Signature",
        "the sender's Notary signature of the request (OCN-Signature is accepted too)",
        required=False,
    ),
)
# What a path parameter means; the route's regex adds an enum or a pattern.
_PATH_PARAMETERS = {
    "country_code": "ISO 3166-1 alpha-2 country code of the party, e.g. DE",
    "party_id": "the party's id, e.g. CPO",
    "interface": "the receiver's interface: sender or receiver",
    "module": "the module's identifier",
    "tail": "the rest of the path below the module (object ids, e.g. DE/CPO/LOC1), as the "
    "receiver's endpoint expects it",
    "uid": "the id of a URL the node handed out in a Link or Location header",
    "list": "which of the party's lists",
    "id": "the platform's id (digits), as GET /admin/platforms lists it",
}

# ---------------------------------------------------------------- operations

ADMIN = "adminKey"
PARTY = "partyToken"
NODE = "nodeSignature"
SECURITY_SCHEMES: Schema = {
    ADMIN: {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Token <SCN_ADMIN_API_KEY>`",
    },
    PARTY: {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Token <token>`: TOKEN_A for versions and credentials before the "
        "handshake, TOKEN_C after it (plain or Base64-encoded, as OCPI 2.2.1 allows)",
    },
    NODE: {
        "type": "apiKey",
        "in": "header",
        "name": "SCN-Signature",
        "description": "the sending node's EIP-191 signature of the exact body",
    },
}


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    security: str | None = None
    ok: Schema | None = None  # the 200 answer's JSON schema; None: an SCPI envelope
    body: Schema | None = None
    parameters: tuple[Schema, ...] = ()
    text: bool = False  # answers text/plain


def _routed(summary: str, *, body: bool, query: bool) -> Operation:
    return Operation(
        summary,
        "routing",
        PARTY,
        body=_ANY_JSON if body else None,
        parameters=_ROUTING + (_PAGE + _DATES if query else ()),
    )


def _routed_operations(paths: dict[str, str]) -> dict[tuple[str, str], Operation]:
    return {
        (method, path): _routed(
            f"{method} {what}, routed to the receiver named by SCPI-to-* (or, TO the hub, a "
            "GET All or a broadcast push; without SCPI-to-*, to the receiver the hub finds); the "
            "answer is the receiver's, or the hub's",
            body=method in ("POST", "PUT", "PATCH"),
            query=method == "GET",
        )
        for path, what in paths.items()
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
    }


def _versioned(version: str) -> dict[tuple[str, str], Operation]:
    """What the node serves for one SCPI version (routes.py serves it for each)."""
    module = module_path("scpi", "{interface}", "{module}", version)
    credentials = configuration_path("scpi", ModuleId.CREDENTIALS, version)
    rules = configuration_path("scpi", ModuleId.SCN_RULES, version)
    return {
        ("GET", details_path("scpi", version)): Operation(
            f"The node's {version} endpoints", "versions", PARTY
        ),
        ("GET", credentials): Operation("The node's credentials", "credentials", PARTY),
        ("POST", credentials): Operation(
            "Register with TOKEN_A; the answer holds TOKEN_C",
            "credentials",
            PARTY,
            body=_CREDENTIALS,
        ),
        ("PUT", credentials): Operation(
            "Update the party's credentials; the answer holds a new TOKEN_C",
            "credentials",
            PARTY,
            body=_CREDENTIALS,
        ),
        ("DELETE", credentials): Operation("Unregister", "credentials", PARTY),
        ("GET", configuration_path("scpi", ModuleId.HUB_CLIENT_INFO, version)): Operation(
            "The connection status of the parties on the network (X-Total-Count, Link)",
            "hubclientinfo",
            PARTY,
            parameters=_PAGE + _DATES,
        ),
        ("GET", rules): Operation("The party's rules: who may send to it", "rules", PARTY),
        ("POST", f"{rules}/{{list}}"): Operation(
            "Add one entry to the whitelist or blacklist", "rules", PARTY, body=_RULE_ENTRY
        ),
        ("PUT", f"{rules}/{{list}}"): Operation(
            "Replace the whole list; [] switches it off",
            "rules",
            PARTY,
            body={"type": "array", "items": _RULE_ENTRY},
        ),
        ("DELETE", f"{rules}/{{list}}/{{country_code}}/{{party_id}}"): Operation(
            "Remove one entry from the list", "rules", PARTY
        ),
        ("PUT", f"{rules}/signatures"): Operation(
            "Require signed requests (no body: toggle)",
            "rules",
            PARTY,
            body={"type": "object", "properties": {"signatures": {"type": "boolean"}}},
        ),
        ("PUT", f"{rules}/block-all"): Operation(
            "An active, empty whitelist: nobody may send", "rules", PARTY
        ),
        **_routed_operations(
            {
                module: "a functional module of the receiver",
                f"{module}/{{tail}}": "an object of a functional module of the receiver",
            }
        ),
    }


_CUSTOM = "/scpi/custom/{interface}/{module}"
_PROXY = proxy_path("scpi", "{uid}")
_RULES = configuration_path("scpi", ModuleId.SCN_RULES)  # OCN's rules paths share these
_ROUTED_PATHS = {
    _CUSTOM: "a custom module of the receiver",
    f"{_CUSTOM}/{{tail}}": "an object of a custom module of the receiver",
    _PROXY: "a URL the node handed out in a Link or Location header (a next page, an object)",
}
_SIGNED = "Signed by the sending node (SCN-Signature); the answer is signed by this node too."

DESCRIPTIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/health"): Operation("The node is up", "node", ok=_TEXT_OK, text=True),
    ("GET", PATH): Operation("This document", "node", ok=_OBJECT),
    ("GET", "/scn/registry/node-info"): Operation(
        "The node's public URL and operator address", "node", ok=_NODE_LISTING
    ),
    ("GET", "/scn/registry/node/{country_code}/{party_id}"): Operation(
        "The node a party is listed with in the SCN Registry", "node", ok=_NODE_LISTING
    ),
    ("POST", "/scn/message"): Operation(
        f"A routed request from a peer node. {_SIGNED}", "node to node", NODE, body=_OBJECT
    ),
    ("PUT", "/scn/client-info"): Operation(
        f"A peer node's news of a party's connection status. {_SIGNED}",
        "node to node",
        NODE,
        body=_OBJECT,
    ),
    ("POST", "/admin/generate-registration-token"): Operation(
        "A single-use TOKEN_A, optionally for the listed roles only",
        "admin",
        ADMIN,
        ok=_TOKEN_A,
        body={"type": "array", "items": _PARTY_ROLE},
    ),
    ("GET", "/admin/generate-registration-token"): Operation(
        "A single-use TOKEN_A for any roles (POST can restrict it)", "admin", ADMIN, ok=_TOKEN_A
    ),
    ("GET", "/admin/connection-status/{country_code}/{party_id}"): Operation(
        "A party's connection status",
        "admin",
        ADMIN,
        ok={
            "type": "object",
            "required": ["country_code", "party_id", "status", "roles", "last_updated"],
            "properties": {
                "country_code": {"type": "string"},
                "party_id": {"type": "string"},
                "status": {"type": "string"},
                "roles": {"type": "array", "items": {"type": "string"}},
                "last_updated": {"type": "string"},
            },
        },
    ),
    ("GET", "/admin/platforms"): Operation(
        "The platforms of this node, a page at a time (X-Total-Count, X-Limit, Link)",
        "admin",
        ADMIN,
        ok=_envelope_of({"type": "array", "items": {"$ref": "#/components/schemas/Platform"}}),
        parameters=_PAGE,
    ),
    ("GET", "/admin/platforms/{id}"): Operation(
        "One platform, with its endpoints", "admin", ADMIN, ok=_ONE_PLATFORM
    ),
    ("DELETE", "/admin/platforms/{id}"): Operation(
        "Disconnect a platform: SUSPENDED, its tokens stop working, HubClientInfo is pushed",
        "admin",
        ADMIN,
        ok=_ONE_PLATFORM,
    ),
    ("POST", "/admin/platforms/{id}/rotate"): Operation(
        "Rotate a platform's TOKEN_C: the node PUTs new credentials to the party",
        "admin",
        ADMIN,
        ok=_ONE_PLATFORM,
    ),
    ("POST", "/admin/connect"): Operation(
        "A handshake begun by the node, with the TOKEN_A the party issued",
        "admin",
        ADMIN,
        ok=_ONE_PLATFORM,
        body={
            "type": "object",
            "required": ["versions_url", "token"],
            "properties": {"versions_url": {"type": "string"}, "token": _TEXT},
        },
    ),
    ("GET", versions_path("scpi")): Operation(
        "The versions the node speaks, the preferred first", "versions", PARTY
    ),
    **{key: op for version in VERSIONS for key, op in _versioned(version).items()},
    **_routed_operations(_ROUTED_PATHS),
}

# Paths documented under the description of their twin (longest prefix first).
_SAME_AS = (
    ("/ocpi/receiver/2.2/ocnrules", _RULES),
    ("/ocpi/2.2/receiver/ocnrules", _RULES),
    ("/ocpi/", "/scpi/"),
    ("/ocn/", "/scn/"),
)


def canonical(path: str) -> str:
    """The path whose description `path` shares."""
    for prefix, twin in _SAME_AS:
        if path.startswith(prefix):
            return twin + path[len(prefix) :]
    return path


# ---------------------------------------------------------------- paths

_PARAMETER = re.compile(r"\{(\w+)(?::([^{}]+))?\}")
_WORDS = re.compile(r"[\w.-]+(?:\|[\w.-]+)*")


@dataclass(frozen=True)
class PathParameter:
    name: str
    regex: str | None

    def schema(self) -> Schema:
        if self.regex is None:
            return {"type": "string"}
        if _WORDS.fullmatch(self.regex):
            return {"type": "string", "enum": self.regex.split("|")}
        return {"type": "string", "pattern": f"^(?:{self.regex})$"}


def openapi_paths(path: str) -> Iterator[tuple[str, list[PathParameter]]]:
    """An aiohttp path as OpenAPI path(s), with its parameters. A final parameter that may be
    empty (an optional tail) gives two paths: without it, and with it as `/{name}`."""
    parameters = [PathParameter(m[1], m[2]) for m in _PARAMETER.finditer(path)]
    plain = _PARAMETER.sub(r"{\1}", path)
    last = parameters[-1] if parameters else PathParameter("", None)
    tail = f"{{{last.name}}}"
    if last.regex is not None and plain.endswith(tail) and re.fullmatch(last.regex, ""):
        base = plain.removesuffix(tail)
        yield base, parameters[:-1]
        yield f"{base}/{tail}", [*parameters[:-1], PathParameter(last.name, None)]
    else:
        yield plain, parameters


class UndocumentedRoute(LookupError):
    """A route in the table with no description here."""


def _operation(
    method: str, path: str, parameters: list[PathParameter], operation: Operation
) -> Schema:
    ok_schema = _ENVELOPE_REF if operation.ok is None else operation.ok
    media = "text/plain" if operation.text else "application/json"
    path_parameters = [
        {
            "name": p.name,
            "in": "path",
            "required": True,
            "description": _PATH_PARAMETERS.get(p.name, p.name),
            "schema": p.schema(),
        }
        for p in parameters
    ]
    document: Schema = {
        "operationId": method.lower() + re.sub(r"[^A-Za-z0-9]+", "_", path).rstrip("_"),
        "summary": operation.summary,
        "tags": [operation.tag],
        "security": [{operation.security: []}] if operation.security else [],
        "parameters": [*path_parameters, *operation.parameters],
        "responses": {
            "200": {"description": "OK", "content": {media: {"schema": ok_schema}}},
            "default": {
                "description": "An SCPI error",
                "content": {"application/json": {"schema": _ENVELOPE_REF}},
            },
        },
    }
    if not document["parameters"]:
        del document["parameters"]
    if operation.body is not None:
        document["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": operation.body}},
        }
    return document


def build(table: Iterable[web.RouteDef], node_url: str) -> Schema:
    """The OpenAPI document of the routes in `table`, served by the node at `node_url`."""
    paths: dict[str, dict[str, Schema]] = {}
    for route in table:
        for path, parameters in openapi_paths(route.path):
            key = (route.method, canonical(path))
            operation = DESCRIPTIONS.get(key)
            if operation is None:
                raise UndocumentedRoute(f"{route.method} {path}: add it to openapi.DESCRIPTIONS")
            paths.setdefault(path, {})[route.method.lower()] = _operation(
                route.method, path, parameters, operation
            )
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "SCN node",
            "version": VERSIONS[0],
            "description": "An SCPI 2.2.1 and 2.2 (OCPI 2.2.1 and 2.2) hub node of the Smart "
            "Charging Network: each version's paths are served. "
            "Paths under /ocpi and /ocn are the same as under /scpi and /scn, for backoffices "
            "written for OCN. Every answer but /health and this document is JSON; errors are "
            "SCPI envelopes.",
        },
        "servers": [{"url": node_url}],
        "paths": paths,
        "components": {
            "schemas": {"Envelope": ENVELOPE, "Platform": _PLATFORM},
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


@functools.cache
def _encoded(node_url: str) -> bytes:
    from scn_node.web import routes  # routes.py registers this module's handler

    return encode(build(routes.routes(), node_url))


async def document(request: web.Request) -> web.Response:
    body = _encoded(request.app[STATE].node.url)
    return web.Response(body=body, content_type="application/json")
