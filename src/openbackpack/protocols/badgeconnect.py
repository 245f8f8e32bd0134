"""Open Badges 2.1, "Badge Connect": every route, as data, and reading its answers.

The reference host mounts these routes and the client builds its requests from them.
``Base.API`` paths are relative to the manifest's ``apiBase`` (``…/ims/ob/v2p1``; Badgr:
``…/bcv1``); the manifest and the OAuth endpoints of the reference host sit at the origin.
A client never guesses the OAuth URLs: it reads them from the manifest. Tokens come from the
same endpoint as Badgr's password grant, :data:`TOKEN` (``/o/token``).

Answers are read tolerantly (open-badges.md §1.5; Badgr's deviations, badgr-wire.md §7):
``assertions`` or ``results``, ``profile`` or ``results[0]``, ``status.error`` as a string, a
list or an object, and a push that succeeded with HTTP 200 or 201 when ``statusCode`` is 200.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Final

from pydantic import ValidationError

from openbackpack._exceptions import (
    APIStatusError,
    AuthenticationError,
    DuplicateBadgeError,
    InvalidResponseError,
    RemoteValidationError,
)
from openbackpack.models.badgeconnect import (
    BadgeConnectProfile,
    Manifest,
    StatusInfo,
)
from openbackpack.protocols import badgr
from openbackpack.protocols._endpoint import Base, Body, Endpoint, Shape, origin_of
from openbackpack.protocols._messages import action_words, failure_message, reasons_text
from openbackpack.protocols._oauth import (
    AUTH_METHODS,
    OIDC_ONLY_SCOPES,
    ClientMetadata,
    authorization_url,
    client_authentication,
    code_challenge,
    code_grant_form,
    freshness,
    new_code_verifier,
    new_state,
    parse_links,
    refresh_form,
    registration_of,
    registration_payload,
    requested_scopes,
    revocation_form,
)
from openbackpack.protocols._responses import decode_json, error_from_response, json_object

__all__ = [
    "API_PATH",
    "AUTH_METHODS",
    "BADGR_API_PATH",
    "BADGR_MANIFEST_CONTEXT",
    "MANIFEST_CONTEXT",
    "OIDC_ONLY_SCOPES",
    "ROUTES",
    "TOKEN",
    "WELL_KNOWN_PATH",
    "ClientMetadata",
    "Scope",
    "assertions_of",
    "authorization_url",
    "client_authentication",
    "code_challenge",
    "code_grant_form",
    "error_of",
    "freshness",
    "manifest_of",
    "manifest_url",
    "new_code_verifier",
    "new_state",
    "parse_links",
    "profile_of",
    "push_result",
    "refresh_form",
    "registration_of",
    "registration_payload",
    "requested_scopes",
    "revocation_form",
    "route",
    "status_of",
]

API_PATH: Final = "/ims/ob/v2p1"
"""How a specification-conformant ``apiBase`` ends (no trailing slash)."""
BADGR_API_PATH: Final = "/bcv1"
"""Badgr's ``apiBase`` path."""
WELL_KNOWN_PATH: Final = "/.well-known/badgeconnect.json"
"""Where a host publishes its manifest, at its origin."""
MANIFEST_CONTEXT: Final = "https://purl.imsglobal.org/spec/ob/v2p1/ob_v2p1.jsonld"
"""The manifest's ``@context`` in the specification's example."""
BADGR_MANIFEST_CONTEXT: Final = "https://w3id.org/openbadges/badgeconnect/v1"
"""The ``@context`` Badgr sends instead (and puts last)."""


class Scope(enum.StrEnum):
    """The scopes of Badge Connect (plus ``offline_access``, which asks for a refresh token)."""

    ASSERTION_READONLY = "https://purl.imsglobal.org/spec/ob/v2p1/scope/assertion.readonly"
    ASSERTION_CREATE = "https://purl.imsglobal.org/spec/ob/v2p1/scope/assertion.create"
    PROFILE_READONLY = "https://purl.imsglobal.org/spec/ob/v2p1/scope/profile.readonly"
    PROFILE_UPDATE = "https://purl.imsglobal.org/spec/ob/v2p1/scope/profile.update"
    OFFLINE_ACCESS = "offline_access"


