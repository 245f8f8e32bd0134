"""Badge Connect (Open Badges 2.1) on the host: manifest, registration, revocation, API.

Two modes. By default everything follows the 1EdTech specification and its JSON Schemas
(apiBase ``/ims/ob/v2p1``, ``assertions`` and ``profile`` keys, ``error`` a string or left
out, ``Link`` with ``X-Total-Count``, 200 for a push, 404/405 in the envelope). With
``HostSettings.badgr_quirks`` the host answers as Badgr does (badgr-wire.md §7): a 302 to
``/bcv1/manifest/{domain}``, apiBase ``/bcv1``, ``results`` lists, ``error`` as null, an
array or an object, 201 for a push, no ``X-Total-Count``, ``Link`` entries without spaces,
400 for not-found and 401 ``PERMISSION_DENIED`` for a wrong method.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Query
from sqlalchemy import Connection, Row
from starlette.requests import Request
from starlette.responses import Response

from openbackpack.host._accounts import HostUser, load_user, token_use
from openbackpack.host._apis import BADGE_CONNECT
from openbackpack.host._backpack_api import backpack_items
from openbackpack.host._body import BodyError, read_body
from openbackpack.host._clients import (
    offered_scopes,
)
from openbackpack.host._import import DUPLICATE, import_badge
from openbackpack.host._loop import loop_dependency, on_loop
from openbackpack.host._oauth import OAuthForm, RegistrationBody, registration_answer, revoke_token
from openbackpack.host._profiles import ProfileError, profile_id, update_profile
from openbackpack.host._public import public_assertion
from openbackpack.host._registry import BADGECONNECT, handles
from openbackpack.host._render import OB2_CONTEXT, recipient_v2
from openbackpack.host._state import Ctx, HostState, Open, bearer_token, context
from openbackpack.host._validate import parse_datetime
from openbackpack.host._wire import (
    BadgeConnectError,
    BadgrError,
    badgeconnect_body,
    dumps,
    ob_time,
)
from openbackpack.protocols.badgeconnect import (
    API_PATH,
    BADGR_API_PATH,
    BADGR_MANIFEST_CONTEXT,
    MANIFEST_CONTEXT,
    WELL_KNOWN_PATH,
    Scope,
)

__all__ = ["api_prefix", "badgeconnect_response"]

_NAME: Final = "openbackpack reference host"
_LOGO: Final = "data:image/svg+xml;base64," + base64.b64encode(
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
    b'<rect width="64" height="64" rx="12" fill="#2a6f97"/></svg>'
).decode("ascii")
_MANIFEST_MAX_AGE: Final = 300
_DEFAULT_LIMIT: Final = 100
_MAX_LIMIT: Final = 500
# Badgr's own scopes also open Badge Connect routes, as Badgr allows (badgr-wire.md §7.5).
_EQUIVALENT: Final = {
    Scope.ASSERTION_READONLY.value: {"r:backpack", "rw:backpack"},
    Scope.ASSERTION_CREATE.value: {"rw:backpack"},
    Scope.PROFILE_READONLY.value: {"r:profile", "rw:profile"},
    Scope.PROFILE_UPDATE.value: {"rw:profile"},
}


def api_prefix(badgr_quirks: bool) -> str:
    """Where the API routes are mounted: ``/ims/ob/v2p1``, or Badgr's ``/bcv1``."""
    return BADGR_API_PATH if badgr_quirks else API_PATH


def badgeconnect_response(error: BadgeConnectError, badgr: bool) -> Response:
    """The envelope of a Badge Connect failure."""
    body = badgeconnect_body(error.status, error.status_text, error.error, badgr=badgr)
    return Response(dumps(body), error.status, media_type="application/json", headers=error.headers)


