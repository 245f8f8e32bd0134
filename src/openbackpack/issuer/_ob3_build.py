"""Pure builders: registry records in, unsigned Open Badges 3.0 credentials out.

The 2.0 assertion and the 3.0 credential of an award say the same thing: the recipient is
the same salted email hash, the achievement is the badge class (criteria, alignment, tags,
image), evidence and endorsements are carried over. The credential's ``id`` is its hosted URL.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from openbackpack.issuer._urls import IssuerUrls
from openbackpack.models import hash_identity
from openbackpack.models.ob3 import OB3_CONTEXT, VC2_CONTEXT
from openbackpack.store import Award, BadgeClass, Endorsement, Issuer
from openbackpack.store import Evidence as EvidenceRecord

__all__ = ["StatusEntry", "build_ob3_credential", "build_ob3_endorsement", "build_ob3_profile"]

StatusEntry = tuple[str, int]
"""Where an award's revocation bit is: (status list credential URL, index)."""


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, [], "")}


def build_ob3_profile(issuer: Issuer, did: str, urls: IssuerUrls) -> dict[str, Any]:
    """The issuer's OB 3.0 Profile, identified by its DID."""
    image = (
        {"id": urls.issuer_image(issuer.id), "type": "Image"} if issuer.image is not None else None
    )
    return _drop_none(
        {
            "id": did,
            "type": ["Profile"],
            "name": issuer.name,
            "url": issuer.url,
            "email": issuer.email,
            "description": issuer.description,
            "image": image,
        }
    )


def build_ob3_endorsement(
    endorsement: Endorsement, endorser: Issuer, endorser_did: str, subject_id: str, urls: IssuerUrls
) -> dict[str, Any]:
    """An unsigned EndorsementCredential of ``subject_id`` (an achievement) by ``endorser``."""
    return _drop_none(
        {
            "@context": [VC2_CONTEXT, OB3_CONTEXT],
            "id": urls.endorsement(endorsement.id),
            "type": ["VerifiableCredential", "EndorsementCredential"],
            "name": f"Endorsement by {endorser.name}",
            "issuer": build_ob3_profile(endorser, endorser_did, urls),
            "validFrom": _time(endorsement.issued_on),
            "credentialSubject": _drop_none(
                {
                    "id": subject_id,
                    "type": ["EndorsementSubject"],
                    "endorsementComment": endorsement.comment,
                }
            ),
        }
    )


def _achievement(
    badge: BadgeClass, urls: IssuerUrls, endorsements: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    criteria = _drop_none({"id": badge.criteria_url, "narrative": badge.criteria_narrative})
    alignment = [
        _drop_none(
            {
                "type": ["Alignment"],
                "targetName": a.target_name,
                "targetUrl": a.target_url,
                "targetDescription": a.target_description,
                "targetFramework": a.target_framework,
                "targetCode": a.target_code,
            }
        )
        for a in badge.alignments
    ]
    return _drop_none(
        {
            "id": urls.badge(badge.id),
            "type": ["Achievement"],
            "achievementType": "Badge",
            "name": badge.name,
            "description": badge.description,
            "criteria": criteria,
            "image": {"id": urls.badge_image(badge.id), "type": "Image"},
            "alignment": alignment,
            "tag": list(badge.tags),
            "version": badge.version,
            "inLanguage": badge.language,
            "endorsement": list(endorsements),
        }
    )


def _evidence(item: EvidenceRecord) -> dict[str, Any]:
    return _drop_none(
        {
            "id": item.url,
            "type": ["Evidence"],
            "narrative": item.narrative,
            "name": item.name,
            "description": item.description,
            "genre": item.genre,
            "audience": item.audience,
        }
    )


def ob3_credential_id(urls: IssuerUrls, award: Award, recipient_email: str | None = None) -> str:
    """The id of the award's credential, or of its copy made out to ``recipient_email``.

    The award's own credential is its hosted URL. A copy for another address (a user's
    backpack that verified a different email) is another credential, so it needs another id;
    it is derived from the award and the address, so every push of that copy upserts the
    same credential instead of adding one.
    """
    if recipient_email is None or recipient_email.casefold() == award.recipient_email.casefold():
        return urls.credential(award.hash)
    name = f"{urls.credential(award.hash)}#recipient={recipient_email.casefold()}"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def build_ob3_credential(
    award: Award,
    badge: BadgeClass,
    issuer: Issuer,
    issuer_did: str,
    urls: IssuerUrls,
    *,
    endorsements: Sequence[Mapping[str, Any]] = (),
    status: StatusEntry | None = None,
    recipient_email: str | None = None,
) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential of an award.

    ``endorsements`` are signed EndorsementCredentials of the achievement; ``status`` is the
    award's place in its issuer's BitstringStatusList, when it has one. ``recipient_email``
    (the award owner's backpack email, when it is not the award's) makes a copy for that
    address, with an id of its own (:func:`ob3_credential_id`).
    """
    email = award.recipient_email
    if recipient_email is not None and recipient_email.casefold() != email.casefold():
        email = recipient_email
    identity = {
        "type": "IdentityObject",
        "identityHash": hash_identity(email, award.salt),
        "identityType": "emailAddress",
        "hashed": True,
        "salt": award.salt,
    }
    credential_status = None
    if status is not None:
        list_url, index = status
        credential_status = {
            "id": f"{list_url}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": list_url,
        }
    return _drop_none(
        {
            "@context": [VC2_CONTEXT, OB3_CONTEXT],
            "id": ob3_credential_id(urls, award, email),
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": badge.name,
            "issuer": build_ob3_profile(issuer, issuer_did, urls),
            "validFrom": _time(award.issued_on),
            "validUntil": _time(award.expires) if award.expires is not None else None,
            "credentialSubject": {
                "type": ["AchievementSubject"],
                "identifier": [identity],
                "achievement": _achievement(badge, urls, endorsements),
            },
            "evidence": [_evidence(item) for item in award.evidence],
            "credentialStatus": credential_status,
        }
    )
