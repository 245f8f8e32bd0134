"""The host's ASGI app: every route of the protocol tables, bound to its handler by name."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from openbackpack.credentials import StatusListCache
from openbackpack.host import (
    _authorize,
    _backpack_api,
    _badgeconnect,
    _displayer,
    _issuer_api,
    _oauth,
    _ob3api,
    _ob3oauth,
    _public,
)
from openbackpack.host._badgeconnect import api_prefix, badgeconnect_response
from openbackpack.host._db import HostDatabase
from openbackpack.host._faults import FaultInjector, FaultMiddleware
from openbackpack.host._fetch import Fetcher
from openbackpack.host._loop import on_loop, served_callable
from openbackpack.host._ob3wire import Ob3Error, ob3_error_response, ob3_status_error
from openbackpack.host._openapi import request_body
from openbackpack.host._registry import BADGECONNECT, BADGR, DISPLAYER, OB3API
from openbackpack.host._settings import HostSettings
from openbackpack.host._state import API_PREFIX, HostState
from openbackpack.host._wire import (
    BadgeConnectError,
    BadgrError,
    DisplayerError,
    OAuthError,
    badgr_error_body,
    dumps,
    json_response,
    not_found,
    protocol_of,
)
from openbackpack.models.ob3api import CodeMinor
from openbackpack.protocols import Base, Endpoint, badgeconnect, badgr, displayer, ob3api

__all__ = ["RejectNul", "create_app", "served_routes"]

_HANDLER_MODULES: Final = (
    _authorize,
    _backpack_api,
    _badgeconnect,
    _displayer,
    _issuer_api,
    _oauth,
    _ob3api,
    _ob3oauth,
    _public,
)
_log = logging.getLogger("openbackpack.host")


def served_routes(*, badgr_quirks: bool = False) -> list[tuple[str, str, Endpoint]]:
    """Every (method, path, endpoint) the host serves, straight from the protocol tables.

    Badge Connect's API routes sit under ``/ims/ob/v2p1``, or ``/bcv1`` in Badgr mode; the
    Open Badges 3.0 API's under ``/ims/ob/v3p0``, its OAuth endpoints under ``/o/v3p0``.
    """
    routes: list[tuple[str, str, Endpoint]] = [
        (e.method, (API_PREFIX if e.base is Base.API else "") + e.path, e)
        for e in badgr.ROUTES.values()
    ]
    routes += [(e.method, e.path, e) for e in displayer.ROUTES.values()]
    prefix = api_prefix(badgr_quirks)
    routes += [
        (e.method, (prefix if e.base is Base.API else "") + e.path, e)
        for e in badgeconnect.ROUTES.values()
    ]
    routes += [
        (e.method, (ob3api.API_PATH if e.base is Base.API else "") + e.path, e)
        for e in ob3api.ROUTES.values()
    ]
    return routes


def create_app(
    settings: HostSettings | None = None,
    *,
    database: HostDatabase | None = None,
    mounts: Mapping[str, ASGIApp] | None = None,
) -> FastAPI:
    """Build the reference backpack host.

    Args:
        settings: the host's settings; the defaults serve an SQLite file in the user data
            directory with no faults.
        database: an already opened :class:`HostDatabase` (it is then not closed with the
            app); by default the app opens ``settings.database_url`` and migrates it.
        mounts: extra ASGI apps by path prefix (e.g. an issuer's hosted Open Badges JSON at
            ``/issuer``), served beside the protocol routes.
    """
    settings = settings or HostSettings()
    owned = database is None
    db = database or HostDatabase.open(settings.database_url, migrate=settings.migrate)
    state = HostState(
        settings=settings,
        database=db,
        fetcher=Fetcher(
            timeout=settings.fetch_timeout,
            max_bytes=settings.fetch_max_bytes,
            allow_private=settings.allow_private_fetch,
        ),
        faults=FaultInjector(settings.faults),
        status_lists=StatusListCache(max_age=settings.status_list_max_age),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            db.close()

    app = FastAPI(
        title="openbackpack reference backpack host",
        summary="Badgr v2, the Mozilla Displayer API, Badge Connect 2.1 and the Open Badges "
        "3.0 API, on loopback.",
        version="2",
        lifespan=lifespan,
        redirect_slashes=False,
    )
    app.state.host = state
    _add_routes(app, settings.badgr_quirks)
    if settings.static_path is not None:
        app.add_api_route(
            settings.static_path, served_callable(_static), methods=["GET"], include_in_schema=False
        )
    _add_error_handlers(app)
    for prefix, mounted in (mounts or {}).items():
        app.mount(prefix, mounted)
    app.add_middleware(RejectNul)
    # Always installed: injects nothing unless settings or FaultInjector.fail_next ask for it.
    app.add_middleware(FaultMiddleware, injector=state.faults)
    return app


_STATIC_BODY: Final = dumps({"status": {"success": True, "description": "ok"}, "result": []})


@on_loop
def _static() -> Response:
    # Served as the local handlers are (on the event loop, see ``_loop``): the difference
    # between the two is then the work of the route alone.
    return Response(_STATIC_BODY, media_type="application/json")


class RejectNul:
    """Refuse a NUL character in the path or query before any handler sees it.

    PostgreSQL cannot compare or store text holding NUL, so such an id would otherwise fail
    inside the database instead of being an ordinary "bad request".
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 400 in the path's protocol shape, or pass the request on."""
        if scope["type"] == "http" and (
            "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"").lower()
        ):
            response = _nul_response(scope["path"])
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _nul_response(path: str) -> Response:
    message = "Null characters are not allowed."
    protocol = protocol_of(path)
    if protocol == "ob3":
        return ob3_error_response(Ob3Error(400, CodeMinor.INVALID_DATA, message))
    if protocol == "oauth":
        return _oauth_response(
            OAuthError(400, {"error": "invalid_request", "error_description": message})
        )
    if protocol == "displayer":
        return Response(
            dumps({"status": "invalid", "error": message}), 400, media_type="application/json"
        )
    if protocol == "badgeconnect":
        body = {"status": {"error": message, "statusCode": 400, "statusText": "BAD_REQUEST"}}
        return Response(dumps(body), 400, media_type="application/json")
    body = badgr_error_body(BadgrError(400, "bad request", validation_errors=[message]))
    return Response(dumps(body), 400, media_type="application/json")


