"""Building the app: routes, sessions, headers, and errors as pages."""

from __future__ import annotations

import functools
import gettext
import logging
from collections.abc import Sequence
from importlib.resources import files
from typing import Final

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from openbackpack._exceptions import BackpackError, RecordNotFoundError
from openbackpack.services import NotConnectedError, NotOwnerError
from openbackpack.store import Store
from openbackpack.web import _admin, _bulk, _images, _learner, _oauth
from openbackpack.web._context import Identify, Web, WebSettings, web_of
from openbackpack.web._render import environment, render
from openbackpack.web._security import SECURITY_HEADERS, LoginRequired, SecurityHeaders

__all__ = ["MESSAGES_DOMAIN", "create_web_app", "english"]

_log = logging.getLogger(__name__)


async def _stylesheet(_: Request) -> Response:
    css = (files("openbackpack.web") / "static" / "style.css").read_bytes()
    return Response(css, media_type="text/css", headers={"cache-control": "max-age=3600"})


async def _login_required(request: Request, _: Exception) -> Response:
    login_url = web_of(request).settings.login_url
    if login_url:
        return RedirectResponse(login_url, status_code=303)
    message = web_of(request).gettext("Please log in first.")
    return render(request, "error.html", 401, message=message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    web = web_of(request)
    message = exc.detail if exc.status_code in (400, 403) else web.gettext("Page not found.")
    if exc.status_code not in (400, 403, 404):
        message = web.gettext("This request cannot be answered.")
    return render(request, "error.html", exc.status_code, message=message)


async def _not_found(request: Request, _: Exception) -> Response:
    # One answer for "no such thing" and "not yours": ids of others reveal nothing.
    message = web_of(request).gettext("Not found.")
    return render(request, "error.html", 404, message=message)


async def _backpack_error(request: Request, exc: Exception) -> Response:
    # Typed errors carry a message written for people; it is escaped like any other text.
    return render(request, "error.html", 400, message=str(exc))


async def _server_error(request: Request, exc: Exception) -> Response:
    _log.exception("unexpected error in a page", exc_info=exc)
    message = web_of(request).gettext("Something went wrong. Please try again later.")
    page = render(request, "error.html", 500, bare=True, message=message)
    # Crashes are answered outside the header middleware, so the headers are added here.
    page.headers.update(SECURITY_HEADERS)
    return page


MESSAGES_DOMAIN: Final = "openbackpack"
"""The gettext domain of the pages' messages (``messages.pot`` is its template)."""


@functools.lru_cache(maxsize=1)
def english() -> gettext.NullTranslations:
    """The English catalog shipped with the pages (``web/locale/en``)."""
    mo = files("openbackpack.web") / "locale" / "en" / "LC_MESSAGES" / f"{MESSAGES_DOMAIN}.mo"
    with mo.open("rb") as compiled:
        return gettext.GNUTranslations(compiled)


def create_web_app(
    store: Store,
    settings: WebSettings,
    *,
    identify: Identify,
    templates: jinja2.BaseLoader | None = None,
    translations: gettext.NullTranslations | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """Return the pages as an ASGI app, ready to serve or to mount under a prefix.

    Args:
        store: the store the services work on.
        settings: secrets, the mailer and the platform's URLs.
        identify: the platform's hook naming the current user (None: nobody logged in).
        templates: a loader tried before the built-in templates, to override them by name.
        translations: the message catalog (default: the English one shipped, see
            :func:`english`); a platform passes its own for other languages.
        extra_routes: more routes served by the app (``web serve`` adds its demo login).
    """
    catalog = translations if translations is not None else english()
    routes = [
        Route("/style.css", _stylesheet, name="stylesheet"),
        *_learner.routes(),
        *_oauth.routes(),
        *_bulk.routes(),
        *_images.routes(),
        *_admin.routes(),
        *extra_routes,
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=settings.secret_key,
            session_cookie=settings.session_cookie,
            same_site="lax",
            https_only=settings.https_only,
        ),
    ]
    handlers = {
        LoginRequired: _login_required,
        HTTPException: _http_error,
        RecordNotFoundError: _not_found,
        NotOwnerError: _not_found,
        NotConnectedError: _not_found,
        BackpackError: _backpack_error,
        Exception: _server_error,
    }
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)
    app.state.web = Web(store, settings, identify, environment(templates, catalog), catalog)
    app.state.bulk_jobs = _bulk.BulkJobs()
    app.state.images = _images.ImageCache(allow_private=settings.allow_private_images)
    return app