def _ok(
    data: Mapping[str, Any],
    badgr: bool,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = {**badgeconnect_body(200, "OK", badgr=badgr), **data}
    return Response(dumps(body), status, media_type="application/json", headers=dict(headers or {}))


def _text(badgr: bool, message: str) -> str | None:
    # Badgr sends "error": null where the specification's host explains itself.
    return None if badgr else message


# ---------------------------------------------------------------------------- manifest


def _domain(ctx: Ctx) -> str:
    return urlsplit(ctx.origin).hostname or "localhost"


def _manifest(ctx: Ctx) -> dict[str, Any]:
    origin, scopes = ctx.origin, list(offered_scopes(ctx.settings))
    if ctx.settings.badgr_quirks:
        entry = {
            "name": _NAME,
            "image": f"{origin}/static//images/logo.png",
            "apiBase": origin + BADGR_API_PATH,
            "version": "v1p0",
            "termsOfServiceUrl": f"{origin}/terms-of-service",
            "privacyPolicyUrl": f"{origin}/privacy-policy",
            "scopesOffered": scopes,
            "registrationUrl": f"{origin}/o/register",
            "authorizationUrl": f"{origin}/o/authorize",
            "tokenUrl": f"{origin}/o/token",
        }
        manifest_id = f"{origin}{BADGR_API_PATH}/manifest/{_domain(ctx)}"
        return {"id": manifest_id, "badgeConnectAPI": [entry], "@context": BADGR_MANIFEST_CONTEXT}
    entry = {
        "id": origin + API_PATH,
        "type": "BadgeConnectAPI",
        "name": _NAME,
        "image": _LOGO,
        "apiBase": origin + API_PATH,
        "version": "v2p1",
        "termsOfServiceUrl": f"{origin}/terms-of-service",
        "privacyPolicyUrl": f"{origin}/privacy-policy",
        "scopesOffered": scopes,
        "registrationUrl": f"{origin}/o/register",
        "authorizationUrl": f"{origin}/o/authorize",
        "tokenUrl": f"{origin}/o/token",
        "tokenRevocationUrl": f"{origin}/o/revoke",
    }
    return {
        "@context": MANIFEST_CONTEXT,
        "id": origin + WELL_KNOWN_PATH,
        "type": "Manifest",
        "badgeConnectAPI": [entry],
    }


def _manifest_response(ctx: Ctx) -> Response:
    content = dumps(_manifest(ctx))
    if ctx.settings.badgr_quirks:
        return Response(content, media_type="application/json")
    etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={_MANIFEST_MAX_AGE}"}
    wanted = {tag.strip() for tag in ctx.request.headers.get("if-none-match", "").split(",")}
    if etag in wanted or "*" in wanted:
        return Response(status_code=304, headers=headers)
    return Response(content, media_type="application/json", headers=headers)


@handles(BADGECONNECT, "manifest")
@on_loop
def manifest(ctx: Open) -> Response:
    """The manifest, with an ETag for If-None-Match (Badgr mode: a 302 to ``/bcv1``)."""
    if ctx.settings.badgr_quirks:
        target = f"{ctx.origin}{BADGR_API_PATH}/manifest/{_domain(ctx)}"
        return Response(status_code=302, headers={"Location": target})
    return _manifest_response(ctx)


@handles(BADGECONNECT, "manifest.badgr")
@on_loop
def manifest_badgr(ctx: Open, domain: str) -> Response:
    """The manifest where Badgr serves it; any other domain is a bare 404, as in Badgr."""
    if domain != _domain(ctx):
        return Response(status_code=404)
    return _manifest_response(ctx)


# ------------------------------------------------------------------ registration, revocation


@handles(BADGECONNECT, "register")
def register_client(ctx: Open, body: RegistrationBody) -> Response:
    """Register a client (RFC 7591); 201 with its id and secret."""
    return registration_answer(ctx, body, BADGE_CONNECT)


@handles(BADGECONNECT, "revoke")
def revoke(ctx: Open, form: OAuthForm) -> Response:
    """Revoke a token pair of the authenticated client (RFC 7009): 200 even if unknown."""
    return revoke_token(ctx, form, BADGE_CONNECT)


# ----------------------------------------------------------------------------- the API


@dataclass(frozen=True, slots=True)
class BcCtx:
    """A Badge Connect request with a valid token: the caller and the token's scopes."""

    ctx: Ctx
    scopes: frozenset[str]

    @property
    def badgr(self) -> bool:
        """Whether the host answers as Badgr does."""
        return self.ctx.settings.badgr_quirks

    def need(self, scope: Scope) -> None:
        """Refuse the request unless the token carries ``scope`` (or Badgr's equivalent)."""
        if scope.value in self.scopes or self.scopes & _EQUIVALENT.get(scope.value, set()):
            return
        raise BadgeConnectError(
            401, "PERMISSION_DENIED", _text(self.badgr, f"The token lacks the scope {scope.value}.")
        )


def bc_authenticated(request: Request) -> BcCtx:
    """The context of a Badge Connect request; 401 ``UNAUTHENTICATED`` without a valid token."""
    ctx = context(request)
    token = bearer_token(request)
    use = None
    if token is not None:
        with ctx.tx() as connection:
            use = token_use(connection, token, ctx.settings.token_lifetime)
    badgr = ctx.settings.badgr_quirks
    if use is None:
        raise BadgeConnectError(
            401,
            "UNAUTHENTICATED",
            _text(badgr, "No valid access token."),
            headers={"WWW-Authenticate": 'Bearer realm="badgeconnect"'},
        )
    if not use.user.verified_emails:
        raise BadgeConnectError(401, "PERMISSION_DENIED", _text(badgr, "No verified e-mail."))
    return BcCtx(Ctx(ctx.state, request, ctx.origin, use.user), use.scopes)


async def bc_body(request: Request) -> Any:
    """The JSON body of a Badge Connect request; a malformed one is 400 ``BAD_REQUEST``."""
    state: HostState = request.app.state.host
    try:
        return await read_body(request, state.settings.max_body_bytes)
    except BodyError as exc:
        raise BadgeConnectError(exc.status, "BAD_REQUEST", exc.message) from None


BcAuthed = Annotated[BcCtx, Depends(loop_dependency(bc_authenticated))]
BcBody = Annotated[Any, Depends(bc_body)]
Param = Annotated[str | None, Query()]


def _integer(value: str | None, default: int, minimum: int, bc: BcCtx, name: str) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number >= minimum:
        return number
    if bc.badgr and name == "limit":
        return default  # Badgr falls back to 100 for a bad limit
    raise BadgeConnectError(
        400, "BAD_REQUEST", _text(bc.badgr, f"{name} must be an integer >= {minimum}.")
    )


def _since(value: str | None, bc: BcCtx) -> datetime | None:
    if value is None:
        return None
    moment = parse_datetime(value)
    has_zone = "Z" in value.upper() or "+" in value or value.count("-") > 2
    if moment is None or (not bc.badgr and not has_zone):
        raise BadgeConnectError(
            400,
            "BAD_REQUEST",
            _text(bc.badgr, "since must be an ISO 8601 date-time with a time zone."),
        )
    return moment


def _profile_id(user: HostUser) -> str:
    return profile_id(user)


def _badgr_item(document: dict[str, Any], recipient: dict[str, Any]) -> dict[str, Any]:
    badge = document.get("badge")
    return {
        "id": document.get("id"),
        "badge": badge.get("id") if isinstance(badge, dict) else badge,
        "image": document.get("image"),
        "recipient": recipient,
        "issuedOn": document.get("issuedOn"),
        "narrative": document.get("narrative"),
        "revoked": bool(document.get("revoked", False)),
        "revocationReason": document.get("revocationReason"),
        "expires": document.get("expires"),
        "type": "Assertion",
        "@context": OB2_CONTEXT,
    }


def _document(bc: BcCtx, connection: Connection, row: Row[Any], imported: bool) -> dict[str, Any]:
    if imported:
        document: dict[str, Any] = dict(json.loads(row.assertion_json))
        recipient = recipient_v2(row.recipient_identity, "email", True, row.salt)
    else:
        origin = bc.ctx.origin
        document = public_assertion(connection, origin, row.entity_id, badge=True, issuer=True)
        recipient = recipient_v2(row.recipient_identity, row.recipient_type, row.hashed, row.salt)
    if bc.badgr:
        item = _badgr_item(document, recipient)
        item["issuedOn"] = ob_time(row.issued_on)
        return item
    return document


def _link(bc: BcCtx, limit: int, offset: int) -> str:
    request = bc.ctx.request
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("limit", "offset")]
    query += [("limit", str(limit)), ("offset", str(offset))]
    return f"<{bc.ctx.origin}{request.url.path}?{urlencode(query)}>"


