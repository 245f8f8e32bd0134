"""The issuer registry's records: issuers, badge classes, endorsements and awards."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = ["Alignment", "Award", "BadgeClass", "Endorsement", "Evidence", "ImageType", "Issuer"]

ImageType = Literal["image/png", "image/svg+xml"]
"""The two image formats Open Badges 2.0 allows."""


@dataclass(frozen=True, slots=True)
class Alignment:
    """An educational standard a badge class aligns to (OB 2.0 ``AlignmentObject``)."""

    target_name: str
    target_url: str
    target_description: str | None = None
    target_framework: str | None = None
    target_code: str | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """Work that supports an award: a URL, a Markdown narrative, or both, and details."""

    url: str | None = None
    narrative: str | None = None
    name: str | None = None
    description: str | None = None
    genre: str | None = None
    audience: str | None = None


@dataclass(frozen=True, slots=True)
class Issuer:
    """An organisation that awards badges (or endorses them)."""

    id: int
    name: str
    url: str
    email: str
    description: str | None
    image: bytes | None = field(repr=False)
    image_type: ImageType | None
    created_at: datetime
    modified_at: datetime


@dataclass(frozen=True, slots=True)
class BadgeClass:
    """An achievement an issuer awards: what the hosted BadgeClass JSON is built from."""

    id: int
    issuer_id: int
    name: str
    description: str
    image: bytes = field(repr=False)
    image_type: ImageType
    criteria_url: str | None
    criteria_narrative: str | None
    alignments: tuple[Alignment, ...]
    tags: tuple[str, ...]
    related_ids: tuple[int, ...]
    version: str | None
    language: str | None
    created_at: datetime
    modified_at: datetime


@dataclass(frozen=True, slots=True)
class Endorsement:
    """One issuer's endorsement of a badge class, with an optional comment."""

    id: int
    badge_class_id: int
    endorser_id: int
    comment: str | None
    issued_on: datetime


@dataclass(frozen=True, slots=True)
class Award:
    """A badge class awarded to one email address; ``hash`` is its public id.

    ``salt`` is the salt the recipient's email is hashed with in the assertion; it is
    published there, so it is not a secret. ``owner`` is the platform's user it was made to,
    if known: that user may add it to a backpack with another verified email.
    """

    id: int
    hash: str
    badge_class_id: int
    recipient_email: str
    salt: str
    issued_on: datetime
    expires: datetime | None
    evidence: tuple[Evidence, ...]
    revoked: bool
    revocation_reason: str | None
    revoked_at: datetime | None
    owner: str | None = None
