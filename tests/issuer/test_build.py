"""The OB 2.0 JSON shapes: Moodle's test_badges_assertion expectations, with the spec fixes."""

from __future__ import annotations

import hashlib
import re

from openbackpack.issuer import (
    IssuerDocuments,
    IssuerUrls,
    build_assertion,
    build_revocation_list,
    build_revoked_assertion,
)
from openbackpack.models import ob2
from openbackpack.store import Store
from tests.registry_data import Seeded

from .conftest import BASE_URL

# The keys Moodle's test_badges_assertion requires of a v2 assertion and its embedded badge
# class and issuer (moodle-backpack.md §9.1), ...
MOODLE_ASSERTION = {
    "recipient",
    "badge",
    "verify",
    "issuedOn",
    "evidence",
    "@context",
    "type",
    "id",
}
MOODLE_BADGE = {
    "name", "description", "image", "criteria", "issuer", "@context", "id", "type", "version",
    "@language", "related", "endorsement", "alignments",
}  # fmt: skip
MOODLE_ISSUER = {"name", "url", "email", "@context", "id", "type"}
MOODLE_RECIPIENT = {"identity", "type", "hashed", "salt"}
# ... and what openbackpack changes on purpose: the spec's names, no repeated @context in
# embedded documents, and the properties Moodle loses (W9, W10).
RENAMED = {"verify": "verification", "alignments": "alignment"}
EMBEDDED_WITHOUT = {"@context"}
ADDED_ASSERTION = {"expires"}
ADDED_BADGE = {"tags"}
ADDED_ISSUER = {"description", "image", "revocationList"}
ZONED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def _ours(moodle: set[str], *, embedded: bool, added: set[str]) -> set[str]:
    keys = {RENAMED.get(key, key) for key in moodle} | added
    return keys - EMBEDDED_WITHOUT if embedded else keys


def test_assertion_has_moodles_keys_under_spec_names(
    documents: IssuerDocuments, seeded: Seeded
) -> None:
    """The assertion, embedded badge class, issuer and recipient have Moodle's keys, renamed."""
    data = documents.assertion(seeded.award_hash).to_json()
    assert set(data) == _ours(MOODLE_ASSERTION, embedded=False, added=ADDED_ASSERTION)
    assert set(data["badge"]) == _ours(MOODLE_BADGE, embedded=True, added=ADDED_BADGE)
    assert set(data["badge"]["issuer"]) == _ours(MOODLE_ISSUER, embedded=True, added=ADDED_ISSUER)
    assert set(data["recipient"]) == MOODLE_RECIPIENT
    assert data["@context"] == "https://w3id.org/openbadges/v2"
    assert (data["type"], data["badge"]["type"], data["badge"]["issuer"]["type"]) == (
        "Assertion",
        "BadgeClass",
        "Issuer",
    )


def test_standalone_documents_have_context_type_and_id(
    documents: IssuerDocuments, seeded: Seeded
) -> None:
    """Issuer, badge class, endorsement and revocation list each stand alone with @context."""
    issuer_keys = _ours(MOODLE_ISSUER, embedded=False, added=ADDED_ISSUER)
    badge_keys = _ours(MOODLE_BADGE, embedded=False, added=ADDED_BADGE)
    shapes = {
        "Issuer": (documents.issuer(seeded.issuer_id), issuer_keys),
        "BadgeClass": (documents.badge_class(seeded.badge_id), badge_keys),
        "Endorsement": (
            documents.endorsement(seeded.endorsement_id),
            {"@context", "type", "id", "claim", "issuer", "issuedOn", "verification"},
        ),
        "RevocationList": (
            documents.revocation_list(seeded.issuer_id),
            {"@context", "type", "id", "issuer", "revokedAssertions"},
        ),
    }  # fmt: skip
    for kind, (document, keys) in shapes.items():
        data = document.to_json()
        assert set(data) == keys, kind
        assert data["type"] == kind
        assert data["id"].startswith(BASE_URL + "/ob/")


def test_ids_are_public_urls_of_the_layout(documents: IssuerDocuments, seeded: Seeded) -> None:
    """Every id is a URL under the base URL, in the documented layout."""
    data = documents.assertion(seeded.award_hash).to_json()
    badge = data["badge"]
    assert data["id"] == f"{BASE_URL}/ob/assertions/{seeded.award_hash}"
    assert badge["id"] == f"{BASE_URL}/ob/badges/{seeded.badge_id}"
    assert badge["image"] == f"{BASE_URL}/ob/badges/{seeded.badge_id}/image"
    assert badge["issuer"]["id"] == f"{BASE_URL}/ob/issuers/{seeded.issuer_id}"
    assert badge["issuer"]["image"] == f"{BASE_URL}/ob/issuers/{seeded.issuer_id}/image"
    assert (
        badge["issuer"]["revocationList"] == f"{BASE_URL}/ob/issuers/{seeded.issuer_id}/revocations"
    )
    assert badge["related"] == [{"id": f"{BASE_URL}/ob/badges/{seeded.related_id}"}]
    assert badge["endorsement"] == [f"{BASE_URL}/ob/endorsements/{seeded.endorsement_id}"]


