"""Add to backpack, for Badgr (v2) and Badge Connect (2.1) backpacks, one or many.

Moodle's ``backpack-add.php`` (v2) and ``backpack-export.php`` (2.1).

For each award: the site push (issuer, badge class, assertion, each created once on the
primary site backpack and remembered in the store's remote-id mappings; an assertion already
pushed is updated with PUT), then the import into the user's own backpack unless it is already
there. Fixed from Moodle: the award must be the user's (W18); the badge class and assertion
are pushed whether or not the issuer was created in this call (the 5.0 regression W15); an
issuer is keyed by its registry id, not its email (W17); imports are recorded per account so
that a disconnect forgets them (W16). Many awards run concurrently, resume where an
interrupted run stopped (the mappings say what is done), and each failure is reported
without stopping the rest.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from openbackpack._exceptions import BackpackError, DuplicateBadgeError, InvalidInputError
from openbackpack.api import BackpackApi, BadgeConnectApi
from openbackpack.client import BackpackClient
from openbackpack.issuer import IssuerDocuments, IssuerUrls, build_assertion
from openbackpack.models import ApiVersion, ob2
from openbackpack.protocols import badgr
from openbackpack.services._collections import account_of
from openbackpack.services._connect import import_key_prefix
from openbackpack.services._errors import NotConnectedError, NotYourAwardError
from openbackpack.services._site import require_external_backpacks
from openbackpack.store import (
    Award,
    BackpackAccount,
    IdentifierKind,
    Provider,
    Store,
    Transaction,
)

__all__ = [
    "DEFAULT_PUSH_CONCURRENCY",
    "BulkPushReport",
    "PushFailure",
    "PushResult",
    "PushStatus",
    "PushVia",
    "push_award",
    "push_awards",
]

DEFAULT_PUSH_CONCURRENCY: Final = 8

PushStatus = Literal["added", "already in backpack", "pushed"]
"""``added``: it went into the user's backpack now; ``already in backpack``: it was there;
``pushed``: a site-only push (no user) created or updated it on the site backpack."""

PushVia = Literal["site push", "hosted import", "badge connect"]
"""How the award reached the backpack: ``site push`` (pushed by the site account, and on
another backpack imported from the pushed copy's public URL), ``hosted import`` (the site push
was impossible or failed, so the backpack imported this site's own hosted assertion URL, as
Moodle falls back to), ``badge connect`` (POSTed to a 2.1 backpack)."""


@dataclass(frozen=True, slots=True)
class PushResult:
    """What happened to one award."""

    award_hash: str
    status: PushStatus
    site_assertion_id: str | None = None
    import_url: str | None = None
    via: PushVia = "site push"
    site_push_error: str | None = None
    """Why the site push failed, when the award went in by ``hosted import`` instead."""


@dataclass(frozen=True, slots=True)
class PushFailure:
    """An award that could not be pushed, and why."""

    award_hash: str
    error: BackpackError


@dataclass(frozen=True, slots=True)
class BulkPushReport:
    """The outcome of pushing many awards: one result or one failure per award, in order."""

    results: list[PushResult] = field(default_factory=list)
    failures: list[PushFailure] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether every award was pushed."""
        return not self.failures


# One lock per remote object being created, so that concurrent pushes of awards that share
# an issuer or badge class create it once.
_creation_locks: dict[tuple[int, str], threading.Lock] = {}
_creation_guard = threading.Lock()


def _creation_lock(provider_id: int, key: str) -> threading.Lock:
    with _creation_guard:
        return _creation_locks.setdefault((provider_id, key), threading.Lock())


def _data_uri(image: bytes | None, image_type: str | None) -> str | None:
    if image is None or image_type is None:
        return None
    return f"data:{image_type};base64,{base64.b64encode(image).decode('ascii')}"


@dataclass(frozen=True, slots=True)
class _Documents:
    """The award and the assertion JSON the site push sends for it, built from the registry.

    The issuer's and badge class's JSON are built only if they must be created remotely.
    """

    award: Award
    issuer_id: int
    assertion: dict[str, Any]
    hosted_url: str

    @property
    def issuer_key(self) -> str:
        """The issuer's key in the remote-id mappings."""
        return f"issuer:{self.issuer_id}"

    @property
    def badge_key(self) -> str:
        """The badge class's key in the remote-id mappings."""
        return f"badgeclass:{self.award.badge_class_id}"


