"""The site push of one award: issuer, badge class and assertion on the primary backpack.

Each create is claimed first and reconciled with the host when the claim says it may have
happened (see :mod:`._claiming`); an assertion already pushed is skipped when what would be
sent is unchanged (a content hash), and updated with PUT otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from openbackpack.api import BackpackApi
from openbackpack.client import BackpackClient
from openbackpack.issuer import IssuerDocuments, IssuerUrls
from openbackpack.models import ApiVersion, ob2
from openbackpack.protocols import badgr
from openbackpack.services._claim_batch import ClaimBatch
from openbackpack.services._claiming import claimed_create, in_transaction, new_worker
from openbackpack.store import Award, IdentifierKind, Provider, Store, Transaction

__all__ = ["Session", "SiteDocuments", "SiteOutcome", "content_hash", "site_push"]

SiteOutcome = Literal["created", "adopted", "updated", "skipped"]
"""What the site push did to the award's assertion: ``created`` it, ``adopted`` one the host
had already (an answer lost, a crash), ``updated`` it (PUT, it changed or ``refresh``), or
``skipped`` it (pushed before, unchanged: no request)."""


@dataclass(frozen=True, slots=True)
class SiteDocuments:
    """The award and the assertion JSON the site push sends for it."""

    award: Award
    issuer_id: int
    assertion: dict[str, Any]
    hosted_url: str
    email: str

    @property
    def issuer_key(self) -> str:
        """The issuer's key in the remote-id mappings."""
        return f"issuer:{self.issuer_id}"

    @property
    def badge_key(self) -> str:
        """The badge class's key in the remote-id mappings."""
        return f"badgeclass:{self.award.badge_class_id}"


_Badge = tuple[int, ob2.BadgeClass, dict[str, Any]]


class Session:
    """What the pushes of one call share, so that each award costs only its own work.

    The primary site backpack and one site API over it (one token for every push), the
    remote ids of issuers and badge classes once known, each badge class's embedded
    document built once, this call's claim holder name and its shared claim and record
    transactions (:class:`ClaimBatch`), and the awards, mappings and content hashes read in
    bulk.
    """

    def __init__(
        self,
        store: Store,
        issuer_base_url: str,
        client: BackpackClient | None,
        *,
        refresh: bool = False,
        workers: int = 1,
    ) -> None:
        self.store = store
        self.urls = IssuerUrls(issuer_base_url)
        self.client = client
        self.refresh = refresh
        self.holder = new_worker()
        self.primary = _primary_for_push(store)
        self.site = (
            BackpackApi(self.primary, store=store, client=client)
            if self.primary is not None
            else None
        )
        self.writes = ClaimBatch(store, self.holder, workers=workers)
        self._badges: dict[int, _Badge] = {}
        self._remote: dict[tuple[IdentifierKind, str], str] = {}
        self._locks: dict[tuple[IdentifierKind, str], threading.Lock] = {}
        self._lock = threading.Lock()
        self.awards: dict[str, Award] = {}
        self.pushed: dict[str, str] = {}
        self.mapped: dict[str, str] = {}

    def preload_pushed(self, award_hashes: list[str]) -> None:
        """Read what was pushed before (remote ids, content hashes), in one transaction."""
        primary = self.primary
        if primary is None:
            return

        def read(tx: Transaction) -> None:
            self.pushed.update(
                tx.push_claims.content_hashes(primary.id, IdentifierKind.ASSERTION, award_hashes)
            )
            self.mapped.update(
                tx.identifiers.get_many(primary.id, IdentifierKind.ASSERTION, award_hashes)
            )

        in_transaction(self.store, read)

    def preload(self, award_hashes: list[str]) -> None:
        """Read the awards and their badge classes, in one transaction.

        Each badge class's embedded document is built here, once for the whole call.
        """

        def read(tx: Transaction) -> dict[str, Award]:
            awards = tx.awards.find_many(award_hashes)
            for award in awards.values():
                self._badge(tx, award.badge_class_id)
            return awards

        self.awards.update(in_transaction(self.store, read))

    def award(self, award_hash: str) -> Award:
        """The award, as preloaded (or read now, for a single push)."""
        known = self.awards.get(award_hash)
        if known is not None:
            return known
        return in_transaction(self.store, lambda tx: tx.awards.get(award_hash))

    def badge(self, badge_class_id: int) -> tuple[int, ob2.BadgeClass, dict[str, Any]]:
        """The badge class's issuer id, embedded document and its JSON, built once per call."""
        with self._lock:
            known = self._badges.get(badge_class_id)
        if known is None:
            known = in_transaction(self.store, lambda tx: self._badge(tx, badge_class_id))
        return known

    def _badge(self, tx: Transaction, badge_class_id: int) -> _Badge:
        with self._lock:
            known = self._badges.get(badge_class_id)
        if known is None:
            issuer_id = tx.badge_classes.get(badge_class_id).issuer_id
            document = IssuerDocuments(tx, self.urls).badge_class(badge_class_id, embedded=True)
            # As an assertion embeds it (build_assertion drops the embedded @context).
            embedded = document.model_copy(update={"context": None}).to_json()
            known = (issuer_id, document, embedded)
            with self._lock:
                self._badges[badge_class_id] = known
        return known

    def remote_id(
        self,
        kind: IdentifierKind,
        key: str,
        create: Callable[[], str],
        find: Callable[[], Iterator[str]],
    ) -> str:
        """The remote id of an issuer or badge class, created once across every process."""
        assert self.primary is not None
        with self._lock:
            known = self._remote.get((kind, key))
            lock = self._locks.setdefault((kind, key), threading.Lock())
        if known is not None:
            return known
        with lock:  # one thread of this process asks the store; others wait for its answer
            with self._lock:
                known = self._remote.get((kind, key))
            if known is None:
                known, _ = claimed_create(
                    self.store,
                    self.primary.id,
                    kind,
                    key,
                    self.holder,
                    create,
                    find,
                    writes=self.writes,
                )
                with self._lock:
                    self._remote[(kind, key)] = known
        return known

    def close(self) -> None:
        """Close the site API (and the client it created, if it created one)."""
        if self.site is not None:
            self.site.close()


