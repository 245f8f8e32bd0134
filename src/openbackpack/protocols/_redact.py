"""Keeping credentials out of error messages and logs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["REDACTED", "redact", "redact_data"]

REDACTED: Final = "[redacted]"
"""What a removed credential is replaced with."""

# ``Authorization: Bearer abc`` and ``"Authorization": "Token abc"``: the scheme word is kept so
# a reader still sees which kind of credential was sent.
_AUTH_HEADER = re.compile(
    r"""(?P<key>authorization["']?\s*[:=]\s*["']?)(?P<scheme>(?:bearer|basic|token)\s+)?[^\s"',;}]+""",
    re.IGNORECASE,
)
# ``password=s3cret``, ``"refresh_token": "abc"``, ``access_token=abc&...`` in bodies, queries
# and repr()s alike.
_SECRET_FIELD = re.compile(
    r"""(?P<key>["']?\b(?:password|passwd|access_token|refresh_token|client_secret|code_verifier)\b["']?\s*[:=]\s*["']?)[^\s"'&,;}]+""",
    re.IGNORECASE,
)


# A bare ``Bearer abc...`` a server echoed without the header name (8+ token characters, so
# the word in ordinary prose is mostly left alone; redacting a little too much is harmless).
_BARE_BEARER = re.compile(r"(?P<scheme>\bbearer\s+)[A-Za-z0-9\-._~+/]{8,}=*", re.IGNORECASE)
# ``https://user:password@host``: credentials in a URL's userinfo.
_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)[^\s/@\"'<>]+@", re.IGNORECASE)
_SECRET_KEYS: Final = frozenset(
    {"password", "passwd", "access_token", "refresh_token", "client_secret", "code_verifier"}
)


def redact(text: str) -> str:
    """Return ``text`` with bearer tokens, passwords and OAuth secrets replaced by a marker.

    Used on every piece of remote or transport text that ends up in an exception message, so
    an error report can be logged or shown without leaking what was sent.
    """
    text = _AUTH_HEADER.sub(
        lambda m: f"{m.group('key')}{m.group('scheme') or ''}{REDACTED}",
        text,
    )
    text = _BARE_BEARER.sub(lambda m: f"{m.group('scheme')}{REDACTED}", text)
    text = _USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    return _SECRET_FIELD.sub(lambda m: f"{m.group('key')}{REDACTED}", text)


def redact_data(value: Any) -> Any:
    """A copy of decoded JSON with every secret removed: strings redacted, secret keys blanked.

    Used on the bodies that error objects keep (``APIStatusError.body``), which a caller may
    log or show whole.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        # Only a string under a secret's name is blanked: a list there is a field's messages
        # (Badgr's ``fieldErrors.password``), which stay readable.
        return {
            key: REDACTED
            if isinstance(key, str) and key.lower() in _SECRET_KEYS and isinstance(item, str)
            else redact_data(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_data(item) for item in value]
    return value
