"""Open Badges 3.0 documents as pydantic models; re-exported by :mod:`openbackpack.models.ob3`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

__all__ = [
    "OB3_CONTEXT",
    "VC1_CONTEXT",
    "VC2_CONTEXT",
    "Achievement",
    "AchievementCredential",
    "AchievementSubject",
    "Alignment",
    "CredentialSchema",
    "CredentialStatus",
    "Criteria",
    "DataIntegrityProof",
    "EndorsementCredential",
    "EndorsementSubject",
    "Evidence",
    "IdentityObject",
    "Image",
    "Ob3Model",
    "OpenBadgeCredential",
    "Profile",
    "Result",
]

VC2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
"""The JSON-LD context of the W3C Verifiable Credentials Data Model 2.0."""

VC1_CONTEXT: Final = "https://www.w3.org/2018/credentials/v1"
"""The JSON-LD context of the W3C Verifiable Credentials Data Model 1.1 (read, never written)."""

OB3_CONTEXT: Final = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
"""The JSON-LD context of Open Badges 3.0 (version 3.0.3)."""


class Ob3Model(BaseModel):
    """Base of every Open Badges 3.0 model: camelCase on the wire, unknown properties kept.

    ``type`` is always a list here, even when the document gives one string, so that code can
    test membership without caring which form the issuer chose.
    """

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


def _types(value: object) -> object:
    return [value] if isinstance(value, str) else value


class _Typed(Ob3Model):
    type: list[str] = Field(default_factory=list)

    _as_list = field_validator("type", mode="before")(_types)


class Image(_Typed):
    """An image: its URL (or data URL) and an optional caption."""

    id: str
    caption: str | None = None


class IdentityObject(_Typed):
    """A recipient identity: ``identityHash`` is ``sha256$<hex>`` when ``hashed`` (with salt)."""

    identity_hash: str
    identity_type: str = "emailAddress"
    hashed: bool = True
    salt: str | None = None


class Criteria(Ob3Model):
    """How the achievement is earned: a URL, a Markdown narrative, or both."""

    id: str | None = None
    narrative: str | None = None


class Alignment(_Typed):
    """A link from the achievement to a competency or standard in a framework."""

    target_name: str
    target_url: str
    target_description: str | None = None
    target_framework: str | None = None
    target_code: str | None = None
    target_type: str | None = None


class Evidence(_Typed):
    """Evidence of the achievement: a URL, a narrative, a name and description."""

    id: str | None = None
    narrative: str | None = None
    name: str | None = None
    description: str | None = None
    genre: str | None = None
    audience: str | None = None


class Result(_Typed):
    """The learner's result against one of the achievement's result descriptions."""

    value: str | None = None
    result_description: str | None = None
    status: str | None = None


class Profile(_Typed):
    """An issuer, endorser or creator: a person or organisation, identified by a URI (a DID)."""

    id: str
    name: str | None = None
    url: str | None = None
    email: str | None = None
    description: str | None = None
    image: Image | str | None = None


class Achievement(_Typed):
    """What was achieved: the OB 3.0 counterpart of a 2.0 BadgeClass."""

    id: str
    name: str
    description: str
    criteria: Criteria
    achievement_type: str | None = None
    image: Image | None = None
    creator: Profile | None = None
    alignment: list[Alignment] | None = None
    tag: list[str] | None = None
    endorsement: list[EndorsementCredential] | None = None
    endorsement_jwt: list[str] | None = None


class AchievementSubject(_Typed):
    """The learner and the achievement: identified by ``id`` (a DID) or by ``identifier``."""

    id: str | None = None
    achievement: Achievement
    identifier: list[IdentityObject] | None = None
    result: list[Result] | None = None


class CredentialStatus(Ob3Model):
    """Where a verifier learns whether the credential was revoked (a status list entry)."""

    id: str | None = None
    type: str
    status_purpose: str | None = None
    status_list_index: str | None = None
    status_list_credential: str | None = None


class CredentialSchema(Ob3Model):
    """A JSON Schema the credential claims to satisfy."""

    id: str
    type: str


class DataIntegrityProof(Ob3Model):
    """A W3C Data Integrity proof (``eddsa-rdfc-2022`` is the suite this package signs with)."""

    type: str = "DataIntegrityProof"
    cryptosuite: str | None = None
    created: datetime | None = None
    verification_method: str | None = None
    proof_purpose: str = "assertionMethod"
    proof_value: str | None = None


def _context_field() -> Any:
    # validation_alias/serialization_alias: "@context" cannot be an __init__ keyword.
    return Field(
        default_factory=lambda: [VC2_CONTEXT, OB3_CONTEXT],
        validation_alias=AliasChoices("@context", "context"),
        serialization_alias="@context",
    )


class _Credential(_Typed):
    context: list[str | dict[str, Any]] = _context_field()
    id: str | None = None
    name: str | None = None
    description: str | None = None
    issuer: Profile | str
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    # VC Data Model 1.1 names, read from older credentials and never written by this package.
    issuance_date: datetime | None = None
    expiration_date: datetime | None = None
    credential_status: CredentialStatus | None = None
    credential_schema: list[CredentialSchema] | None = None
    proof: list[DataIntegrityProof] | None = None

    _context_list = field_validator("context", mode="before")(_types)

    @field_validator("proof", "credential_schema", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, dict) else value

    @property
    def issuer_id(self) -> str:
        """The issuer's URI, whether the issuer is given as a URI or as a profile."""
        return self.issuer if isinstance(self.issuer, str) else self.issuer.id

    @property
    def starts(self) -> datetime | None:
        """When the credential becomes valid: ``validFrom``, or 1.1's ``issuanceDate``."""
        return self.valid_from or self.issuance_date

    @property
    def ends(self) -> datetime | None:
        """When the credential expires: ``validUntil``, or 1.1's ``expirationDate``."""
        return self.valid_until or self.expiration_date


class OpenBadgeCredential(_Credential):
    """An Open Badges 3.0 credential (``OpenBadgeCredential``, or ``AchievementCredential``).

    Both type names are the same class in the specification; :data:`AchievementCredential` is
    this class under its other name.
    """

    type: list[str] = Field(default_factory=lambda: ["VerifiableCredential", "OpenBadgeCredential"])
    credential_subject: AchievementSubject
    evidence: list[Evidence] | None = None
    endorsement: list[EndorsementCredential] | None = None
    endorsement_jwt: list[str] | None = None


AchievementCredential = OpenBadgeCredential
"""The other name the specification gives :class:`OpenBadgeCredential`."""


class EndorsementSubject(_Typed):
    """What an endorsement is about (an issuer, achievement or credential) and its comment."""

    id: str
    endorsement_comment: str | None = None


class EndorsementCredential(_Credential):
    """A third party's signed statement about an issuer, an achievement or a credential."""

    type: list[str] = Field(
        default_factory=lambda: ["VerifiableCredential", "EndorsementCredential"]
    )
    credential_subject: EndorsementSubject


Achievement.model_rebuild()
OpenBadgeCredential.model_rebuild()