def content_hash(badge_id: str, assertion: dict[str, Any]) -> str:
    """A fingerprint of what a push sends, to tell an unchanged award on resume."""
    body = json.dumps([badge_id, assertion], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _data_uri(image: bytes | None, image_type: str | None) -> str | None:
    if image is None or image_type is None:
        return None
    return f"data:{image_type};base64,{base64.b64encode(image).decode('ascii')}"


def _issuer_json(session: Session, issuer_id: int) -> dict[str, Any]:
    with session.store.transaction() as tx:
        issuer = tx.issuers.get(issuer_id)
        document = IssuerDocuments(tx, session.urls).issuer(issuer_id).to_json()
    # Badgr ignores image URLs and needs the picture itself, as a data URI.
    document["image"] = _data_uri(issuer.image, issuer.image_type)
    return document


def _badge_json(session: Session, badge_class_id: int) -> dict[str, Any]:
    with session.store.transaction() as tx:
        badge_class = tx.badge_classes.get(badge_class_id)
        document = IssuerDocuments(tx, session.urls).badge_class(badge_class_id).to_json()
    document["image"] = _data_uri(badge_class.image, badge_class.image_type)
    return document


def _matching(
    items: Iterator[Any], wanted: dict[str, Any], fields: tuple[str, ...]
) -> Iterator[str]:
    for item in items:
        if isinstance(item, dict) and all(item.get(f) == wanted.get(f) for f in fields):
            entity = item.get("entityId")
            if isinstance(entity, str):
                yield entity


def _issued(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _assertions_of(site: BackpackApi, badge_id: str, docs: SiteDocuments) -> Iterator[str]:
    """The badge class's assertions on the host that are this award's (recipient, time)."""
    items = site.list_items(
        badgr.route("badgeclass.assertions.list"),
        {"badgeclass": badge_id},
        [("recipient", docs.email), ("include_revoked", "true"), ("include_expired", "true")],
    )
    for item in items:
        recipient = item.get("recipient") or {}
        same_recipient = str(recipient.get("plaintextIdentity", "")).casefold() == (
            docs.email.casefold()
        )
        if same_recipient and _issued(item.get("issuedOn")) == docs.award.issued_on:
            entity = item.get("entityId")
            if isinstance(entity, str):
                yield entity


def site_push(session: Session, docs: SiteDocuments) -> tuple[str, SiteOutcome]:
    """Push issuer, badge class and assertion; return the assertion's id and what was done."""
    site, primary = session.site, session.primary
    assert site is not None
    assert primary is not None
    issuer_json: dict[str, Any] = {}

    def make_issuer() -> str:
        return site.put_issuer(issuer_json or _issuer_json(session, docs.issuer_id)).id

    def find_issuers() -> Iterator[str]:
        wanted = issuer_json or _issuer_json(session, docs.issuer_id)
        return _matching(
            site.list_items(badgr.route("issuers.list")), wanted, ("name", "email", "url")
        )

    issuer_id = session.remote_id(IdentifierKind.ISSUER, docs.issuer_key, make_issuer, find_issuers)

    def badge_json() -> dict[str, Any]:
        return _badge_json(session, docs.award.badge_class_id)

    badge_id = session.remote_id(
        IdentifierKind.BADGE_CLASS,
        docs.badge_key,
        lambda: site.put_badgeclass(issuer_id, badge_json()).id,
        lambda: _matching(
            site.list_items(badgr.route("issuer.badgeclasses.list"), {"issuer": issuer_id}),
            badge_json(),
            ("name", "description"),
        ),
    )
    digest = content_hash(badge_id, docs.assertion)
    key = docs.award.hash
    # Not mapped when the call began: the claim's transaction looks at the mapping again.
    existing = session.mapped.get(key)
    if existing is not None:
        if not session.refresh and session.pushed.get(key) == digest:
            return existing, "skipped"
        site.update_assertion(existing, docs.assertion)
        session.writes.record(primary.id, IdentifierKind.ASSERTION, key, existing, digest)
        return existing, "updated"
    remote, how = claimed_create(
        session.store,
        primary.id,
        IdentifierKind.ASSERTION,
        key,
        session.holder,
        lambda: site.put_badgeclass_assertion(badge_id, docs.assertion).id,
        lambda: _assertions_of(site, badge_id, docs),
        content_hash=digest,
        writes=session.writes,
    )
    if how == "existing":  # another worker pushed it meanwhile
        return remote, "skipped"
    return remote, how


def _primary_for_push(store: Store) -> Provider | None:
    with store.transaction() as tx:
        primary = tx.providers.primary()
        if primary is None or primary.api_version is not ApiVersion.V2:
            return None
        return primary if tx.accounts.site_account(primary.id) is not None else None
