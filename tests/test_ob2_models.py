"""Open Badges 2.0 models: wire names, aliases, and unknown properties kept."""

from __future__ import annotations

from datetime import UTC, datetime

from openbackpack.models.ob2 import (
    OB2_CONTEXT,
    Assertion,
    BadgeClass,
    Criteria,
    IdentityObject,
    Related,
    VerificationObject,
)


def test_wire_names_are_camel_case_and_context_is_aliased() -> None:
    """Models write @context, @language and camelCase names, and drop absent values."""
    badge = BadgeClass(
        context=OB2_CONTEXT,
        id="https://x.example/ob/badges/1",
        name="Badge",
        description="A badge",
        image="https://x.example/ob/badges/1/image",
        criteria=Criteria(narrative="Do it"),
        issuer="https://x.example/ob/issuers/1",
        related=[Related(id="https://x.example/ob/badges/2", language="es")],
        language="en",
    )
    data = badge.to_json()
    assert data["@context"] == OB2_CONTEXT
    assert data["@language"] == "en"
    assert data["related"] == [{"id": "https://x.example/ob/badges/2", "@language": "es"}]
    assert "version" not in data
    assert list(data)[:3] == ["@context", "type", "id"]


def test_unknown_properties_survive_a_round_trip() -> None:
    """Properties the model does not declare (extensions, legacy uid) are kept."""
    source = {
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": "https://x.example/a/1",
        "uid": "legacy-1",
        "recipient": {"type": "email", "identity": "a@x.example", "hashed": False},
        "badge": "https://x.example/b/1",
        "verify": {"type": "hosted", "url": "https://x.example/a/1"},
        "issuedOn": "2024-05-01T10:00:00+02:00",
        "extensions:exampleExtension": {"value": 1},
    }
    assertion = Assertion.model_validate(source)
    assert assertion.verification.url == "https://x.example/a/1"
    assert assertion.issued_on == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    data = assertion.to_json()
    assert data["uid"] == "legacy-1"
    assert data["extensions:exampleExtension"] == {"value": 1}
    assert "verify" not in data
    assert data["verification"]["type"] == "hosted"


def test_times_are_written_with_a_zone() -> None:
    """Aware datetimes are written in ISO 8601 with a zone designator."""
    assertion = Assertion(
        id="https://x.example/a/1",
        recipient=IdentityObject(identity="a@x.example", hashed=False),
        badge="https://x.example/b/1",
        verification=VerificationObject(),
        issued_on=datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
    )
    assert assertion.to_json()["issuedOn"] == "2024-05-01T10:00:00Z"
