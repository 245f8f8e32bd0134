"""Checks applied to issuer-registry values before they are stored.

Images are judged by their content (PNG signature, or an XML document whose root is ``svg``),
never by a file name, because a name is whatever the uploader typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Final
from urllib.parse import urlsplit
from xml.parsers import expat

import email_validator

from openbackpack._exceptions import (
    InvalidEmailError,
    InvalidImageError,
    InvalidInputError,
    InvalidUrlError,
)
from openbackpack.store._registry_records import ImageType

__all__ = [
    "MAX_IMAGE_BYTES",
    "check_aware",
    "check_email_address",
    "check_language",
    "check_optional_text",
    "check_tags",
    "check_text",
    "check_web_url",
    "image_type_of",
]

MAX_IMAGE_BYTES: Final = 2 * 1024 * 1024
"""The largest badge or issuer image accepted (backpacks refuse much larger ones)."""

_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_SVG_NAMESPACE: Final = "http://www.w3.org/2000/svg"
_MAX_URL: Final = 2048
# The language-tag shape pyld accepts without a warning (a simplified BCP 47).
_LANGUAGE: Final = re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*")


def check_text(field: str, value: object, *, max_length: int) -> str:
    """Return a required text value, trimmed, refusing empty or over-long text."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{field} must be non-empty text")
    text = value.strip()
    if len(text) > max_length:
        raise InvalidInputError(f"{field} is longer than {max_length} characters")
    return text


def check_optional_text(field: str, value: object, *, max_length: int) -> str | None:
    """Return an optional text value trimmed, with empty text meaning absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return check_text(field, value, max_length=max_length)


def check_web_url(field: str, value: object) -> str:
    """Return an absolute http(s) URL, trimmed; a query is allowed, spaces are not."""
    if not isinstance(value, str):
        raise InvalidUrlError(field, value, "it is not a string")
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidUrlError(field, value, "only http and https URLs are accepted")
    if not parts.hostname:
        raise InvalidUrlError(field, value, "it has no host")
    if any(char.isspace() for char in url):
        raise InvalidUrlError(field, value, "it contains white space")
    if len(url) > _MAX_URL:
        raise InvalidUrlError(field, value, f"it is longer than {_MAX_URL} characters")
    return url


def check_email_address(field: str, value: object) -> str:
    """Return a syntactically valid email address, trimmed but otherwise as given.

    The address is not normalised: a recipient's hash is computed over what was given.
    """
    if not isinstance(value, str):
        raise InvalidEmailError(field, value, "it is not a string")
    text = value.strip()
    try:
        email_validator.validate_email(text, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise InvalidEmailError(field, value, str(exc)) from None
    return text


def check_language(value: str | None) -> str | None:
    """Return a language tag such as ``en`` or ``pt-BR``, or None."""
    if value is None or not value.strip():
        return None
    tag = value.strip()
    if not _LANGUAGE.fullmatch(tag) or len(tag) > 35:
        raise InvalidInputError(f"language {value!r} is not a language tag such as 'en' or 'pt-BR'")
    return tag


def check_tags(values: Iterable[str]) -> tuple[str, ...]:
    """Return tags trimmed, each once, in the order given."""
    if isinstance(values, str):
        raise InvalidInputError("tags must be a list of strings, not one string")
    tags = [check_text("tag", value, max_length=64) for value in values]
    return tuple(dict.fromkeys(tags))


def check_aware(field: str, value: datetime) -> datetime:
    """Refuse naive datetimes: a badge's times must say which zone they are in."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(f"{field} must be a timezone-aware datetime")
    return value


def image_type_of(data: bytes) -> ImageType:
    """Return the content type of a PNG or SVG image, judged by its bytes.

    Raises:
        InvalidImageError: empty, too large, or neither a PNG nor an SVG document.
    """
    if not isinstance(data, bytes):
        raise InvalidImageError("it is not bytes")
    if not data:
        raise InvalidImageError("it is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidImageError(f"it is larger than {MAX_IMAGE_BYTES} bytes")
    if data.startswith(_PNG_SIGNATURE):
        # The first chunk of every PNG is IHDR; a bare signature is not an image.
        if data[12:16] != b"IHDR":
            raise InvalidImageError("it starts like a PNG but has no IHDR chunk")
        return "image/png"
    namespace, local = _xml_root(data)
    if local == "svg" and namespace in ("", _SVG_NAMESPACE):
        return "image/svg+xml"
    if local:
        raise InvalidImageError(f"it is an XML document whose root is {local!r}, not 'svg'")
    raise InvalidImageError("it is neither a PNG nor a well-formed SVG document")


class _RefusedXml(Exception):
    pass


def _xml_root(data: bytes) -> tuple[str, str]:
    """Return (namespace, local name) of a well-formed XML document's root, or ("", "")."""
    parser = expat.ParserCreate(namespace_separator=" ")
    roots: list[str] = []

    def start(name: str, _attributes: object) -> None:
        if not roots:
            roots.append(name)

    def refuse(*_args: object) -> None:
        # Entity declarations are how "billion laughs" and external-entity attacks start;
        # an SVG badge never needs one.
        raise _RefusedXml

    parser.StartElementHandler = start
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    try:
        parser.Parse(data, True)
    except (expat.ExpatError, _RefusedXml, ValueError):
        return "", ""
    if not roots:
        return "", ""
    namespace, _, local = roots[0].rpartition(" ")
    return namespace, local