def _add_routes(app: FastAPI, badgr_quirks: bool) -> None:
    for method, path, endpoint in served_routes(badgr_quirks=badgr_quirks):
        table, handlers = _table_of(endpoint)
        body = request_body(endpoint.name, ob3=table is ob3api.ROUTES)
        app.add_api_route(
            path,
            served_callable(handlers[endpoint.name]),
            methods=[method],
            name=endpoint.name,
            summary=endpoint.summary,
            status_code=endpoint.success,
            response_model=None,
            tags=[_tag(endpoint)],
            openapi_extra={"requestBody": body} if body else None,
        )


_TABLES: Final = (
    (ob3api.ROUTES, OB3API),
    (badgeconnect.ROUTES, BADGECONNECT),
    (displayer.ROUTES, DISPLAYER),
    (badgr.ROUTES, BADGR),
)


def _table_of(endpoint: Endpoint) -> tuple[Mapping[str, Endpoint], Mapping[str, Any]]:
    """The table a row belongs to, and the handlers of that table, by name."""
    # Names repeat across tables ("token", "profile.get"): the row itself tells them apart.
    for table, handlers in _TABLES:
        if table.get(endpoint.name) is endpoint:
            return table, handlers
    raise KeyError(endpoint.name)  # pragma: no cover - every served row is in a table


def _tag(endpoint: Endpoint) -> str:
    if _table_of(endpoint)[0] is ob3api.ROUTES:
        return "ob3"
    if endpoint.name in DISPLAYER:
        return "displayer"
    if endpoint.name in BADGECONNECT:
        return "badgeconnect"
    return endpoint.name.split(".", 1)[0] if "." in endpoint.name else "oauth"


def _badgr_mode(request: Request) -> bool:
    state: HostState = request.app.state.host
    return state.settings.badgr_quirks


def _oauth_response(error: OAuthError) -> Response:
    media_type = "text/html; charset=utf-8" if error.html else "application/json"
    return Response(
        dumps(error.body, compact=False),
        status_code=error.status,
        media_type=media_type,
        headers=error.headers,
    )


def _badgr_response(request: Request, error: BadgrError) -> Response:
    return json_response(
        badgr_error_body(error), error.status, request=request, headers=error.headers
    )


