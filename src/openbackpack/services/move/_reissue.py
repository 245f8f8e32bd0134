"""Re-issuing this site's own 2.0 awards as signed 3.0 credentials on the way into a 3.0 host.

An Open Badges 3.0 host takes only 3.0 credentials. When the mover is the site that issued a
2.0 badge (the store holds the award and its issuer's signing keys), the badge can still go
in: :class:`ReissuingTarget` signs the award afresh with
:meth:`~openbackpack.issuer.CredentialIssuer.reissue` (the original assertion as evidence) and
upserts that. The re-issued credential's id is the award's credential URL, the same at every
signing, so a send repeated after a crash or a lost answer replaces the one copy, and a later
run finds the badge by that id.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from openbackpack.credentials import DocumentLoader
from openbackpack.issuer._urls import IssuerUrls, recipient_digest
from openbackpack.services.move._model import HeldBadge, MoveItem, Reissue
from openbackpack.services.move._ob3 import Ob3Backpack
from openbackpack.store import Award, Store, Transaction

if TYPE_CHECKING:
    from openbackpack.issuer import DidMethod

__all__ = ["ReissuingTarget"]

_HOW = "re-issued by this site as a signed 3.0 credential (the 2.0 assertion as evidence), "


class ReissuingTarget:
    """An Open Badges 3.0 account that also takes this site's own 2.0 awards, re-issued.

    Everything else (3.0 credentials, other issuers' 2.0 badges) is as the account decides.
    """

    def __init__(
        self, target: Ob3Backpack, store: Store, urls: IssuerUrls, did_method: DidMethod = "web"
    ) -> None:
        self.target = target
        self.store = store
        self.urls = urls
        self.did_method: DidMethod = did_method
        self._issuers: dict[int, str] = {}
        # One loader for every signing: the contexts it has read are not read again (about a
        # fifth of a signing's CPU).
        self._loader = DocumentLoader()
        # One thread at a time makes an issuer's first key (did:key names it), so that every
        # badge of a run expects, and is signed by, the same one.
        self._lock = threading.Lock()

    @property
    def label(self) -> str:
        """The account's label."""
        return self.target.label

    @property
    def emails(self) -> tuple[str, ...]:
        """The account's verified emails."""
        return self.target.emails

    @property
    def claim_scope(self) -> tuple[int, str]:
        """The account's claim scope (a re-issued badge is claimed by its 2.0 id, as before)."""
        return self.target.claim_scope

    def holdings(self) -> list[HeldBadge]:
        """What the account holds."""
        return self.target.holdings()

    def _hosted(self, item: MoveItem) -> tuple[str, str | None] | None:
        """The award hash (and the copy's digest) when the badge is this site's hosted one.

        The badge is the award's assertion (``.../assertions/HASH``) or its copy for another
        verified email of the owner (``.../assertions/HASH/recipients/DIGEST``).
        """
        badge_id = item.facts.id
        prefix = self.urls.assertion("")
        if item.facts.format != "ob2" or badge_id is None or not badge_id.startswith(prefix):
            return None
        award_hash, _, rest = badge_id[len(prefix) :].partition("/")
        if not award_hash or self.urls.assertion(award_hash) != prefix + award_hash:
            return None
        if not rest:
            return award_hash, None
        marker, _, digest = rest.partition("/")
        if marker != "recipients" or not digest or "/" in digest:
            return None
        return award_hash, digest

    def recognise(self, item: MoveItem) -> None:
        """Mark the badge for re-issue (``item.reissue``) if it is a live award of this site."""
        hosted = self._hosted(item)
        if hosted is None:
            return
        award_hash, digest = hosted
        from openbackpack.issuer import CredentialIssuer  # the signing stack, when re-issuing
        from openbackpack.issuer._ob3_build import ob3_credential_id

        with self.store.transaction() as tx:
            award = tx.awards.find(award_hash)
            if award is None or award.revoked:
                return
            email = None if digest is None else _copy_email(tx, award, digest)
            if digest is not None and email is None:
                return  # no copy of that award has this digest: not this site's badge
            issuer_id = tx.badge_classes.get(award.badge_class_id).issuer_id
            credential_id = ob3_credential_id(self.urls, award, email)
        with self._lock:
            did = self._issuers.get(issuer_id)
            if did is None:
                with self.store.transaction() as tx:
                    did = CredentialIssuer(tx, self.urls, did_method=self.did_method).issuer_did(
                        issuer_id
                    )
                self._issuers[issuer_id] = did
        item.reissue = Reissue(award_hash, credential_id, did, email)

    def refusal(self, item: MoveItem) -> str | None:
        """A badge to re-issue goes in when it is the learner's; else as the account says."""
        if item.reissue is not None:
            if item.recipient is None:
                return "its recipient is none of the account's verified emails"
            return None
        if item.facts.format == "ob2":
            return (
                "an Open Badges 2.0 badge cannot go into an Open Badges 3.0 host, which takes "
                "only 3.0 credentials, and it is not one of this site's own live awards (its "
                f"id is no hosted assertion under {self.urls.base_url}), the only ones this "
                "site can re-issue"
            )
        return self.target.refusal(item)

    def method(self, item: MoveItem) -> str:
        """Re-issued then upserted, or as the account takes it."""
        method = self.target.method(item)
        return _HOW + "then " + method if item.reissue is not None else method

    def put(self, item: MoveItem) -> str:
        """Sign the award afresh and upsert it; anything else as the account takes it."""
        if item.reissue is None:
            return self.target.put(item)
        from openbackpack.issuer import CredentialIssuer  # the signing stack, when re-issuing

        with self.store.transaction() as tx:
            issuer = CredentialIssuer(
                tx, self.urls, did_method=self.did_method, loader=self._loader
            )
            credential = issuer.reissue(
                item.reissue.award, fmt="json", recipient_email=item.reissue.recipient_email
            )
        return self.target.upsert(credential, item.reissue.credential_id)

    def find(self, item: MoveItem) -> Iterable[str]:
        """What the account holds under the re-issued credential's id, or the badge's own."""
        if item.reissue is None:
            return self.target.find(item)
        wanted = item.reissue.credential_id
        return [held.remote_id for held in self.holdings() if held.id == wanted]


def _copy_email(tx: Transaction, award: Award, digest: str) -> str | None:
    """The owner's verified email whose hosted copy of ``award`` has that digest, if any.

    The same search the issuer app makes to serve the copy: the owner's backpack accounts.
    """
    if award.owner is None:
        return None
    for account in tx.accounts.list(owner=award.owner):
        if recipient_digest(award.hash, account.email) == digest:
            return account.email
    return None
