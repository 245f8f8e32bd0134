"""Hosted documents read from the registry: the bridge between the store and the builders."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from openbackpack._exceptions import RecordNotFoundError
from openbackpack.issuer._build import (
    build_assertion,
    build_badge_class,
    build_endorsement,
    build_issuer,
    build_revocation_list,
    build_revoked_assertion,
)
from openbackpack.issuer._urls import IssuerUrls, recipient_digest
from openbackpack.models import ob2
from openbackpack.store import Award, BadgeClass, Endorsement, Issuer, Transaction

__all__ = ["IssuerDocuments"]

_UNKNOWN_ASSERTION: Final = "no assertion with this id was issued here"


class IssuerDocuments:
    """Open Badges 2.0 documents of one registry, with ids under one base URL.

    Every method reads inside the caller's transaction and raises
    :class:`~openbackpack.RecordNotFoundError` for an unknown id::

        with store.transaction() as tx:
            documents = IssuerDocuments(tx, IssuerUrls("https://badges.example.org"))
            data = documents.assertion(award_hash).to_json()
    """

    def __init__(self, tx: Transaction, urls: IssuerUrls) -> None:
        self._tx = tx
        self.urls = urls

    def issuer(self, issuer_id: int) -> ob2.Profile:
        """The issuer's Profile."""
        return build_issuer(self._tx.issuers.get(issuer_id), self.urls)

    def badge_class(self, badge_id: int, *, embedded: bool = False) -> ob2.BadgeClass:
        """The BadgeClass, with its issuer, related badges and endorsements."""
        badge = self._tx.badge_classes.get(badge_id)
        return self.badge_class_of(
            badge,
            self._tx.issuers.get(badge.issuer_id),
            self._tx.badge_classes.endorsements(badge_id),
            embedded=embedded,
        )

    def badge_class_of(
        self,
        badge: BadgeClass,
        issuer: Issuer,
        endorsements: Sequence[Endorsement],
        *,
        embedded: bool = False,
    ) -> ob2.BadgeClass:
        """The BadgeClass of records the caller has read already (its issuer, endorsements)."""
        return build_badge_class(
            badge,
            issuer,
            self.urls,
            related=[self._tx.badge_classes.get(other) for other in badge.related_ids],
            endorsements=[(e, self._tx.issuers.get(e.endorser_id)) for e in endorsements],
            embedded=embedded,
        )

    def assertion(
        self, award_hash: str, *, hashed: bool = True, recipient_email: str | None = None
    ) -> ob2.Assertion:
        """The award's Assertion with its BadgeClass embedded (revoked ones say so).

        ``recipient_email`` gives the copy for the owner's verified backpack email.
        """
        return self._assertion_of(
            self._tx.awards.get(award_hash), hashed=hashed, recipient_email=recipient_email
        )

    def _assertion_of(
        self, award: Award, *, hashed: bool = True, recipient_email: str | None = None
    ) -> ob2.Assertion:
        """:meth:`assertion` of an award already read."""
        badge = self.badge_class(award.badge_class_id, embedded=True)
        return build_assertion(
            award, badge, self.urls, hashed=hashed, recipient_email=recipient_email
        )

    def hosted_copy(self, award_hash: str, digest: str) -> ob2.Assertion | ob2.RevokedAssertion:
        """What an award's copy URL answers: the Assertion for one of its owner's emails.

        The copy exists only for a verified email of one of the owner's backpack accounts
        (an account is stored once the user proved the address); anything else is unknown.
        A revoked award's copies answer as revoked.
        """
        award = self._tx.awards.find(award_hash)
        if award is None or award.owner is None:
            raise RecordNotFoundError("assertion copy", f"{award_hash}/{digest}")
        for account in self._tx.accounts.list(owner=award.owner):
            if recipient_digest(award_hash, account.email) == digest:
                if award.revoked:
                    return build_revoked_assertion(
                        self.urls.assertion_for(award_hash, account.email),
                        award.revocation_reason or _UNKNOWN_ASSERTION,
                    )
                return self._assertion_of(award, recipient_email=account.email)
        raise RecordNotFoundError("assertion copy", f"{award_hash}/{digest}")

    def hosted_assertion(self, award_hash: str) -> ob2.Assertion | ob2.RevokedAssertion:
        """What the assertion URL answers: the Assertion, or what is left of it when revoked.

        An unknown hash is answered like a revoked one, as Moodle does, so a verifier that
        holds a deleted badge learns it is no longer valid.
        """
        award = self._tx.awards.find(award_hash)
        if award is not None and not award.revoked:
            return self._assertion_of(award)
        reason = award.revocation_reason if award is not None else None
        return build_revoked_assertion(
            self.urls.assertion(award_hash), reason or _UNKNOWN_ASSERTION
        )

    def endorsement(self, endorsement_id: int) -> ob2.Endorsement:
        """The Endorsement, with its endorser's profile embedded."""
        endorsement = self._tx.badge_classes.endorsement(endorsement_id)
        return build_endorsement(
            endorsement, self._tx.issuers.get(endorsement.endorser_id), self.urls
        )

    def revocation_list(self, issuer_id: int) -> ob2.RevocationList:
        """The issuer's RevocationList."""
        issuer = self._tx.issuers.get(issuer_id)
        return build_revocation_list(
            issuer, self._tx.awards.list(issuer_id=issuer_id, revoked=True), self.urls
        )

    def image(self, kind: str, record_id: int) -> tuple[bytes, str]:
        """The image bytes and content type of a badge class (``"badge"``) or an issuer."""
        record = (
            self._tx.badge_classes.get(record_id)
            if kind == "badge"
            else self._tx.issuers.get(record_id)
        )
        if record.image is None or record.image_type is None:
            raise RecordNotFoundError("issuer image", record_id)
        return record.image, record.image_type
