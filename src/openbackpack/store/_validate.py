"""Checks applied to values before they are stored."""

from __future__ import annotations

from urllib.parse import urlsplit

from openbackpack._exceptions import InvalidInputError, InvalidUrlError
from openbackpack.store._records import SITE_OWNER

__all__ = ["check_email", "check_owner", "normalise_url"]

_MAX_URL = 255


def normalise_url(field: str, value: str) -> str:
    """Return ``value`` as a stored backpack URL: trimmed, http(s), without a trailing slash.

    The trailing slash is dropped so that ``https://x/v2`` and ``https://x/v2/`` count as the
    same URL for uniqueness, and so that URLs built from it never hold ``//``.
    """
    if not isinstance(value, str):
        raise InvalidUrlError(field, value, "it is not a string")
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if "@" in parts.netloc:
        # Credentials in the URL would be stored unsealed and printed wherever the URL is;
        # the error names the URL without them.
        shown = parts._replace(netloc="[redacted]@" + parts.netloc.rpartition("@")[2]).geturl()
        raise InvalidUrlError(
            field,
            shown,
            "it may not carry credentials (user:password@): give them as the account's email and "
            "password, which are stored sealed",
        )
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidUrlError(field, value, "only http and https URLs are accepted")
    if not parts.hostname:
        raise InvalidUrlError(field, value, "it has no host")
    if parts.query or parts.fragment:
        raise InvalidUrlError(field, value, "it may not carry a query or fragment")
    if len(url) > _MAX_URL:
        raise InvalidUrlError(field, value, f"it is longer than {_MAX_URL} characters")
    try:
        _ = parts.port
    except ValueError:
        raise InvalidUrlError(field, value, "its port is not a number from 0 to 65535") from None
    return url


def check_owner(owner: str) -> str:
    """Accept :data:`SITE_OWNER` or a user id that cannot be mistaken for it."""
    if not isinstance(owner, str) or not owner.strip() or owner != owner.strip():
        raise InvalidInputError(
            f"owner {owner!r} must be a non-empty string without spaces around it"
        )
    if owner.startswith("@") and owner != SITE_OWNER:
        raise InvalidInputError(f"owner {owner!r}: user ids may not start with '@'")
    if len(owner) > 255:
        raise InvalidInputError("owner ids are at most 255 characters")
    return owner


def check_email(email: str) -> str:
    """Accept a plausible email address (one ``@`` with text on both sides), trimmed."""
    text = email.strip() if isinstance(email, str) else ""
    local, _, domain = text.rpartition("@")
    if not local or not domain or " " in text or len(text) > 320:
        raise InvalidInputError(f"{email!r} is not an email address")
    return text
