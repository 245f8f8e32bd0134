"""``POST /o/token``: Badgr's password and refresh-token grants, and Badge Connect's grants.

Moodle posts ``username`` and ``password`` as multipart with no ``grant_type`` and no
``client_id``; that runs under the public client with the grant forced to ``password``.
Unlike Badgr, a JSON body is read too (Badgr silently ignores it and answers
``invalid_request``).

A request whose client credentials name a registered Badge Connect client runs the
authorization-code or refresh grant of that client instead (as Badgr's one token endpoint
does); those requests are authenticated by the client secret and are not login-throttled.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Annotated, Any, Final

from fastapi import Depends
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from openbackpack.host._accounts import (
    IssuedToken,
    check_password,
    clear_failures,
    issue_token,
    lock_key,
    locked_for,
    record_failure,
    revoke_client_token,
    rotate_refresh_token,
)
from openbackpack.host._apis import BADGE_CONNECT, OAuthApi
from openbackpack.host._body import BodyError, read_body
from openbackpack.host._clients import (
    CodeReplayError,
    Credentials,
    authenticate_client,
    client_credentials,
    find_client,
    grant_code,
    invalid_client,
    refresh,
    revoke_replayed,
)
from openbackpack.host._registration import register
from openbackpack.host._registry import BADGR, handles
from openbackpack.host._state import Ctx, HostState, Open
from openbackpack.host._wire import OAuthError, dumps

__all__ = [
    "OAuthForm",
    "RegistrationBody",
    "client_token",
    "oauth_form",
    "registration_answer",
    "registration_body",
    "revoke_token",
]

_THROTTLED: Final = "Too many login attempts. Please wait and try again."


async def oauth_form(request: Request) -> dict[str, str]:
    """The token request's parameters: form, multipart or JSON, strings only."""
    state: HostState = request.app.state.host
    try:
        body = await read_body(request, state.settings.max_body_bytes)
    except BodyError as exc:
        raise OAuthError(
            400, {"error": "invalid_request", "error_description": exc.message}
        ) from None
    if not isinstance(body, dict):
        raise OAuthError(400, {"error": "invalid_request", "error_description": "Invalid body."})
    return {key: value for key, value in body.items() if isinstance(value, str)}


def _missing(name: str) -> OAuthError:
    return OAuthError(
        400,
        {"error": "invalid_request", "error_description": f"Request is missing {name} parameter."},
    )


