"""Validating v2 request bodies field by field, with DRF's messages.

A :class:`Fields` reader collects every problem of a body and raises one 400 envelope with all
of them at :meth:`Fields.check`, as Badgr's serializers do. Values of the wrong JSON type are
field errors, never exceptions that escape as a 500.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from openbackpack.host._wire import bad_request

__all__ = ["MISSING", "Fields", "as_object", "parse_datetime", "parse_email", "parse_url"]

MISSING: Final = object()
"""Returned for an optional field that is absent (as opposed to null)."""

REQUIRED: Final = "This field is required."
_TAGS: Final = re.compile(r"<[^>]*>")
_TRUE: Final = frozenset({True, "true", "True", "1", "on", "yes"})
_FALSE: Final = frozenset({False, "false", "False", "0", "off", "no"})


def as_object(body: Any) -> dict[str, Any]:
    """The body as a JSON object, or Badgr's 400 for anything else."""
    if not isinstance(body, dict):
        got = type(body).__name__ if body is not None else "null"
        raise bad_request(
            validation_errors=[f"Invalid data. Expected a dictionary, but got {got}."]
        )
    return body


def parse_email(value: str) -> str | None:
    """A syntactically valid e-mail, lower-cased; ``None`` if invalid."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def parse_url(value: str) -> str | None:
    """An absolute http(s) URL, or ``None``."""
    text = value.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in text:
        return None
    return text


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 date-time (naive means UTC), or ``None`` if it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


class Fields:
    """Reads typed fields from a body and collects DRF-style errors."""

    def __init__(self, body: Any) -> None:
        self.body = as_object(body)
        self.errors: dict[str, Any] = {}

    def present(self, name: str) -> bool:
        """Whether the body has the key at all."""
        return name in self.body

    def error(self, name: str, message: Any) -> None:
        """Record a problem with one field."""
        self.errors.setdefault(name, [])
        if isinstance(self.errors[name], list) and isinstance(message, str):
            self.errors[name].append(message)
        else:
            self.errors[name] = message

    def check(self) -> None:
        """Raise the 400 envelope if any problem was recorded."""
        if self.errors:
            raise bad_request(self.errors)

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        max_length: int | None = None,
        strip_tags: bool = False,
        allow_blank: bool = False,
    ) -> Any:
        """A string field; ``MISSING`` when absent, ``None`` when null."""
        if name not in self.body:
            if required:
                self.error(name, REQUIRED)
            return MISSING
        value = self.body[name]
        if value is None:
            if required:
                self.error(name, "This field may not be null.")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error(name, "Not a valid string.")
            return MISSING
        text = str(value).strip()
        if strip_tags:
            text = _TAGS.sub("", text)
        if not text and required and not allow_blank:
            self.error(name, "This field may not be blank.")
            return MISSING
        if max_length is not None and len(text) > max_length:
            self.error(name, f"Ensure this field has no more than {max_length} characters.")
            return MISSING
        return text

    def markdown(self, name: str, *, max_length: int = 16384) -> Any:
        """A markdown string; Badgr refuses embedded images."""
        value = self.text(name, max_length=max_length)
        if isinstance(value, str) and "![" in value:
            self.error(name, "Images not supported in markdown")
            return MISSING
        return value

    def email(self, name: str, *, required: bool = False) -> Any:
        """An e-mail address, lower-cased."""
        value = self.text(name, required=required, max_length=255)
        if not isinstance(value, str) or not value:
            return value
        checked = parse_email(value)
        if checked is None:
            self.error(name, "Enter a valid email address.")
            return MISSING
        return checked

    def url(self, name: str, *, required: bool = False, max_length: int = 1024) -> Any:
        """An absolute http(s) URL."""
        value = self.text(name, required=required, max_length=max_length)
        if not isinstance(value, str) or not value:
            return None if value == "" else value
        checked = parse_url(value)
        if checked is None:
            self.error(name, "Enter a valid URL.")
            return MISSING
        return checked

    def boolean(self, name: str, default: bool) -> bool:
        """A boolean (also ``"true"``, ``"on"``, ``1``...)."""
        value = self.body.get(name, default)
        if value is None:
            return default
        if isinstance(value, bool | int | str) and value in _TRUE:
            return True
        if isinstance(value, bool | int | str) and value in _FALSE:
            return False
        self.error(name, "Must be a valid boolean.")
        return default

    def mapping(self, name: str) -> Any:
        """A JSON object field."""
        if name not in self.body:
            return MISSING
        value = self.body[name]
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.error(
                name, f'Expected a dictionary of items but got type "{type(value).__name__}".'
            )
            return MISSING
        return dict(value)

    def items(self, name: str) -> Any:
        """A list field; a single form value counts as a list of one."""
        if name not in self.body:
            return MISSING
        value = self.body[name]
        if value is None:
            return None
        if isinstance(value, str | Mapping):
            return [value]
        if not isinstance(value, list):
            self.error(name, f'Expected a list of items but got type "{type(value).__name__}".')
            return MISSING
        return value

    def strings(self, name: str, *, max_length: int = 1024) -> Any:
        """A list of strings."""
        values = self.items(name)
        if not isinstance(values, list):
            return values
        if not all(isinstance(v, str) and len(v) <= max_length for v in values):
            self.error(name, "Not a valid string.")
            return MISSING
        return [v.strip() for v in values if v.strip()]

    def moment(self, name: str) -> Any:
        """An ISO 8601 date-time; ``None`` when null or empty."""
        if name not in self.body:
            return MISSING
        value = self.body[name]
        if value is None or value == "":
            return None
        parsed = parse_datetime(value)
        if parsed is None:
            self.error(
                name,
                "Datetime has wrong format. Use one of these formats instead: "
                "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
            )
            return MISSING
        return parsed
