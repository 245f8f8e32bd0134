"""Small images and a seeded registry shared by the issuer, store and CLI tests."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from openbackpack.store import Alignment, Evidence, Transaction


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


# A real 1x1 PNG, built here so the tests need no binary fixture file.
PNG = (
    b"\x89PNG\r\n\x1a\n"
    + _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0))
    + _chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00\xff"))
    + _chunk(b"IEND", b"")
)
SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<circle cx="5" cy="5" r="4"/></svg>\n'
)
ISSUED = datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
EXPIRES = datetime(2027, 5, 1, 10, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    issuer_id: int
    endorser_id: int
    badge_id: int
    related_id: int
    endorsement_id: int
    award_hash: str


def seed(tx: Transaction) -> Seeded:
    """Fill a registry with one of everything: issuer, endorser, two related badges, an award."""
    issuer = tx.issuers.create(
        "Example University",
        "https://example.org",
        "badges@example.org",
        description="Issues badges.",
        image=PNG,
    )
    endorser = tx.issuers.create("Guild of Examples", "https://guild.example.org", "g@example.org")
    sibling = tx.badge_classes.create(
        issuer.id, "Insignia", "The same in Spanish.", SVG, criteria_url="https://example.org/c"
    )
    badge = tx.badge_classes.create(
        issuer.id,
        "Badge",
        "Awarded for the example.",
        PNG,
        criteria_url="https://example.org/criteria?id=1",
        criteria_narrative="Do the *example*.",
        alignments=[
            Alignment("Standard 1", "https://standards.example.org/1", "First", "ESF", "S1")
        ],
        tags=["example", "test"],
        related=[sibling.id],
        version="1.0",
        language="en",
    )
    endorsement = tx.badge_classes.endorse(badge.id, endorser.id, "Well designed.")
    award = tx.awards.create(
        badge.id,
        "Learner@Example.org",
        salt="pepper",
        issued_on=ISSUED,
        expires=EXPIRES,
        evidence=[Evidence(url="https://example.org/work/1", narrative="The work.", name="Work")],
    )
    return Seeded(issuer.id, endorser.id, badge.id, sibling.id, endorsement.id, award.hash)
