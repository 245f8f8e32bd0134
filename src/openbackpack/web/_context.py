"""What the pages need from the platform, and what each request handler shares."""

from __future__ import annotations

import gettext
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jinja2
from starlette.requests import Request

from openbackpack.client import BackpackClient
from openbackpack.services import Mailer
from openbackpack.store import Store
from openbackpack.web._fragments import RenderedFragments

__all__ = ["Identify", "WebSettings", "WebUser"]


@dataclass(frozen=True)
class WebUser:
    """The platform's current user: an opaque id, whether they manage the site, their email.

    ``email`` (optional) lists the learner's own awards made to it, besides those made to the
    emails of their connected backpack accounts.
    """

    id: str
    is_admin: bool = False
    email: str | None = None


Identify = Callable[[Request], WebUser | None]
"""The platform's hook: the user making ``request``, or None when nobody is logged in."""


@dataclass(frozen=True)
class WebSettings:
    """How the pages run: secrets, where mail goes, the platform's URLs.

    Attributes:
        secret_key: signs the session cookie; keep it secret and stable across restarts.
        issuer_base_url: where this site's hosted Open Badges documents are served (the
            awards pushed from the pages point there).
        mailer: sends the verification codes of v1/v2 connections.
        sender: the From address of those mails.
        login_url: where a visitor who is not logged in is sent (else they get 401).
        https_only: mark the session cookie Secure (set it when served over https).
        session_cookie: the session cookie's name.
        allow_private_images: let badge images be fetched from loopback and private
            addresses (for tests and demos on one machine; never on a public site).
        client: a backpack client to share (its pool and retry policy).
    """

    secret_key: str
    issuer_base_url: str
    mailer: Mailer
    sender: str = "openbackpack@localhost"
    login_url: str | None = None
    https_only: bool = False
    session_cookie: str = "openbackpack_session"
    allow_private_images: bool = False
    client: BackpackClient | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Web:
    """What every handler shares: the store, the settings, the hook and the templates."""

    store: Store
    settings: WebSettings
    identify: Identify
    templates: jinja2.Environment
    translations: gettext.NullTranslations
    fragments: RenderedFragments = field(default_factory=RenderedFragments)

    def gettext(self, message: str, **values: Any) -> str:
        """Translate ``message`` and fill in its ``%(name)s`` placeholders."""
        text = self.translations.gettext(message)
        return text % values if values else text


def web_of(request: Request) -> Web:
    """Return the shared state of the app that serves ``request``."""
    web = request.app.state.web
    assert isinstance(web, Web)
    return web
