"""What every answer of the host is made of: ids, timestamps, JSON bodies and protocol errors.

Each protocol fails in its own shape: Badgr's v2 envelope, the OAuth token endpoint's
``{"error": ...}`` and the Displayer's ``{"status": ...}``. Handlers raise one of the three
exceptions below and the app turns it into bytes; nothing else decides an error's shape.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "BC_PREFIXES",
    "NOT_FOUND",
    "OB3_PREFIX",
    "BadgeConnectError",
    "BadgrError",
    "DisplayerError",
    "OAuthError",
    "bad_request",
    "badgeconnect_body",
    "badgr_error_body",
    "dumps",
    "envelope",
    "json_response",
    "new_entity_id",
    "not_found",
    "ob_time",
    "protocol_of",
    "v2_time",
]

NOT_FOUND: Final = "entity not found or insufficient privileges"
BC_PREFIXES: Final = ("/ims/ob/v2p1", "/bcv1/")
"""Where Badge Connect API paths start (the specification's apiBase, and Badgr's)."""
OB3_PREFIX: Final = "/ims/ob/v3p0"
"""Where the Open Badges 3.0 API's paths start."""
_LD_JSON: Final = "application/ld+json"
_JSON: Final = "application/json"


def new_entity_id() -> str:
    """A Badgr entityId: a random UUID, URL-safe base64, without padding (22 characters)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode("ascii")


def v2_time(moment: datetime | None) -> str | None:
    """Format a time as the v2 API does: UTC, ``Z``, microseconds only when non-zero."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


def ob_time(moment: datetime | None) -> str | None:
    """Format a time as Badgr's public Open Badges JSON does: ISO 8601 with ``+00:00``."""
    return None if moment is None else moment.astimezone(UTC).isoformat()


def dumps(data: Any, *, compact: bool = True) -> bytes:
    """Encode JSON the way Badgr writes it: compact for the API, spaced for the token endpoint."""
    separators = (",", ":") if compact else (", ", ": ")
    return json.dumps(data, separators=separators, ensure_ascii=False).encode("utf-8")


def _media_type(request: Request | None) -> str:
    # Badgr's first renderer is JSON-LD; only a client asking for application/json gets it.
    accept = request.headers.get("accept", "") if request is not None else _JSON
    return (
        _JSON
        if _JSON in accept or "format=json" in str(request and request.url.query)
        else (_LD_JSON)
    )


def json_response(
    data: Any,
    status: int = 200,
    *,
    request: Request | None = None,
    headers: Mapping[str, str] | None = None,
    media_type: str | None = None,
) -> Response:
    """A compact JSON answer whose media type follows the request's ``Accept`` like Badgr's."""
    return Response(
        dumps(data),
        status_code=status,
        media_type=media_type or _media_type(request),
        headers=dict(headers or {}),
    )


def envelope(
    result: list[Any],
    status: int = 200,
    *,
    request: Request | None = None,
    description: str = "ok",
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Badgr's success envelope; ``result`` is always a list."""
    body = {"status": {"success": True, "description": description}, "result": result}
    return json_response(body, status, request=request, headers=headers)


class BadgrError(Exception):
    """A v2 API failure, answered with Badgr's error envelope."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        field_errors: Any = None,
        validation_errors: list[Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.field_errors = {} if field_errors is None else field_errors
        self.validation_errors = validation_errors or []
        self.headers = dict(headers or {})


def not_found() -> BadgrError:
    """Badgr's 404, which also stands for "not yours" and "not allowed"."""
    return BadgrError(404, NOT_FOUND)


def bad_request(
    field_errors: Mapping[str, Any] | None = None, validation_errors: list[Any] | None = None
) -> BadgrError:
    """A 400 ``bad request`` with field or whole-object errors."""
    return BadgrError(
        400,
        "bad request",
        field_errors=dict(field_errors or {}),
        validation_errors=validation_errors,
    )


def badgr_error_body(error: BadgrError) -> dict[str, Any]:
    """The error envelope: ``result`` empty, both error keys always present."""
    return {
        "status": {"success": False, "description": error.description},
        "result": [],
        "fieldErrors": error.field_errors,
        "validationErrors": error.validation_errors,
    }


class OAuthError(Exception):
    """A token endpoint failure: an OAuth-style ``{"error": ...}`` body.

    ``html`` reproduces Badgr's early exits, which send JSON text as ``text/html``.
    """

    def __init__(
        self,
        status: int,
        body: Mapping[str, Any],
        *,
        html: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(str(body.get("error", "")))
        self.status = status
        self.body = dict(body)
        self.html = html
        self.headers = dict(headers or {})


class DisplayerError(Exception):
    """A Displayer failure: ``{"status": ..., ...}`` with the given HTTP status."""

    def __init__(self, status: int, body: Mapping[str, Any]) -> None:
        super().__init__(str(body.get("status", "")))
        self.status = status
        self.body = dict(body)


class BadgeConnectError(Exception):
    """A Badge Connect API failure, answered with the ``{"status": ...}`` envelope.

    ``error`` is a string for the specification's shape; in Badgr mode it may be a list or
    an object, as Badgr sends.
    """

    def __init__(
        self,
        status: int,
        status_text: str,
        error: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_text)
        self.status = status
        self.status_text = status_text
        self.error = error
        self.headers = dict(headers or {})


def badgeconnect_body(
    status: int, status_text: str, error: Any = None, *, badgr: bool = False
) -> dict[str, Any]:
    """The status envelope of every Badge Connect answer.

    ``error`` is left out when there is none (the official schema wants a string there);
    Badgr always sends it, ``null`` on success.
    """
    inner: dict[str, Any] = {}
    if badgr or error is not None:
        inner["error"] = error
    inner["statusCode"] = status
    if status_text:
        inner["statusText"] = status_text
    return {"status": inner}


def protocol_of(path: str) -> str:
    """Which protocol a path belongs to.

    ``oauth``, ``displayer``, ``badgeconnect``, ``ob3`` (the Open Badges 3.0 API) or ``badgr``.
    """
    if path.startswith(OB3_PREFIX):
        return "ob3"
    if path.startswith("/o/"):
        return "oauth"
    if path.startswith("/displayer"):
        return "displayer"
    if path.startswith(BC_PREFIXES) and not path.startswith("/bcv1/manifest/"):
        return "badgeconnect"
    return "badgr"
