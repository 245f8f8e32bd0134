"""Pure models: API versions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openbackpack import ApiVersion, InvalidApiVersionError


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", "1"), (" 1.0 ", "1"), ("2.00", "2"), ("2.1", "2.1"), (2.1, "2.1"), (Decimal("2"), "2")],
)
def test_parse_accepts_moodle_spellings(text: object, expected: str) -> None:
    """Every form Moodle stores parses to the canonical version."""
    assert ApiVersion.parse(text).value == expected


@given(st.text())
def test_parse_never_crashes_on_text(text: str) -> None:
    """Any text either parses to a known version or raises InvalidApiVersionError."""
    try:
        parsed = ApiVersion.parse(text)
    except InvalidApiVersionError as exc:
        message = str(exc)
        assert "unknown backpack API version" in message
    else:
        assert parsed in ApiVersion


def test_invalid_version_is_a_value_error() -> None:
    """InvalidApiVersionError is also a ValueError, for callers that catch that."""
    with pytest.raises(ValueError, match="'4'"):
        ApiVersion.parse("4")
