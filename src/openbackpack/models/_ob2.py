"""Open Badges 2.0 documents as pydantic models; re-exported by :mod:`openbackpack.models.ob2`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "OB2_CONTEXT",
    "AlignmentObject",
    "Assertion",
    "BadgeClass",
    "Criteria",
    "Endorsement",
    "EndorsementClaim",
    "Evidence",
    "IdentityObject",
    "Image",
    "Ob2Model",
    "Profile",
    "Related",
    "RevocationList",
    "RevokedAssertion",
    "RevokedEntry",
    "VerificationObject",
]

OB2_CONTEXT: Final = "https://w3id.org/openbadges/v2"
"""The JSON-LD context URL of Open Badges 2.0."""

JsonLdContext = str | dict[str, Any] | list[str | dict[str, Any]]


def _context_field() -> Any:
    # validation_alias/serialization_alias rather than alias: a plain alias would become the
    # keyword type checkers expect in __init__, and "@context" cannot be a keyword.
    return Field(
        default=None,
        validation_alias=AliasChoices("@context", "context"),
        serialization_alias="@context",
    )


def _language_field() -> Any:
    return Field(
        default=None,
        validation_alias=AliasChoices("@language", "language"),
        serialization_alias="@language",
    )


class Ob2Model(BaseModel):
    """Base of every Open Badges 2.0 model: camelCase on the wire, unknown properties kept."""

    model_config = ConfigDict(
        extra="allow",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )

    def to_json(self) -> dict[str, Any]:
        """Return the document as JSON-ready data, without the properties that are None."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class IdentityObject(Ob2Model):
    """The recipient of an assertion: an email (or URL, telephone) in plain text or hashed.

    ``identity`` is ``"sha256$<hex>"`` (or ``md5$``) over the identity followed by ``salt``
    when ``hashed`` is true.
    """

    type: str = "email"
    identity: str
    hashed: bool
    salt: str | None = None


class VerificationObject(Ob2Model):
    """How to verify a document: ``hosted`` (fetch ``id``) or ``signed``.

    ``url`` is not an OB 2.0 term of the VerificationObject, but it is a term of the
    context (``schema:url``) and OB 1.x readers still look for it, so hosted assertions
    carry their own URL there as well.
    """

    type: str = "hosted"
    url: str | None = None
    creator: str | None = None
    verification_property: str | None = None
    starts_with: str | list[str] | None = None
    allowed_origins: str | list[str] | None = None


class Criteria(Ob2Model):
    """What a recipient did to earn a badge: a page URL, a Markdown narrative, or both."""

    id: str | None = None
    narrative: str | None = None


class AlignmentObject(Ob2Model):
    """An educational standard or framework a badge aligns to."""

    target_name: str
    target_url: str
    target_description: str | None = None
    target_framework: str | None = None
    target_code: str | None = None


class Evidence(Ob2Model):
    """Work that supports an award: a URL, a narrative, and descriptive details."""

    type: str | None = None
    id: str | None = None
    narrative: str | None = None
    name: str | None = None
    description: str | None = None
    genre: str | None = None
    audience: str | None = None


class Image(Ob2Model):
    """An image with metadata; ``id`` is its URL or a data URI."""

    id: str
    type: str | None = None
    caption: str | None = None
    author: str | None = None


class Profile(Ob2Model):
    """An issuer (or endorser) profile. As an issuer it needs ``name``, ``url`` and ``email``."""

    context: JsonLdContext | None = _context_field()
    type: str | list[str] = "Issuer"
    id: str
    name: str | None = None
    url: str | None = None
    email: str | None = None
    description: str | None = None
    image: str | Image | None = None
    telephone: str | None = None
    revocation_list: str | None = None
    public_key: str | None = None
    verification: VerificationObject | None = None


class Related(Ob2Model):
    """Another badge class that is the same achievement (another version or language)."""

    id: str
    type: str | list[str] | None = None
    version: str | None = None
    language: str | None = _language_field()


class EndorsementClaim(Ob2Model):
    """What an endorsement says about its subject (``id``): a comment in Markdown."""

    id: str
    endorsement_comment: str | None = None


class Endorsement(Ob2Model):
    """A third party's claim about a badge class, issuer or assertion."""

    context: JsonLdContext | None = _context_field()
    type: str | list[str] = "Endorsement"
    id: str
    claim: str | EndorsementClaim
    issuer: str | Profile
    issued_on: datetime
    verification: VerificationObject = Field(
        validation_alias=AliasChoices("verification", "verify"),
        serialization_alias="verification",
    )
    revoked: bool | None = None
    revocation_reason: str | None = None


class BadgeClass(Ob2Model):
    """An achievement that an issuer awards."""

    context: JsonLdContext | None = _context_field()
    type: str | list[str] = "BadgeClass"
    id: str
    name: str
    description: str
    image: str | Image
    criteria: str | Criteria
    issuer: str | Profile
    alignment: list[AlignmentObject] | None = None
    tags: list[str] | None = None
    related: list[str | Related] | None = None
    version: str | None = None
    language: str | None = _language_field()
    endorsement: list[str | Endorsement] | None = None


class Assertion(Ob2Model):
    """One award of a badge class to one recipient."""

    context: JsonLdContext | None = _context_field()
    type: str | list[str] = "Assertion"
    id: str
    recipient: IdentityObject
    badge: str | BadgeClass
    verification: VerificationObject = Field(
        validation_alias=AliasChoices("verification", "verify"),
        serialization_alias="verification",
    )
    issued_on: datetime
    image: str | Image | None = None
    evidence: list[str | Evidence] | None = None
    narrative: str | None = None
    expires: datetime | None = None
    revoked: bool | None = None
    revocation_reason: str | None = None


class RevokedAssertion(Ob2Model):
    """What is left of a revoked assertion: its id, ``revoked: true`` and the reason."""

    context: JsonLdContext | None = _context_field()
    type: str | list[str] = "Assertion"
    id: str
    revoked: bool = True
    revocation_reason: str | None = None


class RevokedEntry(Ob2Model):
    """One entry of a revocation list: the assertion's id (or legacy uid) and a reason."""

    id: str | None = None
    uid: str | None = None
    revocation_reason: str | None = None


class RevocationList(Ob2Model):
    """The assertions an issuer has revoked."""

    context: JsonLdContext | None = _context_field()
    type: str | list[str] = "RevocationList"
    id: str | None = None
    issuer: str | Profile | None = None
    revoked_assertions: list[str | RevokedEntry] = Field(default_factory=list)
