"""GET /openapi.json: a valid OpenAPI 3.1 document of exactly the routes the node serves."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import web
from openapi_spec_validator import OpenAPIV31SpecValidator

from scn_node.web import handlers, openapi
from scn_node.web.routes import routes
from tests.node.conftest import Network

NODE_URL = "http://127.0.0.1:9999"
_REGEX_PARAMETER = re.compile(r"\{(\w+):[^{}]+\}")
ROUTED = re.compile(r"^/(scpi|ocpi)/.*(/\{module\}|/\{tail\}|/proxy/\{uid\})$")


def route_table_operations() -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every route, worked out here apart from openapi.py: regex
    parameters lose their regex, and a path ending in the optional `{tail}` counts twice, as the
    module's base path and as `{base}/{tail}`."""
    found: set[tuple[str, str]] = set()
    for route in routes():
        path = _REGEX_PARAMETER.sub(r"{\1}", route.path)
        if path.endswith("{tail}"):
            base = path.removesuffix("{tail}")
            found |= {(route.method, base), (route.method, f"{base}/{{tail}}")}
        else:
            found.add((route.method, path))
    return found


def documented(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi.build(routes(), NODE_URL)


def test_every_route_is_documented_and_nothing_else(document: dict[str, Any]) -> None:
    assert set(documented(document)) == route_table_operations()


def test_the_module_routes_are_documented_with_and_without_their_tail(
    document: dict[str, Any],
) -> None:
    methods = ["get", "post", "put", "patch", "delete"]
    for dialect in ("scpi", "ocpi"):
        module_bases = [f"/{dialect}/{{interface}}/{v}/{{module}}" for v in ("2.2.1", "2.2")]
        for base in (*module_bases, f"/{dialect}/custom/{{interface}}/{{module}}"):
            assert list(document["paths"][base]) == methods
            tail = document["paths"][f"{base}/{{tail}}"]
            assert list(tail) == methods
            assert [p["name"] for p in tail["get"]["parameters"][:3]] == [
                "interface",
                "module",
                "tail",
            ]
    module = document["paths"]["/scpi/{interface}/2.2.1/{module}"]["get"]["parameters"][1]
    assert module["schema"]["enum"] == [
        "cdrs",
        "chargingprofiles",
        "commands",
        "locations",
        "sessions",
        "tariffs",
        "tokens",
    ]
    custom = document["paths"]["/scpi/custom/{interface}/{module}"]["get"]["parameters"][1]
    assert custom["schema"] == {"type": "string", "pattern": "^(?:[A-Za-z0-9_.-]+)$"}


def test_both_versions_are_documented_at_their_own_paths(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for dialect in ("scpi", "ocpi"):
        assert list(paths[f"/{dialect}/versions"]) == ["get"]
        for version in ("2.2.1", "2.2"):
            assert paths[f"/{dialect}/{version}"]["get"]["summary"] == (
                f"The node's {version} endpoints"
            )
            assert list(paths[f"/{dialect}/{version}/credentials"]) == [
                "get",
                "post",
                "put",
                "delete",
            ]
            assert list(paths[f"/{dialect}/{version}/hubclientinfo"]) == ["get"]
            assert f"/{dialect}/{version}/scnrules/{{list}}" in paths
    # Proxy URLs are the node's own and keep one version's path.
    assert "/scpi/2.2/proxy/{uid}" in paths
    assert "/scpi/2.2.1/proxy/{uid}" not in paths


def test_no_description_is_left_without_its_route(document: dict[str, Any]) -> None:
    used = {(method, openapi.canonical(path)) for method, path in documented(document)}
    assert set(openapi.DESCRIPTIONS) - used == set()


def test_a_route_without_a_description_fails_the_build() -> None:
    table = [*routes(), web.get("/admin/undocumented", handlers.health)]
    with pytest.raises(openapi.UndocumentedRoute, match="GET /admin/undocumented"):
        openapi.build(table, NODE_URL)


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    errors = [str(e.message) for e in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []


def test_each_operation_names_its_credentials(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["adminKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Token <SCN_ADMIN_API_KEY>`",
    }
    party, node = schemes["partyToken"], schemes["nodeSignature"]
    assert (party["type"], party["in"], party["name"]) == ("apiKey", "header", "Authorization")
    assert (node["type"], node["in"], node["name"]) == ("apiKey", "header", "SCN-Signature")
    for (method, path), operation in documented(document).items():
        expected: list[dict[str, list[str]]]
        if path.startswith("/admin/"):
            expected = [{"adminKey": []}]
        elif path.startswith(("/scpi/", "/ocpi/")):
            expected = [{"partyToken": []}]
        elif path in ("/scn/message", "/scn/client-info"):
            expected = [{"nodeSignature": []}]
        else:
            expected = []  # /health, /openapi.json, the registry look-ups
        assert operation["security"] == expected, (method, path)


def test_routed_requests_take_the_routing_headers(document: dict[str, Any]) -> None:
    routing = [
        "X-Request-ID",
        "X-Correlation-ID",
        "SCPI-from-country-code",
        "SCPI-from-party-id",
        "SCPI-to-country-code",
        "SCPI-to-party-id",
    ]
    routed = 0
    for (method, path), operation in documented(document).items():
        headers = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}
        if ROUTED.match(path):
            routed += 1
            assert [name for name in headers if name in routing] == routing, (method, path)
            assert all(headers[name]["required"] for name in routing if "-to-" not in name)
            # Left out for open routing; DE SCN for a GET All or a broadcast.
            assert not any(headers[name]["required"] for name in routing if "-to-" in name)
            assert "open routing" in headers["SCPI-to-country-code"]["description"]
            assert headers["SCN-Signature"]["required"] is False
        else:
            assert not set(headers) & set(routing), (method, path)
    # two dialects, five methods; module ± tail per version (2.2.1, 2.2), custom ± tail, proxy
    assert routed == 2 * 5 * (2 * 2 + 2 + 1)


def test_every_answer_is_documented_as_an_scpi_envelope(document: dict[str, Any]) -> None:
    envelope = document["components"]["schemas"]["Envelope"]
    assert envelope["required"] == ["status_code", "timestamp"]
    assert set(envelope["properties"]) == {"status_code", "status_message", "timestamp", "data"}
    ref = {"$ref": "#/components/schemas/Envelope"}
    plain = {"/health", "/openapi.json"}
    for (method, path), operation in documented(document).items():
        errors = operation["responses"]["default"]["content"]["application/json"]["schema"]
        assert errors == ref, (method, path)
        if path.startswith(("/scpi/", "/ocpi/")):
            assert operation["responses"]["200"]["content"]["application/json"]["schema"] == ref
        if path in plain:
            continue
        assert "application/json" in operation["responses"]["200"]["content"], (method, path)


async def test_the_node_serves_the_document_without_credentials(network: Network) -> None:
    response = await network.client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == openapi.build(routes(), network.url)
    assert response.json()["servers"] == [{"url": network.url}]
