"""Reading the answers of the Open Badges 3.0 API, without I/O: pages, upserts, errors.

Re-exported by :mod:`openbackpack.protocols.ob3api`, the public face; kept apart so that the
table and its request builders stay short.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import ValidationError

from openbackpack._exceptions import (
    APIStatusError,
    AuthenticationError,
    ConflictError,
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
from openbackpack.protocols._messages import action_words, failure_message, reasons_text
from openbackpack.protocols._oauth import parse_links
from openbackpack.protocols._responses import (
    decode_json,
    error_from_response,
    header_value,
    json_object,
    retry_after_from,
)

__all__ = [
    "COMPACT_JWS",
    "CredentialsPage",
    "UpsertResult",
    "credentials_page_of",
    "description_of",
    "error_of",
    "is_compact_jws",
    "profile_of",
    "status_info",
    "status_info_of",
    "upsert_result",
]

COMPACT_JWS: Final = re.compile(r"[a-zA-Z0-9_-]+\.[a-zA-Z0-9_-]*\.[a-zA-Z0-9_-]+")
"""A compact JWS (RFC 7515), the pattern the specification gives a VC-JWT credential."""


def is_compact_jws(text: str) -> bool:
    """Whether ``text`` has the shape of a compact JWS (three base64url parts)."""
    return COMPACT_JWS.fullmatch(text.strip()) is not None


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
