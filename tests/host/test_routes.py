"""The host serves exactly the protocol tables' routes, and documents them in OpenAPI."""

from __future__ import annotations

import httpx2
from fastapi.routing import APIRoute

from openbackpack.host import RunningHost, served_routes
from openbackpack.protocols import Base, badgr, displayer

_DOCS = {
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
}


def _expected() -> set[tuple[str, str]]:
    routes = {
        (e.method, ("/v2" if e.base is Base.API else "") + e.path) for e in badgr.ROUTES.values()
    }
    return routes | {(e.method, e.path) for e in displayer.ROUTES.values()}


def _served(host: RunningHost) -> set[tuple[str, str]]:
    pairs = set()
    for route in host.app.routes:
        methods = getattr(route, "methods", None) or set()
        pairs |= {(m, getattr(route, "path", "")) for m in methods if m != "HEAD"}
    return pairs


def test_every_table_route_is_served_and_nothing_else(host: RunningHost) -> None:
    """The app's routes are the Badgr and Displayer tables' routes plus the OpenAPI pages."""
    assert _served(host) == _expected() | _DOCS
    assert {(m, p) for m, p, _ in served_routes()} == _expected()


def test_each_route_is_bound_to_the_handler_named_like_its_endpoint(host: RunningHost) -> None:
    """Every API route carries its endpoint's name and success status."""
    named = {r.name: r for r in host.app.routes if isinstance(r, APIRoute)}
    for _, _, endpoint in served_routes():
        assert named[endpoint.name].status_code == endpoint.success


def test_openapi_document_covers_every_route(http: httpx2.Client, host: RunningHost) -> None:
    """The generated OpenAPI document lists every served route with its method."""
    document = http.get(f"{host.base_url}/openapi.json").json()
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert documented == _expected()


def test_openapi_documents_request_bodies_and_path_parameters(
    http: httpx2.Client, host: RunningHost
) -> None:
    """Routes that take a body declare it; path placeholders are declared parameters."""
    paths = http.get(f"{host.base_url}/openapi.json").json()["paths"]
    create = paths["/v2/issuers"]["post"]
    assert "application/json" in create["requestBody"]["content"]
    token = paths["/o/token"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in token
    get = paths["/v2/issuers/{issuer}"]["get"]
    assert [p["name"] for p in get["parameters"] if p["in"] == "path"] == ["issuer"]


def test_unknown_paths_and_methods_answer_in_the_protocols_shape(
    http: httpx2.Client, host: RunningHost
) -> None:
    """Unknown v2 paths are the 404 envelope, wrong methods 405, GET on the token URL 405."""
    missing = http.get(f"{host.api_url}/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["status"]["description"] == "entity not found or insufficient privileges"
    wrong = http.patch(f"{host.api_url}/issuers")
    assert wrong.status_code == 405
    assert wrong.json()["fieldErrors"] == 'Method "PATCH" not allowed.'
    token = http.get(f"{host.base_url}/o/token")
    assert token.status_code == 405
    assert token.content == b""