class _Session:
    """What the pushes of one call share, so that each award costs only its own work.

    The primary site backpack and one site API over it (one token for every push; a
    ``BackpackApi``'s only mutable state is that token, renewed under a lock), the remote ids
    of issuers and badge classes once known, and each badge class's document as first read
    in this call (embedded in every assertion of that badge).
    """

    def __init__(self, store: Store, issuer_base_url: str, client: BackpackClient | None) -> None:
        self.store = store
        self.urls = IssuerUrls(issuer_base_url)
        self.client = client
        self.primary = _primary_for_push(store)
        self.site = (
            BackpackApi(self.primary, store=store, client=client)
            if self.primary is not None
            else None
        )
        self._badges: dict[int, tuple[int, ob2.BadgeClass]] = {}
        self._remote: dict[tuple[IdentifierKind, str], str] = {}
        self._lock = threading.Lock()

    def badge(self, tx: Transaction, badge_class_id: int) -> tuple[int, ob2.BadgeClass]:
        """The badge class's issuer id and embedded document, read once per call."""
        with self._lock:
            known = self._badges.get(badge_class_id)
        if known is None:
            issuer_id = tx.badge_classes.get(badge_class_id).issuer_id
            document = IssuerDocuments(tx, self.urls).badge_class(badge_class_id, embedded=True)
            known = (issuer_id, document)
            with self._lock:
                self._badges[badge_class_id] = known
        return known

    def remote_id(self, kind: IdentifierKind, key: str, create: Callable[[], str]) -> str:
        """The remote id of an issuer or badge class, created (once) if there is none yet."""
        assert self.primary is not None
        with self._lock:
            known = self._remote.get((kind, key))
        if known is None:
            known = _ensure(self.store, self.primary.id, kind, key, create)
            with self._lock:
                self._remote[(kind, key)] = known
        return known

    def close(self) -> None:
        """Close the site API (and the client it created, if it created one)."""
        if self.site is not None:
            self.site.close()


def _award(store: Store, award_hash: str) -> Award:
    with store.transaction() as tx:
        award = tx.awards.get(award_hash)
    if award.revoked:
        raise InvalidInputError(f"award {award_hash!r} is revoked; it cannot be pushed")
    return award


def _documents(session: _Session, award: Award, email: str) -> _Documents:
    """The documents of ``award`` made out to ``email`` (the award's, or the owner's backpack)."""
    with session.store.transaction() as tx:
        issuer_id, badge = session.badge(tx, award.badge_class_id)
    document = build_assertion(award, badge, session.urls, hashed=False, recipient_email=email)
    assertion_json = document.to_json()
    # Badgr validates the plain address and hashes it itself when publishing.
    assertion_json["recipient"] = {"identity": email, "type": "email", "hashed": True}
    return _Documents(
        award=award,
        issuer_id=issuer_id,
        assertion=assertion_json,
        hosted_url=document.id,
    )


def _issuer_json(session: _Session, issuer_id: int) -> dict[str, Any]:
    with session.store.transaction() as tx:
        issuer = tx.issuers.get(issuer_id)
        document = IssuerDocuments(tx, session.urls).issuer(issuer_id).to_json()
    # Badgr ignores image URLs and needs the picture itself, as a data URI.
    document["image"] = _data_uri(issuer.image, issuer.image_type)
    return document


def _badge_json(session: _Session, badge_class_id: int) -> dict[str, Any]:
    with session.store.transaction() as tx:
        badge_class = tx.badge_classes.get(badge_class_id)
        document = IssuerDocuments(tx, session.urls).badge_class(badge_class_id).to_json()
    document["image"] = _data_uri(badge_class.image, badge_class.image_type)
    return document


def _mapped(store: Store, provider_id: int, kind: IdentifierKind, key: str) -> str | None:
    with store.transaction() as tx:
        return tx.identifiers.get(provider_id, kind, key)


def _remember(store: Store, provider_id: int, kind: IdentifierKind, key: str, remote: str) -> None:
    with store.transaction() as tx:
        if tx.identifiers.get(provider_id, kind, key) is None:
            tx.identifiers.create(provider_id, kind, key, remote)


def _ensure(
    store: Store,
    provider_id: int,
    kind: IdentifierKind,
    key: str,
    create: Callable[[], str],
) -> str:
    found = _mapped(store, provider_id, kind, key)
    if found is not None:
        return found
    with _creation_lock(provider_id, f"{kind.value}:{key}"):
        found = _mapped(store, provider_id, kind, key)
        if found is None:
            found = create()
            _remember(store, provider_id, kind, key, found)
    return found


