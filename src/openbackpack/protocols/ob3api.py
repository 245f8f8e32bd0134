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
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC as _UTC
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from openbackpack._exceptions import (
    APIStatusError,
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RemoteValidationError,
    ServerError,
)
from openbackpack.models.ob3 import Profile
from openbackpack.models.ob3api import (
    CodeMajor,
    CodeMinor,
    GetOpenBadgeCredentialsResponse,
    ImsxStatusInfo,
    ServiceDescription,
    Severity,
)
from openbackpack.protocols._endpoint import Base, Body, Endpoint, Shape
from openbackpack.protocols._messages import action_words, failure_message, reasons_text
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
from openbackpack.protocols._responses import (
    decode_json,
    error_from_response,
    header_value,
    json_object,
    retry_after_from,
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
COMPACT_JWS: Final = re.compile(r"[a-zA-Z0-9_-]+\.[a-zA-Z0-9_-]*\.[a-zA-Z0-9_-]+")
"""A compact JWS (RFC 7515), the pattern the specification gives a VC-JWT credential."""


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


def is_compact_jws(text: str) -> bool:
    """Whether ``text`` has the shape of a compact JWS (three base64url parts)."""
    return COMPACT_JWS.fullmatch(text.strip()) is not None


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


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


def description_of(content: bytes) -> ServiceDescription:
    """Read a service description. Raises :class:`InvalidResponseError` when it is not one."""
    body = json_object(content, "discovery")
    try:
        return ServiceDescription.model_validate(body)
    except ValidationError as exc:
        raise InvalidResponseError(
            "discovery: not an Open Badges 3.0 service description: " + _first_error(exc),
            action="discovery",
        ) from None


def status_info(
    code_minor: CodeMinor | str,
    description: str,
    *,
    code_major: CodeMajor = CodeMajor.FAILURE,
    severity: Severity = Severity.ERROR,
    field_name: str = "openbackpack",
) -> dict[str, Any]:
    """An ``Imsx_StatusInfo`` payload, as a host answers an error with it."""
    return {
        "imsx_codeMajor": str(code_major),
        "imsx_severity": str(severity),
        "imsx_description": description,
        "imsx_codeMinor": {
            "imsx_codeMinorField": [
                {
                    "imsx_codeMinorFieldName": field_name,
                    "imsx_codeMinorFieldValue": str(code_minor),
                }
            ]
        },
    }


def status_info_of(content: bytes) -> ImsxStatusInfo | None:
    """The ``Imsx_StatusInfo`` of an answer, or None when the body is not one."""
    body = decode_json(content)
    if not isinstance(body, Mapping) or "imsx_codeMajor" not in body:
        return None
    try:
        return ImsxStatusInfo.model_validate(body)
    except ValidationError:
        return None


_SIMPLE: Final[dict[int, type[APIStatusError]]] = {
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
}


def error_of(
    status_code: int,
    content: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    action: str,
) -> APIStatusError:
    """The typed error of a failed OB 3.0 API answer, its ``Imsx_StatusInfo`` read first.

    The description is the message's reason; the code minor values (``invalid_data``,
    ``forbidden``...) are kept as ``validation_errors`` of a 400 and as the ``error`` of a
    401. An answer without the payload is read as any other backpack error.
    """
    info = status_info_of(content)
    if info is None:
        return error_from_response(status_code, content, headers, action=action)
    description = info.description or ", ".join(info.minor_values)
    common: dict[str, Any] = {
        "status_code": status_code,
        "action": action,
        "description": description,
        "body": info.wire(),
    }
    message = failure_message(action, status_code, reasons_text(description))
    minor = info.minor_values
    if status_code == 401:
        message = failure_message(action, status_code, description, login_refused=True)
        return AuthenticationError(message, error=minor[0] if minor else "", **common)
    if status_code in (400, 422):
        return RemoteValidationError(message, validation_errors=[description], **common)
    if status_code == 429:
        retry = retry_after_from(headers, content)
        return RateLimitError(message, retry_after=retry, **common)
    if status_code in _SIMPLE:
        return _SIMPLE[status_code](message, **common)
    if status_code >= 500:
        return ServerError(message, **common)
    return APIStatusError(message, **common)


@dataclass(frozen=True, slots=True)
class CredentialsPage:
    """One page of ``getCredentials``: what it holds, how many there are, where the others are.

    ``total`` is ``X-Total-Count`` (None when the host did not send it, or sent nonsense);
    ``links`` maps ``next``, ``last``, ``first`` and ``prev`` to absolute URLs.
    """

    credentials: list[dict[str, Any]]
    compact_jws: list[str]
    total: int | None
    links: dict[str, str] = field(default_factory=dict)

    @property
    def next_url(self) -> str | None:
        """The URL of the next page, or None on the last one."""
        return self.links.get("next")

    def __len__(self) -> int:
        """How many credentials the page holds, JSON and VC-JWT together."""
        return len(self.credentials) + len(self.compact_jws)


def _total(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def credentials_page_of(
    status_code: int, content: bytes, headers: Mapping[str, str]
) -> CredentialsPage:
    """Read a ``getCredentials`` answer; an error status raises its typed error.

    Raises:
        APIStatusError: (a subclass of) for an error status.
        InvalidResponseError: a 200 whose body is not a GetOpenBadgeCredentialsResponse.
    """
    action = "credentials.list"
    if status_code != 200:
        raise error_of(status_code, content, headers, action=action)
    body = json_object(content, action)
    try:
        page = GetOpenBadgeCredentialsResponse.model_validate(body)
    except ValidationError as exc:
        raise InvalidResponseError(
            f"could not {action_words(action)}: " + _first_error(exc), action=action
        ) from None
    jws = [item for item in page.compact_jws_string if is_compact_jws(item)]
    if len(jws) != len(page.compact_jws_string):
        raise InvalidResponseError(
            f"could not {action_words(action)}: compactJwsString holds a non-JWS", action=action
        )
    return CredentialsPage(
        credentials=page.credential,
        compact_jws=jws,
        total=_total(header_value(headers, "x-total-count")),
        links=parse_links(header_value(headers, "link")),
    )


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """What ``upsertCredential`` did: created (201) or replaced (200), and the echo."""

    created: bool
    credential: dict[str, Any] | None = None
    compact_jws: str | None = None


def upsert_result(status_code: int, content: bytes, headers: Mapping[str, str]) -> UpsertResult:
    """Read an ``upsertCredential`` answer: 201 created, 200 replaced, anything else an error.

    The body echoes the credential: a JSON object, or a compact JWS as text.

    Raises:
        APIStatusError: (a subclass of) for an error status.
        InvalidResponseError: a success whose body is neither.
    """
    action = "credentials.upsert"
    if status_code not in (200, 201):
        raise error_of(status_code, content, headers, action=action)
    created = status_code == 201
    body = decode_json(content)
    if isinstance(body, Mapping):
        return UpsertResult(created=created, credential=dict(body))
    text = content.decode("utf-8", "replace").strip()
    if is_compact_jws(text):
        return UpsertResult(created=created, compact_jws=text)
    raise InvalidResponseError(
        f"could not {action_words(action)}: the answer is neither a credential nor a JWS",
        action=action,
    )


def profile_of(status_code: int, content: bytes, headers: Mapping[str, str]) -> Profile:
    """Read a ``getProfile`` or ``putProfile`` answer into an OB 3.0 :class:`Profile`.

    Raises:
        APIStatusError: (a subclass of) for an error status.
        InvalidResponseError: a success whose body is not a profile.
    """
    action = "profile.get"
    if status_code not in (200, 202):
        raise error_of(status_code, content, headers, action=action)
    body = json_object(content, action)
    try:
        return Profile.model_validate(body)
    except ValidationError as exc:
        raise InvalidResponseError(
            f"could not {action_words(action)}: " + _first_error(exc), action=action
        ) from None


def scopes_of(text: str | Sequence[str]) -> list[str]:
    """The OB 3.0 scopes in a space-separated scope string (or list), unknown ones dropped."""
    items = text.split() if isinstance(text, str) else list(text)
    known = {scope.value for scope in Scope}
    return [item for item in dict.fromkeys(items) if item in known]
