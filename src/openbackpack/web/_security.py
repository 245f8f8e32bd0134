"""Who may do what: the CSRF token, the current user, the security headers."""

from __future__ import annotations

import hmac
import secrets
from typing import Final

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openbackpack.web._context import WebUser, web_of

__all__ = [
    "CSRF_FIELD",
    "SECURITY_HEADERS",
    "LoginRequired",
    "SecurityHeaders",
    "check_csrf",
    "csrf_token",
    "require_admin",
    "require_user",
]

_CSRF_KEY: Final = "csrf"
CSRF_FIELD: Final = "csrf_token"

# No script at all, styles and images only from this app (images also as data: URIs, which is
# how badge images are carried), forms only back here, and no framing by anyone.
_CSP: Final = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS: Final = (
    (b"content-security-policy", _CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)


SECURITY_HEADERS: Final = {name.decode(): value.decode() for name, value in _HEADERS}
"""The headers every page carries, by name."""


class LoginRequired(Exception):
    """Nobody is logged in: answer 401, or send the visitor to the platform's login page."""


def csrf_token(request: Request) -> str:
    """Return this session's CSRF token, creating it on first use."""
    token = request.session.get(_CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[_CSRF_KEY] = token
    return token


async def check_csrf(request: Request) -> None:
    """Refuse (403) a form whose token is missing or is not this session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get(_CSRF_KEY)
    if (
        not isinstance(sent, str)
        or not isinstance(expected, str)
        or not hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise HTTPException(403, web_of(request).gettext("The form expired. Please try again."))


def require_user(request: Request) -> WebUser:
    """Return the platform's current user, or raise :class:`LoginRequired`."""
    user = web_of(request).identify(request)
    if user is None:
        raise LoginRequired
    return user


def require_admin(request: Request) -> WebUser:
    """Return the current user if they manage site backpacks; 403 for anyone else."""
    user = require_user(request)
    if not user.is_admin:
        raise HTTPException(403, web_of(request).gettext("Only site administrators may do this."))
    return user


class SecurityHeaders:
    """ASGI middleware adding the CSP, no-sniff and no-framing headers to every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in _HEADERS if n not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
