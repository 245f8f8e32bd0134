"""The issuer registry: issuers, badge classes, relations, endorsements, awards, revocation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from openbackpack import (
    AlreadyRevokedError,
    InvalidCriteriaError,
    InvalidEmailError,
    InvalidImageError,
    InvalidInputError,
    InvalidUrlError,
    RecordNotFoundError,
)
from openbackpack.store import Alignment, Evidence, Store, Transaction
from tests.registry_data import EXPIRES, ISSUED, PNG, SVG, seed

from .conftest import snapshot


def test_seeded_registry_reads_back(store: Store) -> None:
    """Everything stored for issuers, badges, endorsements and awards comes back as given."""
    with store.transaction() as tx:
        ids = seed(tx)
    with store.transaction() as tx:
        issuer = tx.issuers.get(ids.issuer_id)
        badge = tx.badge_classes.get(ids.badge_id)
        award = tx.awards.get(ids.award_hash)
        assert (issuer.name, issuer.url, issuer.image, issuer.image_type) == (
            "Example University",
            "https://example.org",
            PNG,
            "image/png",
        )
        assert badge.image_type == "image/png"
        assert badge.criteria_url == "https://example.org/criteria?id=1"
        assert badge.alignments == (
            Alignment("Standard 1", "https://standards.example.org/1", "First", "ESF", "S1"),
        )
        assert badge.tags == ("example", "test")
        assert badge.related_ids == (ids.related_id,)
        assert tx.badge_classes.get(ids.related_id).related_ids == (ids.badge_id,)
        assert tx.badge_classes.get(ids.related_id).image_type == "image/svg+xml"
        assert [e.id for e in tx.badge_classes.endorsements(ids.badge_id)] == [ids.endorsement_id]
        assert award.recipient_email == "Learner@Example.org"
        assert (award.salt, award.issued_on, award.expires) == ("pepper", ISSUED, EXPIRES)
        assert award.evidence == (
            Evidence(url="https://example.org/work/1", narrative="The work.", name="Work"),
        )
        assert not award.revoked
        assert len(award.hash) == 40


def test_award_uses_the_site_salt_by_default(store: Store) -> None:
    """Without a salt, an award keeps the site's badge salt as it was when it was made."""
    with store.transaction() as tx:
        ids = seed(tx)
        award = tx.awards.create(ids.badge_id, "other@example.org")
        assert award.salt == tx.settings.get().badge_salt
        tx.settings.update(badge_salt="changed")
        assert tx.awards.get(award.hash).salt == award.salt
        assert tx.awards.create(ids.badge_id, "x@example.org", salt="").salt == ""


def test_award_times_are_aware_whole_seconds(store: Store) -> None:
    """An award made now is issued at an aware time without fractions of a second."""
    with store.transaction() as tx:
        ids = seed(tx)
        award = tx.awards.create(ids.badge_id, "other@example.org")
    assert award.issued_on.tzinfo is not None
    assert award.issued_on.microsecond == 0


def test_relations_are_symmetric_and_stored_once(store: Store) -> None:
    """Relating two badges either way, twice, gives one relation seen from both sides."""
    with store.transaction() as tx:
        ids = seed(tx)
        tx.badge_classes.relate(ids.related_id, ids.badge_id)
        tx.badge_classes.relate(ids.badge_id, ids.related_id)
        assert tx.badge_classes.get(ids.badge_id).related_ids == (ids.related_id,)
    assert len(snapshot(store)["badge_class_relations"]) == 1
    with pytest.raises(InvalidInputError, match="itself"), store.transaction() as tx:
        tx.badge_classes.relate(ids.badge_id, ids.badge_id)


def test_listing_filters(store: Store) -> None:
    """Badge classes list per issuer; awards per badge, per issuer and by revocation."""
    with store.transaction() as tx:
        ids = seed(tx)
        other = tx.awards.create(ids.related_id, "b@example.org")
        tx.awards.revoke(other.hash, "Issued by mistake.")
        assert [b.id for b in tx.badge_classes.list(issuer_id=ids.issuer_id)] == [
            ids.related_id,
            ids.badge_id,
        ]
        assert tx.badge_classes.list(issuer_id=ids.endorser_id) == []
        assert [i.id for i in tx.issuers.list()] == [ids.issuer_id, ids.endorser_id]
        assert [a.hash for a in tx.awards.list(badge_class_id=ids.badge_id)] == [ids.award_hash]
        assert [a.hash for a in tx.awards.list(issuer_id=ids.issuer_id, revoked=True)] == [
            other.hash
        ]
        assert tx.awards.list(issuer_id=ids.endorser_id) == []
        assert len(tx.awards.list(revoked=False)) == 1


def test_revocation_keeps_the_first_reason(store: Store) -> None:
    """Revoking stores the reason and time; a second revocation is refused and changes nothing."""
    with store.transaction() as tx:
        ids = seed(tx)
        revoked = tx.awards.revoke(ids.award_hash, "Plagiarised work.")
        assert revoked.revoked
        assert revoked.revocation_reason == "Plagiarised work."
        assert revoked.revoked_at is not None
    before = snapshot(store)
    with pytest.raises(AlreadyRevokedError, match="already revoked"), store.transaction() as tx:
        tx.awards.revoke(ids.award_hash, "Again.")
    assert snapshot(store) == before


