"""The authorization page of Badge Connect and the 3.0 API: an HTML login and consent form.

Both APIs run this page (at ``/o/authorize`` and ``/o/v3p0/authorize``); a client is known
only to the page of the API it registered with. ``GET /o/authorize`` checks the request
(RFC 6749 §4.1.1 with PKCE) and shows the form;
``POST /o/authorize`` logs the user in, records their consent and redirects to the client's
``redirect_uri`` with ``code`` and ``state`` (Badgr mode also appends ``scope``). Errors about
the client or its redirect URI are shown on the page, never redirected (RFC 6749 §4.1.2.1);
every other error goes back to the client as ``error=...``. The specification's mode requires
PKCE with S256; Badgr mode makes it optional and accepts ``plain``, as Badgr does.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import Depends, Query
from sqlalchemy import Connection
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openbackpack.host._accounts import (
    check_password,
    clear_failures,
    locked_for,
    record_failure,
)
from openbackpack.host._apis import BADGE_CONNECT, OAuthApi
from openbackpack.host._clients import Client, find_client, issue_code, redirect_allowed
from openbackpack.host._oauth import OAuthForm
from openbackpack.host._registry import BADGECONNECT, handles
from openbackpack.host._state import Ctx, Open

__all__ = ["AuthorizeParams", "AuthorizeQuery", "authorization_page", "authorization_submit"]

_PARAMS: Final = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)
_CHALLENGE: Final = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


@dataclass(frozen=True, slots=True)
class _Request:
    """A checked authorization request."""

    api: OAuthApi
    client: Client
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    challenge: str | None
    method: str | None
    params: dict[str, str]


class _PageError(Exception):
    """An error shown on the page: the client cannot be trusted with a redirect."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _RedirectError(Exception):
    """An error sent back to the client's redirect URI (RFC 6749 §4.1.2.1)."""

    def __init__(self, redirect_uri: str, error: str, description: str, state: str | None):
        super().__init__(error)
        self.response = _redirect(
            redirect_uri, {"error": error, "error_description": description, "state": state}
        )


def _redirect(uri: str, params: Mapping[str, str | None]) -> Response:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(key, value) for key, value in params.items() if value is not None]
    target = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
    return RedirectResponse(target, status_code=302, headers={"Cache-Control": "no-store"})


def _client_and_redirect(
    connection: Connection, params: Mapping[str, str], api: OAuthApi
) -> tuple[Client, str]:
    client = find_client(connection, params.get("client_id", ""), api)
    if client is None:
        raise _PageError(400, "This application is not registered with this backpack.")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri or not redirect_allowed(client.redirect_uris, redirect_uri):
        raise _PageError(400, "The redirect URI is not one this application registered.")
    return client, redirect_uri


def _pkce(params: Mapping[str, str], badgr: bool) -> tuple[str | None, str | None, str]:
    """The challenge, its method, and a problem (``""`` when there is none)."""
    challenge = params.get("code_challenge") or None
    method = params.get("code_challenge_method") or None
    if challenge is None:
        return None, None, "" if badgr else "PKCE is required: send code_challenge (S256)."
    if not _CHALLENGE.fullmatch(challenge):
        return None, None, "code_challenge is not 43 to 128 unreserved characters."
    method = method or ("S256" if badgr else None)
    allowed = ("S256", "plain") if badgr else ("S256",)
    if method not in allowed:
        return None, None, "code_challenge_method must be S256."
    return challenge, method, ""


def _check(
    connection: Connection, params: Mapping[str, str], api: OAuthApi, badgr: bool
) -> _Request:
    client, redirect_uri = _client_and_redirect(connection, params, api)
    state = params.get("state") or None
    if params.get("response_type") != "code":
        raise _RedirectError(redirect_uri, "unsupported_response_type", "Use code.", state)
    requested = params.get("scope", "").split() or list(client.scopes)
    scopes = tuple(s for s in dict.fromkeys(requested) if s in client.scopes)
    if not scopes:
        raise _RedirectError(redirect_uri, "invalid_scope", "No requested scope is allowed.", state)
    challenge, method, problem = _pkce(params, badgr)
    if problem:
        raise _RedirectError(redirect_uri, "invalid_request", problem, state)
    kept = {name: params[name] for name in _PARAMS if params.get(name)}
    return _Request(api, client, redirect_uri, scopes, state, challenge, method, kept)


def _page(body: str, status: int = 200) -> HTMLResponse:
    document = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>Connect your backpack</title></head><body>" + body + "</body></html>"
    )
    # The page must not be framed (clickjacking) nor cached (it may hold an error for a user).
    headers = {"X-Frame-Options": "DENY", "Cache-Control": "no-store"}
    return HTMLResponse(document, status_code=status, headers=headers)


