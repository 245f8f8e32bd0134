"""Recipient checks: hashed or plain identities, salts, prefixes and the case of hex and email."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openbackpack.models import RecipientMatch, hash_identity, match_recipient
from openbackpack.models.ob2 import Assertion, IdentityObject, VerificationObject

emails = st.emails()
salts = st.text(alphabet=st.characters(codec="utf-8"), max_size=24)


def _recipient(identity: str, *, hashed: bool = True, salt: str | None = None) -> dict[str, object]:
    data: dict[str, object] = {"type": "email", "identity": identity, "hashed": hashed}
    if salt is not None:
        data["salt"] = salt
    return data


def test_hash_identity_matches_the_specification_example() -> None:
    """sha256 of 'mayze' is the digest the OB 2.0 specification gives."""
    assert hash_identity("mayze") == (
        "sha256$7a1a1b3f7d40552e4299180e346e3add12bf9a751a43d9c4ca4518febc2c60c6"
    )


@given(email=emails, salt=salts)
def test_salted_sha256_hash_of_the_email_matches(email: str, salt: str) -> None:
    """An identity hashed from the email and salt matches that email."""
    recipient = _recipient(hash_identity(email, salt), salt=salt)
    assert match_recipient(recipient, email).matched


@given(email=emails, salt=salts, upper_hex=st.booleans(), upper_prefix=st.booleans())
def test_hex_and_prefix_case_do_not_matter(
    email: str, salt: str, upper_hex: bool, upper_prefix: bool
) -> None:
    """Upper-case hex digests and an upper-case algorithm prefix still match."""
    _, _, digest = hash_identity(email, salt).partition("$")
    prefix = "SHA256" if upper_prefix else "sha256"
    identity = f"{prefix}${digest.upper() if upper_hex else digest}"
    assert match_recipient(_recipient(identity, salt=salt), email).matched


@given(email=emails, salt=salts)
def test_md5_identities_match(email: str, salt: str) -> None:
    """Legacy md5$ identities are checked with md5."""
    digest = hashlib.md5((email + salt).encode(), usedforsecurity=False).hexdigest()
    result = match_recipient(_recipient(f"md5${digest}", salt=salt), email)
    assert result.matched
    assert "md5" in result.reason


@given(email=emails)
def test_unsalted_hash_matches_when_no_salt_is_given(email: str) -> None:
    """Without a salt, the hash of the bare email matches and the reason says so."""
    result = match_recipient(_recipient(hash_identity(email)), email)
    assert result.matched
    assert "without a salt" in result.reason


@given(email=emails, salt=salts)
def test_lower_cased_email_is_the_second_try(email: str, salt: str) -> None:
    """A hash of the lower-cased address matches the address typed in another case."""
    typed = email.upper()
    result = match_recipient(_recipient(hash_identity(email.lower(), salt), salt=salt), typed)
    assert result.matched
    if typed != typed.lower():
        assert "lower-cased" in result.reason


@given(email=emails, other=emails, salt=salts)
def test_another_email_does_not_match(email: str, other: str, salt: str) -> None:
    """A hash of one address never matches a different address, and the reason says why."""
    if email.lower() == other.lower():
        return
    result = match_recipient(_recipient(hash_identity(email, salt), salt=salt), other)
    assert not result.matched
    assert result.reason.startswith("neither the email")
    assert not result


@given(email=emails)
def test_plain_identities_match_ignoring_case(email: str) -> None:
    """A plain-text identity matches the same address in any case."""
    assert match_recipient(_recipient(email, hashed=False), email).matched
    assert match_recipient(_recipient(email.upper(), hashed=False), email.lower()).matched
    assert not match_recipient(_recipient("x" + email, hashed=False), email).matched


def test_salt_published_but_not_used_is_explained() -> None:
    """A hash made without the published salt is a mismatch whose reason names the salt."""
    result = match_recipient(
        _recipient(hash_identity("a@example.org"), salt="pepper"), "a@example.org"
    )
    assert not result.matched
    assert "without the recipient's salt" in result.reason


@pytest.mark.parametrize(
    ("recipient", "reason"),
    [
        pytest.param({}, "has no recipient", id="missing"),
        pytest.param({"recipient": "a@example.org"}, "has no recipient", id="not-an-object"),
        pytest.param(
            {"recipient": _recipient("https://example.org", hashed=False) | {"type": "url"}},
            "identified by 'url'",
            id="url-recipient",
        ),
        pytest.param(
            {"recipient": _recipient("sha1$abc")}, "does not start with sha256$", id="sha1"
        ),
        pytest.param(
            {"recipient": _recipient("0123abcd")}, "does not start with sha256$", id="no-prefix"
        ),
        pytest.param(
            {"recipient": _recipient("sha256$é€")}, "neither the email", id="non-ascii-digest"
        ),
    ],
)
def test_unusable_recipients_are_explained(recipient: dict[str, object], reason: str) -> None:
    """Missing, non-email and malformed recipients do not match, with a reason."""
    result = match_recipient(recipient, "a@example.org")
    assert result == RecipientMatch(False, result.reason)
    assert reason in result.reason


def test_models_are_accepted_as_well_as_json() -> None:
    """An Assertion model and an IdentityObject model are checked like their JSON."""
    identity = IdentityObject(identity=hash_identity("a@example.org", "s"), hashed=True, salt="s")
    assertion = Assertion(
        id="https://issuer.example.org/ob/assertions/1",
        recipient=identity,
        badge="https://issuer.example.org/ob/badges/1",
        verification=VerificationObject(),
        issued_on=datetime(2024, 1, 1, tzinfo=UTC),
    )
    assert match_recipient(identity, "a@example.org").matched
    assert match_recipient(assertion, "a@example.org").matched
    assert match_recipient(assertion.to_json(), "a@example.org").matched
