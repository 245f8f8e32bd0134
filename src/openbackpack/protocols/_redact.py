"""Keeping credentials out of error messages and logs."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["REDACTED", "redact"]

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


def redact(text: str) -> str:
    """Return ``text`` with bearer tokens, passwords and OAuth secrets replaced by a marker.

    Used on every piece of remote or transport text that ends up in an exception message, so
    an error report can be logged or shown without leaking what was sent.
    """
    text = _AUTH_HEADER.sub(
        lambda m: f"{m.group('key')}{m.group('scheme') or ''}{REDACTED}",
        text,
    )
    return _SECRET_FIELD.sub(lambda m: f"{m.group('key')}{REDACTED}", text)