def _form(request: _Request, error: str = "", status: int = 200) -> HTMLResponse:
    hidden = "".join(
        f'<input type=hidden name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in request.params.items()
    )
    scopes = "".join(
        f"<li>{html.escape(request.api.descriptions.get(scope, scope))}</li>"
        for scope in request.scopes
    )
    problem = f"<p role=alert class=error>{html.escape(error)}</p>" if error else ""
    body = (
        f"<h1>{html.escape(request.client.name)} wants to connect to your backpack</h1>"
        f"{problem}<p>It asks to:</p><ul>{scopes}</ul>"
        f'<form method=post action="{html.escape(request.api.authorize_path)}">{hidden}'
        "<label>E-mail <input name=email type=email autocomplete=username></label> "
        "<label>Password <input name=password type=password "
        "autocomplete=current-password></label> "
        "<button name=consent value=allow type=submit>Allow</button> "
        "<button name=consent value=deny type=submit>Deny</button>"
        "</form>"
    )
    return _page(body, status)


def _error_page(error: _PageError) -> HTMLResponse:
    return _page(f"<h1>Cannot connect</h1><p>{html.escape(error.message)}</p>", error.status)


def _throttle_key(email: str) -> str:
    # The same key as the token endpoint's, so both doors share one counter per account.
    return "user:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


Param = Annotated[str | None, Query()]


@dataclass(frozen=True, slots=True)
class AuthorizeQuery:
    """The query parameters of an authorization request, declared for the OpenAPI document.

    The page reads them from the request itself (:func:`authorization_page`), so that
    unknown or repeated ones are handled alike for every API.
    """

    response_type: Param = None
    client_id: Param = None
    redirect_uri: Param = None
    scope: Param = None
    state: Param = None
    code_challenge: Param = None
    code_challenge_method: Param = None


AuthorizeParams = Annotated[AuthorizeQuery, Depends()]
"""The declared query of the authorization page, as a FastAPI dependency."""


def authorization_page(ctx: Ctx, api: OAuthApi) -> Response:
    """The login and consent form of ``api`` for a valid request; else an error page or redirect."""
    params = {key: value for key, value in ctx.request.query_params.items() if key in _PARAMS}
    try:
        with ctx.tx() as connection:
            request = _check(connection, params, api, api.badgr(ctx.settings))
    except _PageError as error:
        return _error_page(error)
    except _RedirectError as error:
        return error.response
    return _form(request)


@handles(BADGECONNECT, "authorize")
def authorize_page(ctx: Open, _query: AuthorizeParams) -> Response:
    """Show the login and consent form for a valid authorization request."""
    return authorization_page(ctx, BADGE_CONNECT)


def _login(ctx: Ctx, request: _Request, form: Mapping[str, str]) -> Response | int:
    """The user id of a good login, or the page to answer instead."""
    email, password = form.get("email", ""), form.get("password", "")
    cap, key = ctx.settings.login_backoff_max, _throttle_key(email)
    with ctx.tx() as connection:
        if cap and locked_for(connection, key):
            return _form(request, "Too many login attempts. Please wait and try again.", 429)
        user = check_password(connection, email, password) if email and password else None
        if user is None:
            if cap:
                record_failure(connection, key, cap)
            return _form(request, "The e-mail address or the password is wrong.", 401)
        if cap:
            clear_failures(connection, key)
    if not user.verified_emails:
        return _form(request, "Verify your e-mail address before connecting.", 403)
    return user.id


@handles(BADGECONNECT, "authorize.submit")
def authorize_submit(ctx: Open, form: OAuthForm) -> Response:
    """Log in and consent: redirect to the client with a code, or with ``access_denied``."""
    return authorization_submit(ctx, form, BADGE_CONNECT)


def authorization_submit(ctx: Ctx, form: Mapping[str, str], api: OAuthApi) -> Response:
    """Log in and consent to ``api``'s client: redirect with a code, or with the error."""
    params = {key: value for key, value in form.items() if key in _PARAMS}
    badgr = api.badgr(ctx.settings)
    try:
        with ctx.tx() as connection:
            request = _check(connection, params, api, badgr)
    except _PageError as error:
        return _error_page(error)
    except _RedirectError as error:
        return error.response
    consent = form.get("consent")
    if consent == "deny":
        return _redirect(
            request.redirect_uri,
            {"error": "access_denied", "error_description": "Denied.", "state": request.state},
        )
    if consent != "allow":
        return _form(request, "Choose Allow or Deny.", 400)
    outcome = _login(ctx, request, form)
    if isinstance(outcome, Response):
        return outcome
    with ctx.tx() as connection:
        code = issue_code(
            connection,
            request.client,
            outcome,
            redirect_uri=request.redirect_uri,
            scopes=request.scopes,
            challenge=request.challenge,
            method=request.method,
            lifetime=ctx.settings.auth_code_lifetime,
        )
    extra = {"scope": " ".join(request.scopes)} if badgr else {}
    return _redirect(request.redirect_uri, {"code": code, "state": request.state, **extra})