def _links(bc: BcCtx, limit: int, offset: int, total: int) -> str:
    last = max(0, (total - 1) // limit * limit)
    entries: list[tuple[str, int]] = []
    if offset + limit < total:
        entries.append(("next", offset + limit))
    entries += [("first", 0), ("last", last)]
    if offset > 0:
        entries.append(("prev", max(0, offset - limit)))
    joined = [f'{_link(bc, limit, target)}; rel="{rel}"' for rel, target in entries]
    # Badgr joins the entries with a bare comma; the specification's examples with ", ".
    return ("," if bc.badgr else ", ").join(joined)


@handles(BADGECONNECT, "assertions.list")
@on_loop
def assertions_list(
    bc: BcAuthed, limit: Param = None, offset: Param = None, since: Param = None
) -> Response:
    """The caller's assertions, newest first, a page at a time with ``Link`` headers."""
    bc.need(Scope.ASSERTION_READONLY)
    size = _integer(limit, _DEFAULT_LIMIT, 1, bc, "limit")
    size = size if bc.badgr else min(size, _MAX_LIMIT)
    start = _integer(offset, 0, 0, bc, "offset")
    after = _since(since, bc)
    with bc.ctx.tx() as connection:
        pairs = backpack_items(connection, bc.ctx, include_revoked=True, include_expired=True)
        pairs.reverse()
        if after is not None:
            # The specification says "after"; Badgr counts a change at that instant too.
            pairs = [
                (row, imported)
                for row, imported in pairs
                if row.created_at > after or (bc.badgr and row.created_at == after)
            ]
        page = [_document(bc, connection, row, imp) for row, imp in pairs[start : start + size]]
    headers = {"Link": _links(bc, size, start, len(pairs))}
    if not bc.badgr:
        headers["X-Total-Count"] = str(len(pairs))
    return _ok({"results" if bc.badgr else "assertions": page}, bc.badgr, headers=headers)


def _payload(bc: BcCtx, body: Any) -> dict[str, Any]:
    """The posted assertion, checked as the mode says."""
    if not isinstance(body, dict):
        raise BadgeConnectError(400, "BAD_REQUEST", "Expected a JSON object.")
    unknown = sorted(set(body) - {"assertion", "signedAssertion"})
    if unknown and not bc.badgr:
        raise BadgeConnectError(
            400, "REQUEST_VALIDATION_ERROR", f"Unknown properties: {', '.join(unknown)}."
        )
    if body.get("signedAssertion") is not None and not bc.badgr:
        raise BadgeConnectError(
            400, "BAD_REQUEST", "Signed assertions are not supported by this host."
        )
    assertion = body.get("assertion")
    if assertion is None:
        error: Any = {"assertion": ["This field is required."]}
        raise BadgeConnectError(
            400, "REQUEST_VALIDATION_ERROR", error if bc.badgr else "assertion: required."
        )
    if not isinstance(assertion, dict) or not isinstance(assertion.get("id"), str):
        if bc.badgr:
            raise BadgeConnectError(400, "BAD_REQUEST", None)
        raise BadgeConnectError(400, "REQUEST_VALIDATION_ERROR", "assertion.id is required.")
    # Badgr reads only the id; both modes trust only what is fetched from it.
    return {"id": assertion["id"]} if bc.badgr else assertion


def _import_failure(bc: BcCtx, error: BadgrError) -> BadgeConnectError | None:
    """The Badge Connect error for a failed import; None when it was a duplicate."""
    items = error.validation_errors
    if DUPLICATE in items:
        if not bc.badgr:
            return None  # the specification's push creates *or updates*: a repeat is fine
        return BadgeConnectError(400, "REQUEST_VALIDATION_ERROR", [DUPLICATE])
    if bc.badgr:
        return BadgeConnectError(
            400, "REQUEST_VALIDATION_ERROR", items or error.field_errors or error.description
        )
    if len(items) >= 5 and isinstance(items[0], str):
        text = (
            "RECIPIENT_PROFILE_MISMATCH"
            if items[0] == "VERIFY_RECIPIENT_IDENTIFIER"
            else "INVALID_BADGE"
        )
        return BadgeConnectError(400, text, f"{items[0]}: {items[1]}: {items[4]}")
    detail = json.dumps(error.field_errors or items or error.description, sort_keys=True)
    return BadgeConnectError(400, "REQUEST_VALIDATION_ERROR", detail)


@handles(BADGECONNECT, "assertions.create")
def assertions_create(bc: BcAuthed, body: BcBody) -> Response:
    """Add an assertion after fetching and verifying its hosted ``id``."""
    bc.need(Scope.ASSERTION_CREATE)
    assertion = _payload(bc, body)
    try:
        with bc.ctx.tx() as connection:
            import_badge(bc.ctx, connection, "assertion", assertion)
    except BadgrError as error:
        failure = _import_failure(bc, error)
        if failure is not None:
            raise failure from None
    return _ok({}, bc.badgr, 201 if bc.badgr else 200)


def _profile(bc: BcCtx, user: HostUser) -> dict[str, Any]:
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    if bc.badgr:
        return {"results": [{"name": name, "email": user.primary_email, "@context": OB2_CONTEXT}]}
    profile: dict[str, Any] = {"id": _profile_id(user), "type": "Profile"}
    if name:
        profile["name"] = name
    profile["email"] = user.primary_email
    return {"profile": profile}


@handles(BADGECONNECT, "profile.get")
@on_loop
def profile_get(bc: BcAuthed) -> Response:
    """The caller's profile: an OB 2.0 Profile (Badgr mode: a ``results`` list)."""
    bc.need(Scope.PROFILE_READONLY)
    return _ok(_profile(bc, bc.ctx.me), bc.badgr)


def _apply_profile(connection: Connection, user: HostUser, body: Mapping[str, Any]) -> None:
    try:
        update_profile(connection, user, name=body.get("name"), email=body.get("email"))
    except ProfileError as exc:
        raise BadgeConnectError(400, "REQUEST_VALIDATION_ERROR", str(exc)) from None


@handles(BADGECONNECT, "profile.update")
@on_loop
def profile_update(bc: BcAuthed, body: BcBody) -> Response:
    """Change the caller's name, or which verified e-mail is primary (Badgr: not supported)."""
    if bc.badgr:
        raise BadgeConnectError(401, "PERMISSION_DENIED", None)
    bc.need(Scope.PROFILE_UPDATE)
    if not isinstance(body, dict):
        raise BadgeConnectError(400, "BAD_REQUEST", "Expected a JSON object.")
    with bc.ctx.tx() as connection:
        _apply_profile(connection, bc.ctx.me, body)
        user = load_user(connection, bc.ctx.me.id)
    assert user is not None
    return _ok(_profile(bc, user), bc.badgr)