def test_unknown_records_raise_record_not_found(store: Store) -> None:
    """Unknown issuers, badges, endorsements and award hashes raise RecordNotFoundError."""
    with store.transaction() as tx:
        with pytest.raises(RecordNotFoundError, match="issuer"):
            tx.issuers.get(1)
        with pytest.raises(RecordNotFoundError, match="badge class"):
            tx.badge_classes.get(1)
        with pytest.raises(RecordNotFoundError, match="endorsement"):
            tx.badge_classes.endorsement(1)
        with pytest.raises(RecordNotFoundError, match="award"):
            tx.awards.get("nope")
        assert tx.awards.find("nope") is None


BadCall = Callable[[Transaction, int, int], object]

BAD_INPUT: list[tuple[str, BadCall, type[Exception], str]] = [
    (
        "issuer-email",
        lambda tx, i, b: tx.issuers.create("X", "https://x.example.org", "not-an-email"),
        InvalidEmailError,
        "not an email address",
    ),
    (
        "issuer-url",
        lambda tx, i, b: tx.issuers.create("X", "ftp://x.example.org", "x@example.org"),
        InvalidUrlError,
        "http and https",
    ),
    (
        "issuer-image",
        lambda tx, i, b: tx.issuers.create("X", "https://x.org", "x@x.org", image=b"GIF89a"),
        InvalidImageError,
        "neither a PNG nor",
    ),
    (
        "badge-image-html",
        lambda tx, i, b: tx.badge_classes.create(
            i, "B", "D", b"<html/>", criteria_url="https://c.org"
        ),
        InvalidImageError,
        "root is 'html'",
    ),
    (
        "badge-image-png-named-only",
        lambda tx, i, b: tx.badge_classes.create(
            i, "B", "D", b"\x89PNG\r\n\x1a\n", criteria_url="https://c.org"
        ),
        InvalidImageError,
        "no IHDR",
    ),
    (
        "badge-criteria",
        lambda tx, i, b: tx.badge_classes.create(i, "B", "D", PNG, criteria_narrative="  "),
        InvalidCriteriaError,
        "criteria",
    ),
    (
        "badge-issuer",
        lambda tx, i, b: tx.badge_classes.create(999, "B", "D", PNG, criteria_narrative="x"),
        RecordNotFoundError,
        "issuer",
    ),
    (
        "badge-related",
        lambda tx, i, b: tx.badge_classes.create(
            i, "B", "D", PNG, criteria_narrative="x", related=[999]
        ),
        RecordNotFoundError,
        "badge class",
    ),
    (
        "badge-language",
        lambda tx, i, b: tx.badge_classes.create(
            i, "B", "D", SVG, criteria_narrative="x", language="en_GB"
        ),
        InvalidInputError,
        "language tag",
    ),
    (
        "badge-alignment-url",
        lambda tx, i, b: tx.badge_classes.create(
            i, "B", "D", SVG, criteria_narrative="x", alignments=[Alignment("A", "not a url")]
        ),
        InvalidUrlError,
        "alignment url",
    ),
    (
        "award-unknown-badge",
        lambda tx, i, b: tx.awards.create(999, "learner@example.org"),
        RecordNotFoundError,
        "badge class",
    ),
    (
        "award-email",
        lambda tx, i, b: tx.awards.create(b, "learner@@example.org"),
        InvalidEmailError,
        "recipient email",
    ),
    (
        "award-naive-time",
        lambda tx, i, b: tx.awards.create(b, "l@example.org", issued_on=datetime(2024, 1, 1)),
        InvalidInputError,
        "timezone-aware",
    ),
    (
        "award-expiry",
        lambda tx, i, b: tx.awards.create(
            b, "l@example.org", issued_on=ISSUED, expires=ISSUED - timedelta(1)
        ),
        InvalidInputError,
        "expire after",
    ),
    (
        "award-evidence",
        lambda tx, i, b: tx.awards.create(b, "l@example.org", evidence=[Evidence(name="nothing")]),
        InvalidInputError,
        "URL or a narrative",
    ),
    (
        "endorse-unknown-endorser",
        lambda tx, i, b: tx.badge_classes.endorse(b, 999),
        RecordNotFoundError,
        "issuer",
    ),
    (
        "revoke-without-reason",
        lambda tx, i, b: tx.awards.revoke(tx.awards.list()[0].hash, " "),
        InvalidInputError,
        "revocation reason",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [pytest.param(call, error, message, id=name) for name, call, error, message in BAD_INPUT],
)
def test_bad_input_raises_a_typed_error_and_stores_nothing(
    store: Store, call: BadCall, error: type[Exception], message: str
) -> None:
    """Each kind of bad input raises its typed error and leaves every table as it was."""
    with store.transaction() as tx:
        ids = seed(tx)
    before = snapshot(store)
    with pytest.raises(error, match=message), store.transaction() as tx:
        call(tx, ids.issuer_id, ids.badge_id)
    assert snapshot(store) == before


def test_refused_calls_write_nothing_even_inside_an_open_transaction(store: Store) -> None:
    """A refused award leaves no row behind even when the caller catches it and commits."""
    with store.transaction() as tx:
        ids = seed(tx)
        tx.settings.get()
    before = snapshot(store)
    with store.transaction() as tx:
        with pytest.raises(InvalidEmailError):
            tx.awards.create(ids.badge_id, "nobody")
        with pytest.raises(InvalidImageError):
            tx.badge_classes.create(ids.issuer_id, "B", "D", b"", criteria_narrative="x")
    assert snapshot(store) == before