def _oauth(name: str, method: Any, path: str, summary: str, **options: Any) -> Endpoint:
    return Endpoint(
        name=name,
        method=method,
        path=path,
        base=Base.ORIGIN,
        auth=False,
        summary=summary,
        **options,
    )


def _api(name: str, method: Any, path: str, summary: str, **options: Any) -> Endpoint:
    body = Body.JSON if method == "POST" else Body.NONE
    return Endpoint(
        name=name,
        method=method,
        path=path,
        body=body,
        shape=Shape.STATUS,
        summary=summary,
        **options,
    )


_ROUTES: tuple[Endpoint, ...] = (
    _oauth("manifest", "GET", WELL_KNOWN_PATH, "The manifest", shape=Shape.DOCUMENT),
    _oauth(
        "manifest.badgr",
        "GET",
        BADGR_API_PATH + "/manifest/{domain}",
        "The manifest where Badgr serves it (the well-known URL redirects there)",
        shape=Shape.DOCUMENT,
    ),
    _oauth(
        "register",
        "POST",
        "/o/register",
        "Dynamic client registration (RFC 7591)",
        body=Body.JSON,
        shape=Shape.DOCUMENT,
        success=201,
    ),
    _oauth("authorize", "GET", "/o/authorize", "The login and consent page", shape=Shape.HTML),
    _oauth(
        "authorize.submit",
        "POST",
        "/o/authorize",
        "Log in and consent; redirects to the client with a code",
        body=Body.FORM,
        shape=Shape.HTML,
        success=302,
    ),
    _oauth(
        "revoke",
        "POST",
        "/o/revoke",
        "Token revocation (RFC 7009)",
        body=Body.FORM,
        shape=Shape.EMPTY,
    ),
    _api("assertions.list", "GET", "/assertions", "The account's assertions, paged", many=True),
    _api("assertions.create", "POST", "/assertions", "Add an assertion (it is verified)"),
    _api("profile.get", "GET", "/profile", "The account's profile"),
    _api("profile.update", "POST", "/profile", "Change the account's profile"),
)

ROUTES: Final[dict[str, Endpoint]] = {endpoint.name: endpoint for endpoint in _ROUTES}
"""Every Badge Connect route openbackpack speaks or serves, by name."""

TOKEN: Final = badgr.route("token")
"""The token endpoint: Badgr's ``/o/token``, which takes the code and refresh grants too."""


def route(name: str) -> Endpoint:
    """Return the route called ``name``. Raises ``KeyError`` for an unknown name."""
    return ROUTES[name]


def manifest_url(url: str) -> str:
    """The manifest URL of a host, given its web URL (or the manifest URL itself)."""
    if url.rstrip("/").endswith(WELL_KNOWN_PATH):
        return url.rstrip("/")
    return origin_of(url) + WELL_KNOWN_PATH


def manifest_of(content: bytes) -> Manifest:
    """Read a manifest. Raises :class:`InvalidResponseError` when it is not one."""
    body = json_object(content, "manifest")
    try:
        return Manifest.model_validate(body)
    except ValidationError as exc:
        raise InvalidResponseError(
            f"manifest: not a Badge Connect manifest: {exc.errors()[0]['msg']}", action="manifest"
        ) from None


def status_of(body: Any) -> StatusInfo | None:
    """The ``status`` of a decoded answer, or None when it has none (or a malformed one)."""
    if not isinstance(body, Mapping) or not isinstance(body.get("status"), Mapping):
        return None
    try:
        return StatusInfo.model_validate(body["status"])
    except ValidationError:
        return None


def _error_items(error: Any) -> list[str]:
    if error is None:
        return []
    items = error if isinstance(error, list) else [error]
    return [
        text for text in (StatusInfo(statusCode=0, error=item).message for item in items) if text
    ]