def _badgeconnect_http_error(request: Request, status: int) -> Response:
    badgr_mode = _badgr_mode(request)
    if badgr_mode:
        # Badgr: the scope check runs before the method check; everything else is a 400.
        error = (
            BadgeConnectError(401, "PERMISSION_DENIED")
            if status == 405
            else BadgeConnectError(400, "BAD_REQUEST")
        )
    elif status == 405:
        error = BadgeConnectError(
            405, "METHOD_NOT_ALLOWED", f'Method "{request.method}" not allowed.'
        )
    else:
        error = BadgeConnectError(404, "NOT_FOUND", "No such resource.")
    return badgeconnect_response(error, badgr_mode)


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    protocol = protocol_of(request.url.path)
    if protocol == "ob3":
        message = (
            f"Method {request.method} is not allowed here."
            if exc.status_code == 405
            else "No such resource."
        )
        return ob3_error_response(ob3_status_error(exc.status_code, message))
    if protocol == "badgeconnect":
        return _badgeconnect_http_error(request, exc.status_code)
    if protocol == "oauth":
        return Response(status_code=exc.status_code)
    if protocol == "displayer":
        return Response(
            dumps({"httpStatus": 404, "status": "missing"}), 404, media_type="application/json"
        )
    if exc.status_code == 404:
        return _badgr_response(request, not_found())
    message = (
        f'Method "{request.method}" not allowed.' if exc.status_code == 405 else str(exc.detail)
    )
    error = BadgrError(exc.status_code, "miscellaneous error", field_errors=message)
    return _badgr_response(request, error)


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    protocol = protocol_of(request.url.path)
    if protocol == "ob3":
        names = ", ".join(
            sorted({str(e.get("loc", ("", "?"))[-1]) for e in exc.errors()}) or ["the request"]
        )
        return ob3_error_response(
            Ob3Error(400, CodeMinor.INVALID_QUERY_PARAMETER, f"Invalid parameter: {names}.")
        )
    if protocol == "oauth":
        return _oauth_response(OAuthError(400, {"error": "invalid_request"}))
    if protocol == "badgeconnect":
        error = BadgeConnectError(400, "BAD_REQUEST", "The request is malformed.")
        return badgeconnect_response(error, _badgr_mode(request))
    if protocol == "displayer":
        return Response(
            dumps({"httpStatus": 404, "status": "missing"}), 404, media_type="application/json"
        )
    fields = {
        ".".join(str(p) for p in e.get("loc", ())[1:]) or "detail": [e.get("msg", "")]
        for e in exc.errors()
    }
    return _badgr_response(request, BadgrError(400, "bad request", field_errors=fields))


def _disconnected(request: Request, _exc: Exception) -> Response:
    # The client went away mid-request: nothing failed here, and nobody reads the answer.
    _log.debug("client disconnected during %s %s", request.method, request.url.path)
    return Response(status_code=400)


def _unexpected(request: Request, exc: Exception) -> Response:
    # Handlers run in worker threads, where sys.exc_info() is empty: pass the exception.
    _log.error("unexpected error answering %s %s", request.method, request.url.path, exc_info=exc)
    protocol = protocol_of(request.url.path)
    if protocol == "ob3":
        return ob3_error_response(ob3_status_error(500, "Server error."))
    if protocol == "oauth":
        return _oauth_response(OAuthError(500, {"error": "server_error"}))
    if protocol == "badgeconnect":
        badgr_mode = _badgr_mode(request)
        # Badgr turns every unexpected failure into a 400 BAD_REQUEST.
        status = 400 if badgr_mode else 500
        error = BadgeConnectError(status, "BAD_REQUEST" if badgr_mode else "", "Server error.")
        return badgeconnect_response(error, badgr_mode)
    if protocol == "displayer":
        return Response(
            dumps({"status": "error", "error": "server error"}), 500, media_type="application/json"
        )
    return _badgr_response(request, BadgrError(500, "server error"))


def _add_error_handlers(app: FastAPI) -> None:
    handlers: dict[Any, Callable[[Request, Any], Response]] = {
        BadgeConnectError: lambda request, exc: badgeconnect_response(exc, _badgr_mode(request)),
        Ob3Error: lambda _request, exc: ob3_error_response(exc),
        BadgrError: _badgr_response,
        OAuthError: lambda _request, exc: _oauth_response(exc),
        DisplayerError: lambda _request, exc: Response(
            dumps(exc.body), exc.status, media_type="application/json"
        ),
        HTTPException: _http_error,
        RequestValidationError: _validation_error,
        ClientDisconnect: _disconnected,
        Exception: _unexpected,
    }
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)