def test_spec_fixes_over_moodle(documents: IssuerDocuments, seeded: Seeded) -> None:
    """Verification keeps its URL; criteria and evidence are objects; endorsements are hosted."""
    data = documents.assertion(seeded.award_hash).to_json()
    badge = data["badge"]
    assert data["verification"] == {"type": "hosted", "url": data["id"]}
    assert badge["criteria"] == {
        "id": "https://example.org/criteria?id=1",
        "narrative": "Do the *example*.",
    }
    assert data["evidence"] == [
        {
            "type": "Evidence",
            "id": "https://example.org/work/1",
            "narrative": "The work.",
            "name": "Work",
        }
    ]
    assert badge["alignment"][0]["targetName"] == "Standard 1"
    assert badge["tags"] == ["example", "test"]
    endorsement = documents.endorsement(seeded.endorsement_id).to_json()
    assert badge["endorsement"] == [endorsement["id"]]
    assert endorsement["claim"] == {"id": badge["id"], "endorsementComment": "Well designed."}
    # The endorser by URL, as the official validator needs (an embedded one fails it).
    assert endorsement["issuer"] == f"{BASE_URL}/ob/issuers/{seeded.endorser_id}"
    assert endorsement["verification"]["type"] == "hosted"


def test_times_are_iso_8601_with_a_zone(documents: IssuerDocuments, seeded: Seeded) -> None:
    """issuedOn, expires and the endorsement's issuedOn carry a time-zone designator."""
    data = documents.assertion(seeded.award_hash).to_json()
    assert data["issuedOn"] == "2024-05-01T10:30:00Z"
    assert data["expires"] == "2027-05-01T10:30:00Z"
    assert ZONED.fullmatch(documents.endorsement(seeded.endorsement_id).to_json()["issuedOn"])


def test_recipient_is_the_salted_sha256_of_the_email(
    documents: IssuerDocuments, seeded: Seeded
) -> None:
    """identity is sha256$ + hex(sha256(email + salt)), published with its salt."""
    recipient = documents.assertion(seeded.award_hash).to_json()["recipient"]
    digest = hashlib.sha256(b"Learner@Example.orgpepper").hexdigest()
    assert recipient == {
        "type": "email",
        "identity": f"sha256${digest}",
        "hashed": True,
        "salt": "pepper",
    }
    plain = documents.assertion(seeded.award_hash, hashed=False).to_json()["recipient"]
    assert plain == {"type": "email", "identity": "Learner@Example.org", "hashed": False}


def test_unsalted_award_publishes_no_salt(store: Store, seeded: Seeded) -> None:
    """An award with an empty salt hashes the bare email and publishes no salt."""
    with store.transaction() as tx:
        award = tx.awards.create(seeded.badge_id, "a@example.org", salt="")
        data = build_assertion(award, "https://x.example/b", IssuerUrls(BASE_URL)).to_json()
    assert data["recipient"] == {
        "type": "email",
        "identity": "sha256$" + hashlib.sha256(b"a@example.org").hexdigest(),
        "hashed": True,
    }
    assert data["badge"] == "https://x.example/b"


def test_revoked_documents_carry_the_reason(store: Store, seeded: Seeded) -> None:
    """A revoked award's assertion, the 410 stub and the revocation list all give the reason."""
    urls = IssuerUrls(BASE_URL)
    with store.transaction() as tx:
        award = tx.awards.revoke(seeded.award_hash, "Issued by mistake.")
        issuer = tx.issuers.get(seeded.issuer_id)
        full = build_assertion(award, urls.badge(seeded.badge_id), urls).to_json()
        listing = build_revocation_list(issuer, [award], urls).to_json()
        hosted = IssuerDocuments(tx, urls).hosted_assertion(award.hash)
    assert (full["revoked"], full["revocationReason"]) == (True, "Issued by mistake.")
    assert listing["revokedAssertions"] == [
        {"id": urls.assertion(award.hash), "revocationReason": "Issued by mistake."}
    ]
    assert isinstance(hosted, ob2.RevokedAssertion)
    assert hosted.to_json() == build_revoked_assertion(full["id"], "Issued by mistake.").to_json()
    assert set(hosted.to_json()) == {"@context", "type", "id", "revoked", "revocationReason"}


def test_base_url_is_normalised(documents: IssuerDocuments) -> None:
    """A trailing slash on the base URL never doubles the slash in ids."""
    assert IssuerUrls("https://lms.example.org/issuer/").badge(3) == (
        "https://lms.example.org/issuer/ob/badges/3"
    )
    assert documents.urls.base_url == BASE_URL
