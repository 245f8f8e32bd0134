"""What the host's Open Badges 3.0 API answers are made of: errors, bearer tokens, bodies.

Every failure is an ``Imsx_StatusInfo`` payload (``imsx_codeMajor`` ``failure``, severity
``error``, one code minor naming the reason) with the matching HTTP status, so a client can
tell an expired token (401 ``unauthorizedrequest``) from a missing scope (403
``forbidden``) or a credential that does not verify (400 ``invalid_data``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import Depends
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from openbackpack.host import _schema as t
from openbackpack.host._accounts import token_use
from openbackpack.host._apis import OB3
from openbackpack.host._body import BodyError, read_body
from openbackpack.host._loop import loop_dependency
from openbackpack.host._state import Ctx, HostState, context
from openbackpack.host._wire import dumps
from openbackpack.models.ob3api import CodeMinor
from openbackpack.protocols.ob3api import Scope, is_compact_jws, status_info

__all__ = [
    "Ob3Authed",
    "Ob3Ctx",
    "Ob3Error",
    "Pushed",
    "compact_json",
    "ob3_authenticated",
    "ob3_error_response",
    "ob3_json",
    "ob3_profile_body",
    "ob3_status_error",
    "read_pushed",
]

_FIELD: Final = "openbackpack.host"
_JSON: Final = "application/json"


class Ob3Error(Exception):
    """A failed OB 3.0 API request, answered with ``Imsx_StatusInfo``."""

    def __init__(
        self,
        status: int,
        code_minor: CodeMinor,
        description: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.code_minor = code_minor
        self.description = description
        self.headers = dict(headers or {})


_MINOR_OF_STATUS: Final = {
    400: CodeMinor.INVALID_DATA,
    401: CodeMinor.UNAUTHORIZEDREQUEST,
    403: CodeMinor.FORBIDDEN,
    404: CodeMinor.NOT_FOUND,
    405: CodeMinor.NOT_ALLOWED,
    413: CodeMinor.INVALID_DATA,
    415: CodeMinor.NOT_ACCEPTABLE,
    500: CodeMinor.INTERNAL_SERVER_ERROR,
    503: CodeMinor.SERVER_BUSY,
}


def ob3_error_response(error: Ob3Error) -> Response:
    """The bytes of an error: its ``Imsx_StatusInfo`` as JSON, never cached."""
    body = status_info(error.code_minor, error.description, field_name=_FIELD)
    headers = {"Cache-Control": "no-store", **error.headers}
    return Response(dumps(body), error.status, media_type=_JSON, headers=headers)


def ob3_status_error(status: int, description: str) -> Ob3Error:
    """The error for a bare HTTP status (an unknown path, a wrong method, a crash)."""
    return Ob3Error(status, _MINOR_OF_STATUS.get(status, CodeMinor.UNKNOWN), description)


def ob3_json(data: Any, status: int = 200, *, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON answer of the API (private to the token's user: never stored by caches)."""
    merged = {"Cache-Control": "no-store", **(headers or {})}
    return Response(dumps(data), status, media_type=_JSON, headers=merged)


@dataclass(frozen=True, slots=True)
class Ob3Ctx:
    """An OB 3.0 API request with a valid access token: the caller and the granted scopes."""

    ctx: Ctx
    scopes: frozenset[str]

    def need(self, scope: Scope) -> None:
        """Refuse the request with 403 ``forbidden`` unless the token carries ``scope``."""
        if scope.value not in self.scopes:
            raise Ob3Error(
                403,
                CodeMinor.FORBIDDEN,
                f"The access token was not granted the scope {scope.value}.",
                headers={
                    "WWW-Authenticate": (
                        f'Bearer realm="{OB3.realm}", error="insufficient_scope", '
                        f'scope="{scope.value}"'
                    )
                },
            )


def _unauthorized(description: str) -> Ob3Error:
    return Ob3Error(
        401,
        CodeMinor.UNAUTHORIZEDREQUEST,
        description,
        headers={"WWW-Authenticate": f'Bearer realm="{OB3.realm}", error="invalid_token"'},
    )


