"""The node's whole HTTP surface in one table, under both dialects (/scpi and /ocpi)."""

from __future__ import annotations

from aiohttp import web

from scn_node.hub.peer import CLIENT_INFO_PATH, MESSAGE_PATH
from scn_node.scpi.party import ModuleId
from scn_node.scpi.versions import (
    FUNCTIONAL_MODULES,
    VERSIONS,
    configuration_path,
    details_path,
    module_path,
    proxy_path,
    versions_path,
)
from scn_node.web import admin, handlers, openapi, rules

DIALECTS = ("scpi", "ocpi")
NODE_PREFIXES = ("scn", "ocn")  # the node's own endpoints, with OCN's spelling too
_MODULES = "|".join(FUNCTIONAL_MODULES)
_TAIL = "{tail:(?:/.*)?}"
_INTERFACE = "{interface:sender|receiver}"
_ANY = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Where OCN's tools find a party's rules (OCN's ocnrules), beside /{dialect}/2.2/scnrules.
OCN_RULES_PATHS = ("/ocpi/receiver/2.2/ocnrules", "/ocpi/2.2/receiver/ocnrules")
_LIST = "{list:whitelist|blacklist}"


def _rules(base: str) -> list[web.RouteDef]:
    return [
        web.get(base, rules.show),
        web.post(f"{base}/{_LIST}", rules.add),
        web.put(f"{base}/{_LIST}", rules.replace),
        web.delete(f"{base}/{_LIST}/{{country_code}}/{{party_id}}", rules.remove),
        web.put(f"{base}/signatures", rules.signatures),
        web.put(f"{base}/block-all", rules.block_all),
    ]


def _versioned(prefix: str, version: str) -> list[web.RouteDef]:
    """What the node serves for one SCPI version: its details, the configuration modules and
    the functional modules, at the paths its details advertise."""
    credentials = configuration_path(prefix, ModuleId.CREDENTIALS, version)
    modules = module_path(prefix, _INTERFACE, f"{{module:{_MODULES}}}{_TAIL}", version)
    return [
        web.get(details_path(prefix, version), handlers.version_details),
        *(
            web.route(m, credentials, handlers.credentials)
            for m in ("GET", "POST", "PUT", "DELETE")
        ),
        web.get(
            configuration_path(prefix, ModuleId.HUB_CLIENT_INFO, version), handlers.hub_client_info
        ),
        *_rules(configuration_path(prefix, ModuleId.SCN_RULES, version)),
        *(web.route(m, modules, handlers.routed) for m in _ANY),
    ]


def routes() -> list[web.RouteDef]:
    table = [web.get("/health", handlers.health)]
    table.append(web.get("/openapi.json", openapi.document))
    for prefix in NODE_PREFIXES:
        table += [
            web.get(f"/{prefix}/registry/node-info", handlers.node_info),
            web.get(
                f"/{prefix}/registry/node/{{country_code}}/{{party_id}}", handlers.node_of_party
            ),
        ]
    table.append(web.post(MESSAGE_PATH, handlers.node_message))
    table.append(web.put(CLIENT_INFO_PATH, handlers.client_info))
    table += [
        web.post("/admin/generate-registration-token", admin.generate_registration_token),
        web.get("/admin/generate-registration-token", admin.generate_registration_token),
        web.get("/admin/connection-status/{country_code}/{party_id}", admin.connection_status),
        web.get("/admin/platforms", admin.list_platforms),
        web.get("/admin/platforms/{id}", admin.show_platform),
        web.delete("/admin/platforms/{id}", admin.disconnect_platform),
        web.post("/admin/platforms/{id}/rotate", admin.rotate_platform),
        web.post("/admin/connect", admin.connect),
    ]
    for p in DIALECTS:
        table.append(web.get(versions_path(p), handlers.versions))
        for version in VERSIONS:
            table += _versioned(p, version)
        table += [
            *(web.route(m, proxy_path(p, "{uid}"), handlers.routed) for m in _ANY),
            *(
                web.route(
                    m,
                    f"/{p}/custom/{_INTERFACE}/{{module:[A-Za-z0-9_.-]+}}{_TAIL}",
                    handlers.routed,
                )
                for m in _ANY
            ),
        ]
    for path in OCN_RULES_PATHS:
        table += _rules(path)
    return table
