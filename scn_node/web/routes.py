"""The node's whole HTTP surface in one table, under both dialects (/scpi and /ocpi)."""

from __future__ import annotations

from aiohttp import web

from scn_node.hub.peer import CLIENT_INFO_PATH, MESSAGE_PATH
from scn_node.scpi.party import ModuleId
from scn_node.scpi.versions import (
    FUNCTIONAL_MODULES,
    VERSION,
    configuration_path,
    details_path,
    versions_path,
)
from scn_node.web import admin, handlers, openapi, rules

DIALECTS = ("scpi", "ocpi")
NODE_PREFIXES = ("scn", "ocn")  # the node's own endpoints, with OCN's spelling too
_MODULES = "|".join(FUNCTIONAL_MODULES)
_TAIL = "{tail:(?:/.*)?}"
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
        credentials = configuration_path(p, ModuleId.CREDENTIALS)
        table += [
            web.get(versions_path(p), handlers.versions),
            web.get(details_path(p), handlers.version_details),
            *(
                web.route(m, credentials, handlers.credentials)
                for m in ("GET", "POST", "PUT", "DELETE")
            ),
            web.get(configuration_path(p, ModuleId.HUB_CLIENT_INFO), handlers.hub_client_info),
            *_rules(configuration_path(p, ModuleId.SCN_RULES)),
            *(web.route(m, f"/{p}/{VERSION}/proxy/{{uid}}", handlers.routed) for m in _ANY),
            *(
                web.route(
                    m,
                    f"/{p}/{{interface:sender|receiver}}/{VERSION}/{{module:{_MODULES}}}{_TAIL}",
                    handlers.routed,
                )
                for m in _ANY
            ),
            *(
                web.route(
                    m,
                    f"/{p}/custom/{{interface:sender|receiver}}/{{module:[A-Za-z0-9_.-]+}}{_TAIL}",
                    handlers.routed,
                )
                for m in _ANY
            ),
        ]
    for path in OCN_RULES_PATHS:
        table += _rules(path)
    return table