def _bearer(request: Request) -> str | None:
    # Only the header (RFC 6750 §2.1): a token in a URL ends up in logs and Referer headers.
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def ob3_authenticated(request: Request) -> Ob3Ctx:
    """The context of an OB 3.0 API request; 401 ``unauthorizedrequest`` without a valid token.

    Only tokens issued to clients registered for the 3.0 API count: a Badge Connect or a
    Badgr token is not a 3.0 token, whatever its scopes.
    """
    ctx = context(request)
    token = _bearer(request)
    if token is None:
        raise _unauthorized("An access token is required (Authorization: Bearer).")
    with ctx.tx() as connection:
        use = token_use(connection, token, ctx.settings.token_lifetime)
        api = (
            None
            if use is None or use.client_id is None
            else connection.scalar(
                select(t.oauth_clients.c.api).where(t.oauth_clients.c.id == use.client_id)
            )
        )
    if use is None or api != OB3.key:
        raise _unauthorized("The access token is unknown, expired or revoked.")
    if not use.user.verified_emails:
        raise Ob3Error(403, CodeMinor.FORBIDDEN, "The account has no verified e-mail address.")
    return Ob3Ctx(Ctx(ctx.state, request, ctx.origin, use.user), use.scopes)


Ob3Authed = Annotated[Ob3Ctx, Depends(loop_dependency(ob3_authenticated))]


@dataclass(frozen=True, slots=True)
class Pushed:
    """A credential as pushed: a JSON object (embedded proof) or a compact JWS (VC-JWT)."""

    document: dict[str, Any] | None = None
    jws: str | None = None


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_pushed(request: Request) -> Pushed:
    """The body of ``upsertCredential``: JSON, or a compact JWS sent as ``text/plain``.

    Raises:
        Ob3Error: 415 for another media type, 413 when too large, 400 when unreadable.
    """
    state: HostState = request.app.state.host
    media_type = _media_type(request)
    if media_type == "text/plain":
        text = await _text(request, state.settings.max_body_bytes)
        if not is_compact_jws(text):
            raise Ob3Error(400, CodeMinor.INVALID_DATA, "The text/plain body is not a compact JWS.")
        return Pushed(jws=text.strip())
    if media_type not in ("application/json", "application/ld+json", "application/vc+ld+json"):
        raise Ob3Error(
            415,
            CodeMinor.NOT_ACCEPTABLE,
            "Send the credential as application/json, or as a compact JWS in text/plain.",
        )
    body = await _json(request, state.settings.max_body_bytes)
    if not isinstance(body, dict):
        raise Ob3Error(400, CodeMinor.INVALID_DATA, "The credential must be a JSON object.")
    return Pushed(document=body)


async def _text(request: Request, max_bytes: int) -> str:
    try:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise Ob3Error(
                    413, CodeMinor.INVALID_DATA, f"Request body larger than {max_bytes} bytes."
                )
            chunks.append(chunk)
        return b"".join(chunks).decode("ascii")
    except UnicodeDecodeError:
        raise Ob3Error(400, CodeMinor.INVALID_DATA, "A compact JWS is ASCII text.") from None


async def _json(request: Request, max_bytes: int) -> Any:
    try:
        return await read_body(request, max_bytes)
    except BodyError as exc:
        minor = _MINOR_OF_STATUS.get(exc.status, CodeMinor.INVALID_DATA)
        raise Ob3Error(exc.status, minor, exc.message) from None


async def ob3_profile_body(request: Request) -> Any:
    """The JSON body of ``putProfile``; a malformed one is 400 ``invalid_data``."""
    if _media_type(request) not in ("application/json", "application/ld+json", ""):
        raise Ob3Error(415, CodeMinor.NOT_ACCEPTABLE, "Send the profile as application/json.")
    state: HostState = request.app.state.host
    return await _json(request, state.settings.max_body_bytes)


def compact_json(data: Any) -> str:
    """JSON text as stored (compact, UTF-8 kept)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