def _is_duplicate(error: Any) -> bool:
    items = error if isinstance(error, list) else [error]
    return any(
        (isinstance(item, Mapping) and item.get("name") == "DUPLICATE_BADGE")
        or (isinstance(item, str) and "DUPLICATE_BADGE" in item)
        for item in items
    )


def error_of(
    status_code: int,
    content: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    action: str,
) -> APIStatusError:
    """The typed error of a failed Badge Connect answer (the status envelope read first).

    ``statusText`` and ``error`` (string, list or object) make the message; 400 is a
    :class:`RemoteValidationError` listing the errors (:class:`DuplicateBadgeError` for
    Badgr's ``DUPLICATE_BADGE``), 401 an :class:`AuthenticationError` whose ``error`` is the
    ``statusText``; anything else is read as any other backpack error.
    """
    body = decode_json(content)
    status = status_of(body)
    if status is None:
        return error_from_response(status_code, content, headers, action=action)
    description = ": ".join(part for part in (status.status_text, status.message) if part)
    message = failure_message(action, status_code, reasons_text(description))
    common: dict[str, Any] = {
        "status_code": status_code,
        "action": action,
        "description": description,
        "body": body,
    }
    if status_code == 401:
        message = failure_message(action, status_code, description, login_refused=True)
        return AuthenticationError(message, error=status.status_text, **common)
    if status_code == 400:
        kind = DuplicateBadgeError if _is_duplicate(status.error) else RemoteValidationError
        fields = status.error if isinstance(status.error, Mapping) else None
        field_errors = {str(k): [str(v)] for k, v in (fields or {}).items()}
        validation_errors = _error_items(None if fields else status.error)
        # statusText is a code (INVALID_BADGE); the message, when there is one, is the reason.
        reasons = reasons_text(description) if status.message else ""
        return kind(
            failure_message(action, status_code, reasons or reasons_text(status.status_text)),
            field_errors=field_errors,
            validation_errors=validation_errors,
            **common,
        )
    return error_from_response(status_code, content, headers, action=action)


def push_result(status_code: int, content: bytes, headers: Mapping[str, str]) -> StatusInfo:
    """Read the answer to ``POST /assertions``: success only when ``statusCode`` is 200.

    HTTP 200 (the specification) and 201 (Badgr) both count, provided the body's status says
    200 as Moodle requires; anything else raises the typed error (Moodle showed "Empty
    response" for a body without a status).
    """
    action = "assertions.create"
    body = decode_json(content)
    status = status_of(body)
    if status_code not in (200, 201):
        raise error_of(status_code, content, headers, action=action)
    if status is None:
        raise InvalidResponseError(
            f"could not {action_words(action)}: the answer has no status", action=action
        )
    if not status.ok:
        raise error_of(status.status_code or 400, content, headers, action=action)
    return status


def assertions_of(content: bytes) -> list[dict[str, Any]]:
    """The assertions of a ``GET /assertions`` page: ``assertions``, or Badgr's ``results``.

    ``signedAssertions`` (JWS strings) are not returned: they would need the issuer's key to
    be read safely.
    """
    action = "assertions.list"
    body = json_object(content, action)
    items = body.get("assertions", body.get("results", []))
    if items is None:
        items = []
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        raise InvalidResponseError(
            f"could not {action_words(action)}: assertions are not a list of objects", action=action
        )
    return [dict(item) for item in items]


def profile_of(content: bytes) -> BadgeConnectProfile:
    """The profile of a ``GET``/``POST /profile`` answer: ``profile``, or Badgr's ``results[0]``."""
    action = "profile.get"
    body = json_object(content, action)
    profile = body.get("profile")
    results = body.get("results")
    if profile is None and isinstance(results, list) and results:
        profile = results[0]
    if not isinstance(profile, Mapping):
        raise InvalidResponseError(
            f"could not {action_words(action)}: the answer has no profile", action=action
        )
    return BadgeConnectProfile.model_validate(profile)
