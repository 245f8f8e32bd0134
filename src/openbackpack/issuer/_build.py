"""Pure builders: registry records in, Open Badges 2.0 documents out.

What differs from Moodle's ``core_badges_assertion`` (each a spec fix, W9/W10): ``alignment``
(not ``alignments``); endorsements as a list of hosted Endorsement URLs; evidence as Evidence
objects; criteria always an object; the hosted verification keeps its URL; revoked documents
carry ``revocationReason``; times always carry a zone.
"""

from __future__ import annotations

from collections.abc import Sequence

from openbackpack.issuer._urls import IssuerUrls
from openbackpack.models import hash_identity, ob2
from openbackpack.store import Award, BadgeClass, Endorsement, Issuer
from openbackpack.store import Evidence as EvidenceRecord

__all__ = [
    "build_assertion",
    "build_badge_class",
    "build_endorsement",
    "build_issuer",
    "build_revocation_list",
    "build_revoked_assertion",
]


def _context(embedded: bool) -> str | None:
    # An embedded document shares its parent's context; repeating it is legal but noisy.
    return None if embedded else ob2.OB2_CONTEXT


def build_issuer(issuer: Issuer, urls: IssuerUrls, *, embedded: bool = False) -> ob2.Profile:
    """Return an issuer's Profile, pointing at its image and revocation list."""
    return ob2.Profile(
        context=_context(embedded),
        type="Issuer",
        id=urls.issuer(issuer.id),
        name=issuer.name,
        url=issuer.url,
        email=issuer.email,
        description=issuer.description,
        image=urls.issuer_image(issuer.id) if issuer.image is not None else None,
        revocation_list=urls.revocations(issuer.id),
    )


def build_endorsement(
    endorsement: Endorsement, endorser: Issuer, urls: IssuerUrls, *, embedded: bool = False
) -> ob2.Endorsement:
    """Return an Endorsement of a badge class, naming the endorser's hosted profile by URL.

    The official Open Badges 2.0 validator (which Badgr runs on every import) fails with
    ``IndexError`` on an embedded endorser profile, and on an Endorsement embedded in the
    badge class; the specification allows both forms, so the one both accept is used.
    """
    url = urls.endorsement(endorsement.id)
    return ob2.Endorsement(
        context=_context(embedded),
        id=url,
        claim=ob2.EndorsementClaim(
            id=urls.badge(endorsement.badge_class_id),
            endorsement_comment=endorsement.comment,
        ),
        issuer=urls.issuer(endorser.id),
        issued_on=endorsement.issued_on,
        verification=ob2.VerificationObject(type="hosted", url=url),
    )


def build_badge_class(
    badge: BadgeClass,
    issuer: Issuer,
    urls: IssuerUrls,
    *,
    related: Sequence[BadgeClass] = (),
    endorsements: Sequence[tuple[Endorsement, Issuer]] = (),
    embedded: bool = False,
) -> ob2.BadgeClass:
    """Return a BadgeClass with its issuer embedded.

    ``related`` are the badge classes of ``badge.related_ids`` and ``endorsements`` pairs each
    endorsement with its endorser; both are passed in so that this function stays pure. The
    endorsements are listed by URL (see :func:`build_endorsement`).
    """
    return ob2.BadgeClass(
        context=_context(embedded),
        id=urls.badge(badge.id),
        name=badge.name,
        description=badge.description,
        image=urls.badge_image(badge.id),
        criteria=ob2.Criteria(id=badge.criteria_url, narrative=badge.criteria_narrative),
        issuer=build_issuer(issuer, urls, embedded=True),
        alignment=[
            ob2.AlignmentObject(
                target_name=a.target_name,
                target_url=a.target_url,
                target_description=a.target_description,
                target_framework=a.target_framework,
                target_code=a.target_code,
            )
            for a in badge.alignments
        ]
        or None,
        tags=list(badge.tags) or None,
        related=[
            ob2.Related(id=urls.badge(other.id), version=other.version, language=other.language)
            for other in related
        ]
        or None,
        version=badge.version,
        language=badge.language,
        endorsement=[urls.endorsement(endorsement.id) for endorsement, _ in endorsements] or None,
    )


def build_assertion(
    award: Award,
    badge: ob2.BadgeClass | str,
    urls: IssuerUrls,
    *,
    hashed: bool = True,
    embedded: bool = False,
    recipient_email: str | None = None,
) -> ob2.Assertion:
    """Return an award's Assertion, embedding ``badge`` (a BadgeClass) or pointing at it (a URL).

    The recipient is ``sha256$`` + hex(sha256(email + salt)) with the award's salt published
    beside it; ``hashed=False`` gives the plain email instead (what Badgr's API wants), and
    then ``hashed`` says false, unlike Moodle (W9). ``recipient_email`` (the award owner's
    verified backpack email, when it differs from the award's) makes the copy for that
    address, with its own stable id (:meth:`IssuerUrls.assertion_for`).
    """
    email = recipient_email if recipient_email is not None else award.recipient_email
    same = email.casefold() == award.recipient_email.casefold()
    url = urls.assertion(award.hash) if same else urls.assertion_for(award.hash, email)
    if isinstance(badge, ob2.BadgeClass):
        badge = badge.model_copy(update={"context": None})
    return ob2.Assertion(
        context=_context(embedded),
        id=url,
        recipient=_recipient(award, email, hashed=hashed),
        badge=badge,
        verification=ob2.VerificationObject(type="hosted", url=url),
        issued_on=award.issued_on,
        evidence=[_evidence(item) for item in award.evidence] or None,
        expires=award.expires,
        revoked=True if award.revoked else None,
        revocation_reason=award.revocation_reason,
    )


def build_revoked_assertion(assertion_url: str, reason: str) -> ob2.RevokedAssertion:
    """Return what a revoked (or unknown) assertion URL answers: id, revoked, reason."""
    return ob2.RevokedAssertion(
        context=ob2.OB2_CONTEXT, id=assertion_url, revoked=True, revocation_reason=reason
    )


def build_revocation_list(
    issuer: Issuer, revoked: Sequence[Award], urls: IssuerUrls
) -> ob2.RevocationList:
    """Return an issuer's RevocationList; awards that are not revoked are left out."""
    return ob2.RevocationList(
        context=ob2.OB2_CONTEXT,
        id=urls.revocations(issuer.id),
        issuer=urls.issuer(issuer.id),
        revoked_assertions=[
            ob2.RevokedEntry(
                id=urls.assertion(award.hash), revocation_reason=award.revocation_reason
            )
            for award in revoked
            if award.revoked
        ],
    )


def _recipient(award: Award, email: str, *, hashed: bool) -> ob2.IdentityObject:
    if not hashed:
        return ob2.IdentityObject(type="email", identity=email, hashed=False)
    return ob2.IdentityObject(
        type="email",
        identity=hash_identity(email, award.salt),
        hashed=True,
        salt=award.salt or None,
    )


def _evidence(item: EvidenceRecord) -> ob2.Evidence:
    return ob2.Evidence(
        type="Evidence",
        id=item.url,
        narrative=item.narrative,
        name=item.name,
        description=item.description,
        genre=item.genre,
        audience=item.audience,
    )