def _site_push(session: _Session, docs: _Documents) -> tuple[str, bool]:
    """Push issuer, badge class and assertion; return the assertion's id and if it is new."""
    site, primary = session.site, session.primary
    assert site is not None
    assert primary is not None
    issuer_id = session.remote_id(
        IdentifierKind.ISSUER,
        docs.issuer_key,
        lambda: site.put_issuer(_issuer_json(session, docs.issuer_id)).id,
    )
    badge_id = session.remote_id(
        IdentifierKind.BADGE_CLASS,
        docs.badge_key,
        lambda: site.put_badgeclass(issuer_id, _badge_json(session, docs.award.badge_class_id)).id,
    )
    existing = _mapped(session.store, primary.id, IdentifierKind.ASSERTION, docs.award.hash)
    if existing is not None:
        site.update_assertion(existing, docs.assertion)
        return existing, False
    created = site.put_badgeclass_assertion(badge_id, docs.assertion).id
    _remember(session.store, primary.id, IdentifierKind.ASSERTION, docs.award.hash, created)
    return created, True


def _primary_for_push(store: Store) -> Provider | None:
    with store.transaction() as tx:
        primary = tx.providers.primary()
        if primary is None or primary.api_version is not ApiVersion.V2:
            return None
        return primary if tx.accounts.site_account(primary.id) is not None else None


def _import(
    store: Store,
    provider: Provider,
    account: BackpackAccount,
    award_hash: str,
    url: str,
    client: BackpackClient | None,
) -> bool:
    """Import ``url`` into the account unless already recorded; return if it was added now."""
    key = import_key_prefix(account.id) + award_hash
    if _mapped(store, provider.id, IdentifierKind.ASSERTION, key) is not None:
        return False
    with BackpackApi(provider, account, store=store, client=client) as user:
        try:
            remote = user.import_badge_assertion(url).id
            added = True
        except DuplicateBadgeError:
            remote, added = url, False
    _remember(store, provider.id, IdentifierKind.ASSERTION, key, remote)
    return added


def push_award(
    store: Store,
    owner: str | None,
    award_hash: str,
    *,
    issuer_base_url: str,
    provider_id: int | None = None,
    client: BackpackClient | None = None,
) -> PushResult:
    """Put one award into a user's backpack (or, with ``owner=None``, only site-push it).

    A Badgr (v2) backpack gets the site push and an import; a Badge Connect (2.1) backpack
    gets the assertion itself, ``POST {"assertion": ...}`` with a hashed recipient, which the
    host verifies by fetching its ``id`` (this site's hosted URL, which must be reachable
    from the host, as in Moodle).

    Args:
        store: the store with the registry, the providers, accounts and mappings.
        owner: the user whose backpack receives the award; None for a site-only push.
        award_hash: the award in the local registry.
        provider_id: the user's backpack, when they have accounts on several.
        issuer_base_url: where this site's hosted Open Badges documents are served (see
            :class:`~openbackpack.issuer.IssuerUrls`); used for the documents' ids, and as the
            import URL when no site push is possible.
        client: a client to share (its pool and retry policy).

    Raises:
        ExternalBackpacksDisabledError: the site switched external backpacks off.
        NotYourAwardError: the award was made to another email than the user's account.
        NotConnectedError: the user has no v2 or 2.1 backpack account.
        InvalidInputError: the award is revoked, or nothing can be imported from anywhere.
        BackpackError: whatever the backpacks answered (typed, see :mod:`openbackpack`).
    """
    with store.transaction() as tx:
        require_external_backpacks(tx)
    session = _Session(store, issuer_base_url, client)
    try:
        return _push_one(session, owner, award_hash, provider_id)
    finally:
        session.close()


def _push_one(
    session: _Session, owner: str | None, award_hash: str, provider_id: int | None
) -> PushResult:
    store, primary, client = session.store, session.primary, session.client
    award = _award(store, award_hash)
    target = _target(store, owner, provider_id, award) if owner is not None else None
    # Moodle issues the copy to the backpack's verified email, which may differ from the
    # award's when the award has an owner.
    email = target[1].email if target is not None else award.recipient_email
    if target is not None and target[0].api_version is ApiVersion.V2P1:
        return _push_badge_connect(store, target[0], target[1], award, email, session.urls, client)
    docs = _documents(session, award, email)
    site_id: str | None = None
    created = False
    failed: BackpackError | None = None
    if primary is not None:
        try:
            site_id, created = _site_push(session, docs)
        except BackpackError as exc:
            if target is None:
                raise
            # As Moodle: when the site account cannot log in or push, the user's backpack
            # imports this site's own hosted assertion instead.
            failed = exc
    if target is None:
        if primary is None:
            raise NotConnectedError("no Badgr primary site backpack with a site account to push to")
        return PushResult(award_hash, "pushed", site_id)
    provider, account = target
    if primary is not None and site_id is not None and provider.id == primary.id:
        # Badgr links an award to the backpack of the account with the recipient's email,
        # so on the primary backpack itself the site push is the import.
        key = import_key_prefix(account.id) + award_hash
        already = _mapped(store, provider.id, IdentifierKind.ASSERTION, key) is not None
        _remember(store, provider.id, IdentifierKind.ASSERTION, key, site_id)
        status: PushStatus = "added" if created or not already else "already in backpack"
        return PushResult(award_hash, status, site_id, None)
    url = _import_url(primary, site_id, docs)
    added = _import(store, provider, account, award_hash, url, client)
    return PushResult(
        award_hash,
        "added" if added else "already in backpack",
        site_id,
        url,
        via="site push" if site_id is not None else "hosted import",
        site_push_error=None if failed is None else str(failed),
    )


