"""Request bodies (moodle-backpack.md §3.4, §4.1), with what Moodle lost restored (W9)."""

from __future__ import annotations

from typing import Any

from openbackpack.protocols import (
    assertion_body,
    badgeclass_body,
    credentials_form,
    email_form,
    import_body,
    issuer_body,
)

ISSUER: dict[str, Any] = {
    "@context": "https://w3id.org/openbadges/v2",
    "type": "Issuer",
    "id": "https://moodle.example/badges/issuer_json.php?id=1",
    "name": "Example Site",
    "email": "badges@moodle.example",
    "url": "https://moodle.example",
}

BADGE: dict[str, Any] = {
    "@context": "https://w3id.org/openbadges/v2",
    "type": "BadgeClass",
    "id": "https://moodle.example/badges/badge_json.php?id=3",
    "name": "Course completion",
    "description": "Completed the course",
    "image": "data:image/png;base64,iVBORw0KGgo=",
    "criteria": {"id": "https://moodle.example/badges/badgeclass.php?id=3", "narrative": "Do it"},
    "version": "1",
    "@language": "en",
    "alignments": [
        {"targetName": "Skill A", "targetUrl": "https://example.org/a", "targetCode": "A1"}
    ],
    "tags": ["moodle"],
    "issuer": ISSUER,
}

ASSERTION: dict[str, Any] = {
    "recipient": {"identity": "earner@example.org", "type": "email", "hashed": True},
    "badge": BADGE,
    "verify": {"type": "hosted", "url": "https://moodle.example/badges/assertion.php?b=abc"},
    "issuedOn": "2024-01-02T03:04:05+00:00",
    "@context": "https://w3id.org/openbadges/v2",
    "type": "Assertion",
    "id": "https://moodle.example/badges/assertion.php?b=abc",
}


def test_token_request_is_username_and_password_only() -> None:
    """The password grant sends only username and password, as Moodle does."""
    assert credentials_form("a@b.org", "pw") == {"username": "a@b.org", "password": "pw"}


def test_displayer_lookup_sends_the_email() -> None:
    """The Displayer lookup sends the email field."""
    assert email_form("a@b.org") == {"email": "a@b.org"}


def test_import_sends_the_url() -> None:
    """An import by URL is {"url": ...}."""
    assert import_body("https://h/a/1") == {"url": "https://h/a/1"}


def test_issuer_body_is_moodles_field_set() -> None:
    """The issuer body has exactly type, id, name, email and url (plus description/image if set)."""
    assert issuer_body(ISSUER) == {k: ISSUER[k] for k in ("type", "id", "name", "email", "url")}
    assert issuer_body({**ISSUER, "description": "d"})["description"] == "d"


def test_badgeclass_body_keeps_moodles_fields_and_adds_alignments_and_tags() -> None:
    """Criteria split into Badgr's names; alignments and tags now reach Badgr (W9)."""
    body = badgeclass_body(BADGE)
    assert body == {
        "type": "BadgeClass",
        "id": BADGE["id"],
        "name": "Course completion",
        "image": BADGE["image"],
        "description": "Completed the course",
        "criteriaUrl": "https://moodle.example/badges/badgeclass.php?id=3",
        "criteriaNarrative": "Do it",
        "alignments": [
            {"targetName": "Skill A", "targetUrl": "https://example.org/a", "targetCode": "A1"}
        ],
        "tags": ["moodle"],
    }


def test_badgeclass_body_reads_the_spec_name_alignment_too() -> None:
    """OB 2.0's singular 'alignment' (even a single object) becomes Badgr's 'alignments'."""
    badge = {**BADGE, "alignment": {"targetName": "B", "targetUrl": "https://e/b"}}
    del badge["alignments"]
    assert badgeclass_body(badge)["alignments"] == [{"targetName": "B", "targetUrl": "https://e/b"}]


def test_badgeclass_criteria_as_a_url() -> None:
    """A criteria URL string becomes criteriaUrl only."""
    body = badgeclass_body({**BADGE, "criteria": "https://c.example"})
    assert body["criteriaUrl"] == "https://c.example"
    assert "criteriaNarrative" not in body


def test_assertion_body_has_moodles_shape_with_the_verification_url() -> None:
    """Recipient plain with hashed true, embedded badge and issuer, and the URL Moodle dropped."""
    body = assertion_body(ASSERTION)
    assert body["recipient"] == {"identity": "earner@example.org", "type": "email", "hashed": True}
    assert body["verification"] == {"type": "hosted", "url": ASSERTION["verify"]["url"]}
    assert body["badge"]["issuer"] == ISSUER
    assert body["badge"]["criteriaNarrative"] == "Do it"
    assert body["issuedOn"] == ASSERTION["issuedOn"]
    assert body["@context"] == "https://w3id.org/openbadges/v2"
    assert "verify" not in body


def test_assertion_body_evidence_in_badgr_form() -> None:
    """Evidence URLs and objects become Badgr's {url, narrative} items."""
    body = assertion_body(
        {**ASSERTION, "evidence": ["https://e/1", {"id": "https://e/2", "narrative": "n"}]}
    )
    assert body["evidence"] == [{"url": "https://e/1"}, {"url": "https://e/2", "narrative": "n"}]
