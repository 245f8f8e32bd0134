"""What backpacks answer, as typed results: tokens, issuers, badge classes, assertions, collections.

These are the shapes :class:`openbackpack.BackpackApi` returns. They follow Moodle's exporters
(``entityType`` becomes ``type``, ``entityId`` becomes ``id``, ``openBadgeId`` becomes
``hosted_url``) but keep what Moodle drops: the recipient, alignments, tags, criteria.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from openbackpack.models._base import WireModel

__all__ = [
    "Alignment",
    "Collection",
    "DisplayerBadge",
    "DisplayerGroup",
    "DisplayerUser",
    "Recipient",
    "RemoteAssertion",
    "RemoteBadgeClass",
    "RemoteIssuer",
    "TokenGrant",
]


class TokenGrant(WireModel):
    """A token endpoint's answer (RFC 6749 §5.1)."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: int | None = None
    refresh_token: str | None = None
    scope: str = ""

    def __repr__(self) -> str:
        # Tokens are credentials: never let a log line or a traceback show them.
        return f"TokenGrant(token_type={self.token_type!r}, expires_in={self.expires_in!r})"

    __str__ = __repr__


class RemoteIssuer(WireModel):
    """An issuer as a backpack reports it."""

    type: str = "Issuer"
    id: str
    name: str | None = None
    email: str | None = None
    url: str | None = None
    description: str | None = None
    image: str | None = None
    hosted_url: str | None = Field(default=None, alias="hostedUrl")


class Alignment(WireModel):
    """An alignment of a badge class to a competency or standard (OB ``AlignmentObject``)."""

    target_name: str = Field(alias="targetName")
    target_url: str = Field(alias="targetUrl")
    target_description: str | None = Field(default=None, alias="targetDescription")
    target_framework: str | None = Field(default=None, alias="targetFramework")
    target_code: str | None = Field(default=None, alias="targetCode")


class RemoteBadgeClass(WireModel):
    """A badge class as a backpack reports it; ``issuer`` is an id or, expanded, an object."""

    type: str = "BadgeClass"
    id: str
    issuer: RemoteIssuer | str | None = None
    name: str | None = None
    description: str | None = None
    image: str | None = None
    hosted_url: str | None = Field(default=None, alias="hostedUrl")
    criteria_url: str | None = Field(default=None, alias="criteriaUrl")
    criteria_narrative: str | None = Field(default=None, alias="criteriaNarrative")
    alignment: list[Alignment] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class Recipient(WireModel):
    """An assertion's recipient (OB ``IdentityObject``), kept so the recipient can be checked."""

    identity: str
    type: str = "email"
    hashed: bool = False
    salt: str | None = None
    plaintext_identity: str | None = Field(default=None, alias="plaintextIdentity")


class RemoteAssertion(WireModel):
    """An assertion (award) as a backpack reports it.

    ``badgeclass`` is the badge class's id or, when the backpack expanded it, the object
    (with its issuer expanded too when asked).
    """

    type: str = "Assertion"
    id: str
    badgeclass: RemoteBadgeClass | str | None = None
    issued_on: datetime | None = Field(default=None, alias="issuedOn")
    expires: datetime | None = None
    recipient: Recipient | None = None
    hosted_url: str | None = Field(default=None, alias="hostedUrl")
    image: str | None = None
    narrative: str | None = None
    revoked: bool = False
    revocation_reason: str | None = Field(default=None, alias="revocationReason")
    acceptance: str | None = None
    context: Any = Field(default="https://w3id.org/openbadges/v2", alias="@context")


class Collection(WireModel):
    """A collection of assertions in a Badgr backpack (``BackpackCollection``)."""

    entity_type: str = Field(default="BackpackCollection", alias="entityType")
    entity_id: str = Field(alias="entityId")
    name: str = ""
    description: str = ""
    share_url: str | None = None
    published: bool = False
    assertions: list[str] = Field(default_factory=list)

    @property
    def id(self) -> str:
        """The collection's id on the backpack (Badgr's ``entityId``)."""
        return self.entity_id


class DisplayerUser(WireModel):
    """The answer of a Displayer email lookup (``/displayer/convert/email``)."""

    status: str
    email: str
    user_id: int = Field(alias="userId")


class DisplayerGroup(WireModel):
    """A public group (collection) of a Displayer backpack; ``badges`` is a count."""

    group_id: int = Field(alias="groupId")
    name: str = ""
    badges: int = 0

    @property
    def id(self) -> int:
        """The group's id on the backpack."""
        return self.group_id


class DisplayerBadge(WireModel):
    """A badge in a Displayer group: the issuer's assertion JSON as the backpack stored it."""

    last_validated: Any = Field(default=None, alias="lastValidated")
    hosted_url: str | None = Field(default=None, alias="hostedUrl")
    image_url: str | None = Field(default=None, alias="imageUrl")
    assertion: dict[str, Any] = Field(default_factory=dict)