def _client(request: Request, form: dict[str, str], public_id: str) -> str | None:
    """The client id sent (Basic header or form field), after checking it is the public one."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    client_id, secret = form.get("client_id"), form.get("client_secret", "")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(credentials).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError(401, {"error": "invalid_client"}) from None
    if client_id is None:
        return None
    if client_id != public_id:
        raise OAuthError(400, {"error": "invalid client_id"}, html=True)
    if secret:
        # The public client has an empty secret: anything else cannot match.
        raise OAuthError(400, {"error": "invalid client_secret"}, html=True)
    return client_id


def _grant(ctx: Ctx, connection: Connection, form: dict[str, str]) -> IssuedToken:
    client_id = _client(ctx.request, form, ctx.settings.public_client_id)
    grant_type = form.get("grant_type")
    if grant_type is None:
        if client_id is not None:
            raise _missing("grant_type")
        grant_type = "password"
    lifetime = ctx.settings.token_lifetime
    if grant_type == "password":
        for name in ("username", "password"):
            if not form.get(name):
                raise _missing(name)
        user = check_password(connection, form["username"], form["password"])
        if user is None:
            raise OAuthError(
                400,
                {"error": "invalid_grant", "error_description": "Invalid credentials given."},
            )
        return issue_token(connection, user.id, lifetime)
    if grant_type == "refresh_token":
        if not form.get("refresh_token"):
            raise _missing("refresh_token")
        issued = rotate_refresh_token(connection, form["refresh_token"], lifetime)
        if issued is None:
            raise OAuthError(400, {"error": "invalid_grant"})
        return issued
    raise OAuthError(400, {"error": "unsupported_grant_type"})


def _throttle_key(request: Request, form: dict[str, str]) -> str:
    # A digest keeps the key short whatever was posted (the column holds 255).
    username = form.get("username", "").strip().lower()
    if username and form.get("grant_type", "password") == "password":
        return "user:" + hashlib.sha256(username.encode()).hexdigest()
    refresh_token = form.get("refresh_token", "")
    if refresh_token and form.get("grant_type") == "refresh_token":
        # A refresh grant names no user: keyed by the token, one bad token cannot lock out
        # every other user whose refreshes come from the same address (an LMS).
        return "refresh:" + hashlib.sha256(refresh_token.encode()).hexdigest()
    return f"ip:{request.client.host if request.client else 'unknown'}"


def _token_response(issued: IssuedToken) -> Response:
    body: dict[str, Any] = {
        "access_token": issued.access_token,
        "expires_in": issued.expires_in,
        "token_type": "Bearer",
        "scope": issued.scope,
    }
    if issued.refresh_token is not None:
        body["refresh_token"] = issued.refresh_token
    return Response(
        dumps(body, compact=False),
        media_type="application/json",
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


OAuthForm = Annotated[dict[str, str], Depends(oauth_form)]


def _registered(ctx: Ctx, form: dict[str, str]) -> Credentials | None:
    """The credentials sent, when they name a registered Badge Connect client."""
    credentials = client_credentials(ctx.request, form)
    if credentials is None or credentials.client_id == ctx.settings.public_client_id:
        return None
    with ctx.tx() as connection:
        return credentials if find_client(connection, credentials.client_id) else None


def _client_grant(
    ctx: Ctx, form: dict[str, str], credentials: Credentials, api: OAuthApi = BADGE_CONNECT
) -> Response:
    grant_type = form.get("grant_type")
    try:
        with ctx.tx() as connection:
            client = authenticate_client(connection, credentials, api)
            if grant_type == "authorization_code":
                issued = grant_code(connection, client, form, ctx.settings, api)
            elif grant_type == "refresh_token":
                issued = refresh(connection, client, form, ctx.settings)
            else:
                raise OAuthError(400, {"error": "unsupported_grant_type"})
    except CodeReplayError as replay:
        with ctx.tx() as connection:
            revoke_replayed(connection, replay)
        raise
    return _token_response(issued)


def _query_refused(ctx: Ctx) -> None:
    if ctx.request.url.query:
        raise OAuthError(
            400,
            {"error": "Token grant parameters must be sent in post body, not query parameters"},
            html=True,
        )


def client_token(ctx: Ctx, form: dict[str, str], api: OAuthApi) -> Response:
    """The token endpoint of an API whose every client is registered: code and refresh grants.

    Raises:
        OAuthError: 401 ``invalid_client`` without client credentials (or wrong ones), 400
            for a bad grant (a replayed code also revokes the tokens it gave).
    """
    if ctx.request.url.query:
        raise OAuthError(
            400,
            {
                "error": "invalid_request",
                "error_description": "Token parameters belong in the body, not the query.",
            },
        )
    credentials = client_credentials(ctx.request, form)
    if credentials is None:
        raise invalid_client(api)
    return _client_grant(ctx, form, credentials, api)


def revoke_token(ctx: Ctx, form: dict[str, str], api: OAuthApi) -> Response:
    """Revoke a token pair of the authenticated client (RFC 7009): 200 even if unknown."""
    credentials = client_credentials(ctx.request, form)
    if credentials is None:
        raise invalid_client(api)
    with ctx.tx() as connection:
        client = authenticate_client(connection, credentials, api)
        token = form.get("token", "")
        if not token:
            raise OAuthError(
                400, {"error": "invalid_request", "error_description": "Missing token."}
            )
        revoke_client_token(connection, client.id, token)
    return Response(status_code=200, headers={"Cache-Control": "no-store"})


async def registration_body(request: Request) -> Any:
    """The JSON body of a registration; a malformed one is ``invalid_client_metadata``."""
    state: HostState = request.app.state.host
    try:
        return await read_body(request, state.settings.max_body_bytes)
    except BodyError as exc:
        body = {"error": "invalid_client_metadata", "error_description": exc.message}
        raise OAuthError(exc.status, body) from None


RegistrationBody = Annotated[Any, Depends(registration_body)]


def registration_answer(ctx: Ctx, body: Any, api: OAuthApi) -> Response:
    """Register a client of ``api`` (RFC 7591); 201 with its id and secret, never cached."""
    with ctx.tx() as connection:
        answer = register(connection, body, ctx.settings, api)
    headers = {} if api.badgr(ctx.settings) else {"Cache-Control": "no-store", "Pragma": "no-cache"}
    return Response(dumps(answer), 201, media_type="application/json", headers=headers)


@handles(BADGR, "token")
def token(ctx: Open, form: OAuthForm) -> Response:
    """Issue tokens for a password or refresh-token grant, with Badgr's throttle on failures."""
    _query_refused(ctx)
    credentials = _registered(ctx, form)
    if credentials is not None:
        return _client_grant(ctx, form, credentials)
    cap = ctx.settings.login_backoff_max
    if not cap:
        with ctx.tx() as connection:
            return _token_response(_grant(ctx, connection, form))
    return _throttled_grant(ctx, form, cap)


def _throttled_grant(ctx: Ctx, form: dict[str, str], cap: int) -> Response:
    """Check, evaluate and count one attempt in one transaction holding the throttle key.

    Holding the key makes concurrent attempts for it queue up, so each one sees the lock
    its predecessors' failures set: a burst gets exactly one evaluation per free slot.
    """
    key = _throttle_key(ctx.request, form)
    failure: OAuthError | None = None
    with ctx.tx() as connection:
        lock_key(connection, key)
        wait = locked_for(connection, key)
        if wait:
            body: dict[str, Any] = {
                "error_description": _THROTTLED,
                "error": "login attempts throttled",
                "expires": wait,
            }
            raise OAuthError(429, body, html=True, headers={"Retry-After": str(wait)})
        try:
            with connection.begin_nested():
                issued = _grant(ctx, connection, form)
        except OAuthError as exc:
            failure = exc
            record_failure(connection, key, cap)
        else:
            clear_failures(connection, key)
    if failure is not None:
        raise failure
    return _token_response(issued)
