"""The host serves exactly the protocol tables' routes, and documents them in OpenAPI."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from openbackpack import InvalidInputError
from openbackpack.host import HostSettings, RunningHost, run_host_in_thread, served_routes
from openbackpack.protocols import (
    Base,
    Body,
    Endpoint,
    badgeconnect,
    badgr,
    build_url,
    displayer,
    ob3api,
)
from tests.host._helpers import create_issuer, new_account

_DOCS = {
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
}


def _expected(badge_connect_api: str = badgeconnect.API_PATH) -> set[tuple[str, str]]:
    routes = {
        (e.method, ("/v2" if e.base is Base.API else "") + e.path) for e in badgr.ROUTES.values()
    }
    routes |= {
        (e.method, (badge_connect_api if e.base is Base.API else "") + e.path)
        for e in badgeconnect.ROUTES.values()
    }
    routes |= {
        (e.method, (ob3api.API_PATH if e.base is Base.API else "") + e.path)
        for e in ob3api.ROUTES.values()
    }
    return routes | {(e.method, e.path) for e in displayer.ROUTES.values()}


def _served(host: RunningHost) -> set[tuple[str, str]]:
    pairs = set()
    for route in host.app.routes:
        methods = getattr(route, "methods", None) or set()
        pairs |= {(m, getattr(route, "path", "")) for m in methods if m != "HEAD"}
    return pairs


def test_every_table_route_is_served_and_nothing_else(host: RunningHost) -> None:
    """The app's routes are the protocol tables' routes (OB 3.0 included) plus the docs."""
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


def test_extra_apps_are_mounted_beside_the_protocol_routes(
    http: httpx2.Client, tmp_path: Path
) -> None:
    """create_app(mounts=...) serves another ASGI app under its prefix; the tables stay intact."""
    issuer_side = FastAPI()

    @issuer_side.get("/hello")
    def hello() -> dict[str, str]:
        return {"from": "mounted"}

    settings = HostSettings(db_url=f"sqlite:///{tmp_path / 'm.sqlite3'}")
    with run_host_in_thread(settings, mounts={"/issuer": issuer_side}) as running:
        assert http.get(f"{running.base_url}/issuer/hello").json() == {"from": "mounted"}
        assert http.get(f"{running.api_url}/issuers").status_code == 401


def test_configured_public_url_is_used_for_ids(http: httpx2.Client, tmp_path: Path) -> None:
    """With public_url set, openBadgeId and public ids use it instead of the request's origin."""
    settings = HostSettings(
        db_url=f"sqlite:///{tmp_path / 'p.sqlite3'}", public_url="https://backpack.example.org/"
    )
    with run_host_in_thread(settings) as running:
        account = new_account(http, running)
        issuer = create_issuer(http, running, account)
        document = http.get(f"{running.base_url}/public/issuers/{issuer['entityId']}").json()
    assert issuer["openBadgeId"].startswith("https://backpack.example.org/public/issuers/")
    assert document["id"] == issuer["openBadgeId"]


@pytest.mark.parametrize(
    "endpoint", [e for e in badgr.ROUTES.values() if e.auth], ids=lambda e: e.name
)
def test_every_authenticated_route_needs_a_token(
    http: httpx2.Client, host: RunningHost, endpoint: Endpoint
) -> None:
    """Each table row marked auth answers the v2 401 envelope without a token."""
    url = build_url(endpoint, host.api_url, {name: "x" for name in endpoint.path_params})
    body: dict[str, str] | None = {} if endpoint.body is Body.JSON else None
    response = http.request(endpoint.method, url, json=body)
    assert response.status_code == 401
    assert response.json()["status"]["description"] == "no valid auth token found"


@pytest.mark.parametrize(
    "endpoint",
    [e for e in badgr.ROUTES.values() if e.name.startswith("public.")],
    ids=lambda e: e.name,
)
def test_every_public_route_answers_unknown_ids_with_the_v2_404(
    http: httpx2.Client, host: RunningHost, endpoint: Endpoint
) -> None:
    """Each public row answers an unknown id with 404 and no token needed."""
    url = build_url(endpoint, host.api_url, {name: "unknown" for name in endpoint.path_params})
    response = http.get(url)
    assert response.status_code == 404
    assert response.json()["status"]["success"] is False


def test_static_path_answers_a_fixed_envelope_outside_the_tables(tmp_path: Path) -> None:
    """static_path adds a GET answering an empty envelope, left out of the OpenAPI document."""
    settings = HostSettings(db_url=f"sqlite:///{tmp_path / 'h.sqlite3'}", static_path="/ceiling")
    with run_host_in_thread(settings) as running, httpx2.Client() as client:
        answer = client.get(f"{running.base_url}/ceiling")
        assert answer.status_code == 200
        assert answer.json() == {"status": {"success": True, "description": "ok"}, "result": []}
        document = client.get(f"{running.base_url}/openapi.json").json()
        assert "/ceiling" not in document["paths"]
        assert _served(running) == _expected() | _DOCS | {("GET", "/ceiling")}


def test_static_path_is_off_by_default_and_must_be_a_path() -> None:
    """Without static_path nothing extra is served; a path without a leading / is refused."""
    assert HostSettings().static_path is None
    with pytest.raises(InvalidInputError, match="static_path"):
        HostSettings(static_path="ceiling")


def test_the_3_0_rows_are_served_under_their_api_base_and_bound_by_name(
    host: RunningHost,
) -> None:
    """Every OB 3.0 table row is a route at /ims/ob/v3p0 (API) or /o/v3p0 (OAuth), by name."""
    served = {(m, p): e for m, p, e in served_routes()}
    for endpoint in ob3api.ROUTES.values():
        prefix = ob3api.API_PATH if endpoint.base is Base.API else ""
        assert served[(endpoint.method, prefix + endpoint.path)] is endpoint
    named = {
        (r.path, tuple(sorted(r.methods or ()))): r
        for r in host.app.routes
        if isinstance(r, APIRoute)
    }
    upsert = named[(ob3api.API_PATH + "/credentials", ("POST",))]
    assert upsert.name == "credentials.upsert"


def test_openapi_documents_the_3_0_bodies(http: httpx2.Client, host: RunningHost) -> None:
    """The upsert takes JSON or a compact JWS as text; putProfile takes a whole Profile."""
    paths = http.get(f"{host.base_url}/openapi.json").json()["paths"]
    upsert = paths[ob3api.API_PATH + "/credentials"]["post"]["requestBody"]["content"]
    assert set(upsert) == {"application/json", "text/plain"}
    profile = paths[ob3api.API_PATH + "/profile"]["put"]["requestBody"]["content"]
    assert profile["application/json"]["schema"]["required"] == ["id", "type"]
