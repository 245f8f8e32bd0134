"""Credentials never reach error text."""

from __future__ import annotations

import pytest

from openbackpack.protocols import REDACTED, redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        pytest.param("Authorization: Bearer q3Vd9XkPz1", "q3Vd9XkPz1", id="bearer-header"),
        pytest.param("{'Authorization': 'Token abc'}", "abc", id="header-repr"),
        pytest.param("username=a%40b.org&password=hunter2", "hunter2", id="form"),
        pytest.param('{"password": "hunter2"}', "hunter2", id="json"),
        pytest.param('{"refresh_token": "Zx8Yw7"}', "Zx8Yw7", id="refresh-token"),
        pytest.param("https://h/x?access_token=abc123&y=1", "abc123", id="query"),
        pytest.param("client_secret=s3cr3t", "s3cr3t", id="client-secret"),
    ],
)
def test_redact_removes_the_secret(text: str, secret: str) -> None:
    """Tokens, passwords and client secrets are replaced by the marker."""
    cleaned = redact(text)
    assert secret not in cleaned
    assert REDACTED in cleaned


def test_redact_leaves_ordinary_text_alone() -> None:
    """Text without credentials is unchanged."""
    text = "issuers failed with HTTP 404: entity not found or insufficient privileges"
    assert redact(text) == text


def test_redact_keeps_the_scheme_and_the_rest() -> None:
    """The auth scheme and the surrounding text stay readable."""
    assert redact("Authorization: Bearer abc, next") == f"Authorization: Bearer {REDACTED}, next"
