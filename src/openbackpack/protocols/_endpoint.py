"""The records protocol tables are made of, and URL building from them."""

from __future__ import annotations

import enum
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

__all__ = [
    "Base",
    "Body",
    "Endpoint",
    "HttpMethod",
    "Shape",
    "api_root",
    "build_url",
    "origin_of",
]

HttpMethod = Literal["GET", "POST", "PUT", "DELETE"]

_IDEMPOTENT: frozenset[str] = frozenset({"GET", "PUT", "DELETE"})
_VERSION_SEGMENT = re.compile(r"v\d+(p\d+)?", re.IGNORECASE)


class Base(enum.StrEnum):
    """What an endpoint's path is relative to."""

    API = "api"
    """The provider's API URL as configured, e.g. ``https://api.badgr.io/v2``."""
    ROOT = "root"
    """The API URL without its final version segment, e.g. ``https://api.badgr.io``.

    Badgr serves ``/o/token`` and ``/public/...`` there. Unlike Moodle, the port and any
    path prefix before the version segment are kept (W7).
    """
    ORIGIN = "origin"
    """The scheme, host and port of the given URL, e.g. ``https://badgr.io``.

    Well-known URIs live there (RFC 8615): Badge Connect's ``/.well-known/badgeconnect.json``.
    """


class Body(enum.StrEnum):
    """How a request body is encoded."""

    NONE = "none"
    FORM = "form"
    JSON = "json"


class Shape(enum.StrEnum):
    """What a successful response body looks like."""

    TOKEN = "token"
    """An OAuth 2 token response."""
    ENVELOPE = "envelope"
    """Badgr's ``{"status": {...}, "result": [...]}``."""
    DOCUMENT = "document"
    """A bare JSON document (Open Badges JSON, Displayer answers)."""
    EMPTY = "empty"
    """No body (204)."""
    IMAGE = "image"
    """Image bytes (PNG or SVG), or a redirect to them."""
    STATUS = "status"
    """Badge Connect's ``{"status": {"statusCode", "statusText", "error"}, ...}``."""
    HTML = "html"
    """A page for a person's browser (an OAuth authorization page), or a redirect."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One HTTP route of a protocol: the single source both the client and the host read.

    ``path`` is a template whose ``{name}`` placeholders are filled, percent-encoded, from
    the caller's parameters; the host mounts the same template as its route. ``paged``
    lists accept Badgr's ``num`` and announce further pages in a ``Link`` header.
    """

    name: str
    method: HttpMethod
    path: str
    base: Base = Base.API
    body: Body = Body.NONE
    auth: bool = True
    shape: Shape = Shape.ENVELOPE
    many: bool = False
    success: int = 200
    summary: str = ""
    query: tuple[tuple[str, str], ...] = field(default=())
    paged: bool = False

    @property
    def idempotent(self) -> bool:
        """Whether repeating the request cannot change the outcome (safe to retry)."""
        return self.method in _IDEMPOTENT

    @property
    def path_params(self) -> tuple[str, ...]:
        """The names of the placeholders in ``path``, in order."""
        return tuple(
            name for _, name, _, _ in string.Formatter().parse(self.path) if name is not None
        )

    def render_path(self, params: Mapping[str, str | int]) -> str:
        """Fill the path template, percent-encoding every value (``/`` included).

        Raises:
            KeyError: a placeholder has no value.
            ValueError: a value is empty (it would silently address another route).
        """
        values: dict[str, str] = {}
        for name in self.path_params:
            text = str(params[name])
            if not text:
                raise ValueError(f"path parameter {name!r} of {self.name} is empty")
            values[name] = quote(text, safe="")
        return self.path.format(**values)


def origin_of(url: str) -> str:
    """Return the origin of ``url``: scheme, host and port, with no path or trailing slash."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def api_root(api_url: str) -> str:
    """Return the API URL without a final version segment (``/v2``, ``/v2p1``), slash-free.

    ``http://127.0.0.1:8000/badgr/v2`` gives ``http://127.0.0.1:8000/badgr``: the port and the
    path prefix stay, where Moodle's ``[SCHEME]://[HOST]`` dropped both (W7).
    """
    parts = urlsplit(api_url.strip())
    segments = [s for s in parts.path.split("/") if s]
    if segments and _VERSION_SEGMENT.fullmatch(segments[-1]):
        segments.pop()
    path = "/" + "/".join(segments) if segments else ""
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def build_url(
    endpoint: Endpoint,
    api_url: str,
    params: Mapping[str, str | int] | None = None,
    query: Sequence[tuple[str, str]] = (),
) -> str:
    """Build the absolute URL of ``endpoint`` for a provider whose API URL is ``api_url``.

    Slashes between the base and the path are normalised (no ``//``), path parameters are
    percent-encoded, and the endpoint's fixed query (e.g. Badgr's ``expand``) comes first.
    """
    if endpoint.base is Base.ROOT:
        base = api_root(api_url)
    elif endpoint.base is Base.ORIGIN:
        base = origin_of(api_url)
    else:
        base = api_url.strip().rstrip("/")
    url = base + "/" + endpoint.render_path(params or {}).lstrip("/")
    pairs = [*endpoint.query, *query]
    return f"{url}?{urlencode(pairs)}" if pairs else url