def _target(
    store: Store, owner: str, provider_id: int | None, award: Award
) -> tuple[Provider, BackpackAccount]:
    provider, account = account_of(store, owner, provider_id)
    if provider.api_version is ApiVersion.V1:
        raise NotConnectedError(
            f"backpack {provider.web_url} speaks API {provider.api_version.value}; "
            "adding badges needs a Badgr (v2) or Badge Connect (2.1) backpack"
        )
    if award.owner is not None:
        # An award made to a user is theirs whatever address their backpack verified.
        if award.owner != owner:
            raise NotYourAwardError(f"award {award.hash!r} was made to another user than {owner!r}")
    elif award.recipient_email.casefold() != account.email.casefold():
        raise NotYourAwardError(
            f"award {award.hash!r} was made to another address than {owner!r}'s backpack email"
        )
    return provider, account


def _push_badge_connect(
    store: Store,
    provider: Provider,
    account: BackpackAccount,
    award: Award,
    email: str,
    urls: IssuerUrls,
    client: BackpackClient | None,
) -> PushResult:
    """Moodle's ``put_assertions``: POST the hashed assertion; remember it was added."""
    award_hash = award.hash
    key = import_key_prefix(account.id) + award_hash
    with store.transaction() as tx:
        # Moodle's defaults: the badge embedded, the recipient hashed with the site's salt.
        document = IssuerDocuments(tx, urls).assertion(
            award_hash, hashed=True, recipient_email=email
        )
    hosted = document.id
    if _mapped(store, provider.id, IdentifierKind.ASSERTION, key) is not None:
        return PushResult(award_hash, "already in backpack", None, hosted, via="badge connect")
    assertion = document.to_json()
    with BadgeConnectApi(provider, account, store=store, client=client) as api:
        try:
            api.put_assertion(assertion)
            status: PushStatus = "added"
        except DuplicateBadgeError:
            status = "already in backpack"
    _remember(store, provider.id, IdentifierKind.ASSERTION, key, hosted)
    with store.transaction() as tx:
        # A 2.1 account shows all its badges, so what was cached is now one short.
        tx.badge_cache.delete(account.id)
    return PushResult(award_hash, status, None, hosted, via="badge connect")


def _import_url(primary: Provider | None, site_id: str | None, docs: _Documents) -> str:
    # Without a site push the user's backpack must fetch our own hosted assertion, so this
    # site must be reachable from the backpack (as in Moodle).
    if primary is not None and site_id is not None:
        return badgr.public_url(primary.api_url, "assertions", site_id)
    return docs.hosted_url


def push_awards(
    store: Store,
    owner: str | None,
    award_hashes: Iterable[str],
    *,
    issuer_base_url: str,
    provider_id: int | None = None,
    client: BackpackClient | None = None,
    concurrency: int = DEFAULT_PUSH_CONCURRENCY,
    on_done: Callable[[PushResult | PushFailure], None] | None = None,
) -> BulkPushReport:
    """Push many awards, ``concurrency`` at a time; each failure is reported, the rest go on.

    Re-running after an interruption resumes: what the mappings record as done is not
    created again (an already pushed assertion is only updated).

    Raises:
        ExternalBackpacksDisabledError: the site switched external backpacks off (before
            any award is tried).
    """
    if concurrency < 1:
        raise InvalidInputError("concurrency must be at least 1")
    with store.transaction() as tx:
        require_external_backpacks(tx)
    hashes: Sequence[str] = list(dict.fromkeys(award_hashes))
    own = client is None
    shared = client if client is not None else BackpackClient()
    session = _Session(store, issuer_base_url, shared)

    def one(award_hash: str) -> PushResult | PushFailure:
        try:
            outcome: PushResult | PushFailure = _push_one(session, owner, award_hash, provider_id)
        except BackpackError as exc:
            outcome = PushFailure(award_hash, exc)
        if on_done is not None:
            on_done(outcome)
        return outcome

    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            outcomes = list(pool.map(one, hashes))
    finally:
        session.close()
        if own:
            shared.close()
    report = BulkPushReport()
    for outcome in outcomes:
        if isinstance(outcome, PushFailure):
            report.failures.append(outcome)
        else:
            report.results.append(outcome)
    return report
