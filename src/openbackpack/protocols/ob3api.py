"""The Open Badges 3.0 API (``/ims/ob/v3p0``): every route, as data, and reading its answers.

The reference host mounts these routes and the client builds its requests from them.
``Base.API`` paths are relative to the API base, ``{base}/ims/ob/v3p0`` (:func:`api_url`);
the OAuth 2 endpoints of the reference host sit at its origin, but a client never guesses
them: it reads them from the service description (``GET {api}/discovery``), an OpenAPI 3.0
document (:func:`description_of`).

A list is paged with ``limit`` and ``offset`` (and filtered with ``since``); the answer's
``X-Total-Count`` says how many there are and its ``Link`` header points to the ``next``,
``last``, ``first`` and ``prev`` pages. ``upsertCredential`` answers 201 when the credential
was new and 200 when it replaced one. Errors carry an ``Imsx_StatusInfo`` payload, which
:func:`error_of` turns into the typed errors of :mod:`openbackpack._exceptions`.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from datetime import UTC as _UTC
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from openbackpack._exceptions import InvalidInputError
from openbackpack.models.ob3 import Profile
from openbackpack.protocols._endpoint import Base, Body, Endpoint, Shape
from openbackpack.protocols._oauth import (
    AUTH_METHODS,
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
from openbackpack.protocols._ob3answers import (
    COMPACT_JWS,
    CredentialsPage,
    UpsertResult,
    credentials_page_of,
    description_of,
    error_of,
    is_compact_jws,
    profile_of,
    status_info,
    status_info_of,
    upsert_result,
)

__all__ = [
    "API_PATH",
    "AUTH_METHODS",
    "COMPACT_JWS",
    "DISCOVERY_PATH",
    "ROUTES",
    "ClientMetadata",
    "CredentialsPage",
    "Scope",
    "UpsertResult",
    "api_url",
    "authorization_url",
    "client_authentication",
    "code_challenge",
    "code_grant_form",
    "credentials_page_of",
    "credentials_query",
    "description_of",
    "discovery_url",
    "error_of",
    "freshness",
    "is_compact_jws",
    "new_code_verifier",
    "new_state",
    "parse_links",
    "profile_body",
    "profile_of",
    "refresh_form",
    "registration_of",
    "registration_payload",
    "requested_scopes",
    "revocation_form",
    "route",
    "scopes_of",
    "status_info",
    "status_info_of",
    "upsert_body",
    "upsert_result",
]

API_PATH: Final = "/ims/ob/v3p0"
"""How the API base of a host ends (no trailing slash)."""
DISCOVERY_PATH: Final = "/discovery"
"""The service description, relative to the API base."""


class Scope(enum.StrEnum):
    """The scopes of the Open Badges 3.0 API."""

    CREDENTIAL_READONLY = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly"
    CREDENTIAL_UPSERT = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert"
    PROFILE_READONLY = "https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.readonly"
    PROFILE_UPDATE = "https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.update"


def _oauth(name: str, method: Any, path: str, summary: str, **options: Any) -> Endpoint:
    return Endpoint(
        name=name,
        method=method,
        path="/o/v3p0" + path,
        base=Base.ORIGIN,
        auth=False,
        summary=summary,
        **options,
    )


def _api(name: str, method: Any, path: str, summary: str, **options: Any) -> Endpoint:
    body = Body.NONE if method == "GET" else Body.JSON
    return Endpoint(
        name=name,
        method=method,
        path=path,
        body=body,
        shape=Shape.DOCUMENT,
        summary=summary,
        **options,
    )


_ROUTES: tuple[Endpoint, ...] = (
    _api(
        "discovery",
        "GET",
        DISCOVERY_PATH,
        "The service description document (getServiceDescription)",
        auth=False,
    ),
    _api(
        "credentials.list",
        "GET",
        "/credentials",
        "The account's credentials, paged with limit and offset (getCredentials)",
        many=True,
    ),
    _api(
        "credentials.upsert",
        "POST",
        "/credentials",
        "Add or replace a credential, as JSON or a compact JWS; 201 created, 200 replaced "
        "(upsertCredential)",
    ),
    _api("profile.get", "GET", "/profile", "The account's profile (getProfile)"),
    _api("profile.update", "PUT", "/profile", "Replace the account's profile (putProfile)"),
    _oauth(
        "register",
        "POST",
        "/register",
        "Dynamic client registration (RFC 7591)",
        body=Body.JSON,
        shape=Shape.DOCUMENT,
        success=201,
    ),
    _oauth("authorize", "GET", "/authorize", "The login and consent page", shape=Shape.HTML),
    _oauth(
        "authorize.submit",
        "POST",
        "/authorize",
        "Log in and consent; redirects to the client with a code",
        body=Body.FORM,
        shape=Shape.HTML,
        success=302,
    ),
    _oauth(
        "token",
        "POST",
        "/token",
        "The token endpoint: authorization code (with PKCE) and refresh grants",
        body=Body.FORM,
        shape=Shape.TOKEN,
    ),
    _oauth(
        "revoke",
        "POST",
        "/revoke",
        "Token revocation (RFC 7009)",
        body=Body.FORM,
        shape=Shape.EMPTY,
    ),
)

ROUTES: Final[dict[str, Endpoint]] = {endpoint.name: endpoint for endpoint in _ROUTES}
"""Every Open Badges 3.0 API route openbackpack speaks or serves, by name."""


def route(name: str) -> Endpoint:
    """Return the route called ``name``. Raises ``KeyError`` for an unknown name."""
    return ROUTES[name]


def api_url(url: str) -> str:
    """The API base of a host (``…/ims/ob/v3p0``), given its URL or the API base itself.

    A path before ``/ims/ob/v3p0`` is kept (a host mounted under a prefix); a URL with no
    API path gets it appended; a discovery URL gives its API base.
    """
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    path = path.removesuffix(DISCOVERY_PATH)
    if not path.endswith(API_PATH):
        path += API_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def discovery_url(url: str) -> str:
    """The service description URL of a host, given its URL or its API base."""
    return api_url(url) + DISCOVERY_PATH


def _format_since(since: datetime) -> str:
    moment = since if since.tzinfo else since.replace(tzinfo=_UTC)
    return moment.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def credentials_query(
    limit: int | None = None, offset: int | None = None, since: datetime | None = None
) -> list[tuple[str, str]]:
    """The query of ``getCredentials``: ``limit`` (at least 1), ``offset`` (at least 0), ``since``.

    Raises:
        InvalidInputError: a limit below 1 or an offset below 0.
    """
    query: list[tuple[str, str]] = []
    if limit is not None:
        if limit < 1:
            raise InvalidInputError(f"limit must be at least 1, not {limit}")
        query.append(("limit", str(limit)))
    if offset is not None:
        if offset < 0:
            raise InvalidInputError(f"offset must be at least 0, not {offset}")
        query.append(("offset", str(offset)))
    if since is not None:
        query.append(("since", _format_since(since)))
    return query


def upsert_body(credential: Mapping[str, Any] | str) -> tuple[dict[str, str], bytes]:
    """The headers and body of ``upsertCredential``: JSON, or a VC-JWT as ``text/plain``.

    Raises:
        InvalidInputError: a string that is not a compact JWS.
    """
    if isinstance(credential, str):
        if not is_compact_jws(credential):
            raise InvalidInputError("a credential given as text must be a compact JWS (VC-JWT)")
        return {"Content-Type": "text/plain"}, credential.strip().encode("ascii")
    content = json.dumps(dict(credential), separators=(",", ":"), ensure_ascii=False).encode()
    return {"Content-Type": "application/json"}, content


def profile_body(profile: Profile | Mapping[str, Any]) -> bytes:
    """The JSON body of ``putProfile``."""
    data = profile.to_json() if isinstance(profile, Profile) else dict(profile)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def scopes_of(text: str | Sequence[str]) -> list[str]:
    """The OB 3.0 scopes in a space-separated scope string (or list), unknown ones dropped."""
    items = text.split() if isinstance(text, str) else list(text)
    known = {scope.value for scope in Scope}
    return [item for item in dict.fromkeys(items) if item in known]
