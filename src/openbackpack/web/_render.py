"""Rendering a page: the template environment, and the values every page gets."""

from __future__ import annotations

import gettext
from datetime import datetime
from importlib.resources import files
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from openbackpack.web._context import web_of
from openbackpack.web._images import image_links
from openbackpack.web._security import CSRF_FIELD, csrf_token

__all__ = ["environment", "redirect", "render"]


def environment(
    loader: jinja2.BaseLoader | None, translations: gettext.NullTranslations
) -> jinja2.Environment:
    """Return the Jinja2 environment: the platform's loader first, then the built-in templates.

    Autoescaping is on for every template: badge names and descriptions come from other
    hosts and are treated as hostile.
    """
    builtin = jinja2.FileSystemLoader(str(files("openbackpack.web") / "templates"))
    loaders = [builtin] if loader is None else [loader, builtin]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    # A filter, not a method call: Jinja calls filters directly, and a page may show hundreds.
    env.filters["day"] = _day
    return env


def _day(moment: datetime | None) -> str:
    """A date as ``YYYY-MM-DD`` (empty for None)."""
    return "" if moment is None else moment.strftime("%Y-%m-%d")


def render(
    request: Request, name: str, status: int = 200, *, bare: bool = False, **context: Any
) -> HTMLResponse:
    """Render template ``name`` with ``context`` plus the request, user and CSRF field.

    ``bare`` leaves out the user and the token, for the page of a crash (whose cause may be
    the platform's hook itself, and which is drawn outside the session middleware).
    """
    web = web_of(request)
    template = web.templates.get_template(name)
    html = template.render(
        request=request,
        url_for=request.url_for,
        image_src=image_links(request),
        csrf_field=CSRF_FIELD,
        csrf_token="" if bare else csrf_token(request),
        user=None if bare else web.identify(request),
        **context,
    )
    return HTMLResponse(html, status_code=status)


def redirect(request: Request, name: str, **params: Any) -> RedirectResponse:
    """Answer a successful form with 303 See Other to the named page (post/redirect/get)."""
    return RedirectResponse(str(request.url_for(name, **params)), status_code=303)
