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
from openbackpack.issuer import IssuerDocuments, IssuerUrls
from openbackpack.models import ApiVersion
from openbackpack.protocols import badgr
from openbackpack.services._collections import account_of
from openbackpack.services._connect import import_key_prefix
from openbackpack.services._errors import NotConnectedError, NotYourAwardError
from openbackpack.store import (
    Award,
    BackpackAccount,
    IdentifierKind,
    Provider,
    Store,
)

__all__ = [
    "DEFAULT_PUSH_CONCURRENCY",
    "BulkPushReport",
    "PushFailure",
    "PushResult",
    "PushStatus",
    "push_award",
    "push_awards",
]

DEFAULT_PUSH_CONCURRENCY: Final = 8

PushStatus = Literal["added", "already in backpack", "pushed"]
"""``added``: it went into the user's backpack now; ``already in backpack``: it was there;
``pushed``: a site-only push (no user) created or updated it on the site backpack."""


@dataclass(frozen=True, slots=True)
class PushResult:
    """What happened to one award."""

    award_hash: str
    status: PushStatus
    site_assertion_id: str | None = None
    import_url: str | None = None


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
    """The JSON the site push sends for one award, built from the registry."""

    award: Award
    issuer_key: str
    issuer: dict[str, Any]
    badge_key: str
    badge: dict[str, Any]
    assertion: dict[str, Any]
    hosted_url: str


def _documents(store: Store, award_hash: str, urls: IssuerUrls) -> _Documents:
    with store.transaction() as tx:
        award = tx.awards.get(award_hash)
        badge_class = tx.badge_classes.get(award.badge_class_id)
        issuer = tx.issuers.get(badge_class.issuer_id)
        documents = IssuerDocuments(tx, urls)
        issuer_json = documents.issuer(issuer.id).to_json()
        badge_json = documents.badge_class(badge_class.id).to_json()
        assertion_json = documents.assertion(award_hash, hashed=False).to_json()
    if award.revoked:
        raise InvalidInputError(f"award {award_hash!r} is revoked; it cannot be pushed")
    # Badgr ignores image URLs and needs the picture itself, as a data URI.
    issuer_json["image"] = _data_uri(issuer.image, issuer.image_type)
    badge_json["image"] = _data_uri(badge_class.image, badge_class.image_type)
    # Badgr validates the plain address and hashes it itself when publishing.
    assertion_json["recipient"] = {
        "identity": award.recipient_email,
        "type": "email",
        "hashed": True,
    }
    return _Documents(
        award=award,
        issuer_key=f"issuer:{issuer.id}",
        issuer=issuer_json,
        badge_key=f"badgeclass:{badge_class.id}",
        badge=badge_json,
        assertion=assertion_json,
        hosted_url=urls.assertion(award_hash),
    )


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


def _site_push(
    store: Store, primary: Provider, docs: _Documents, client: BackpackClient | None
) -> tuple[str, bool]:
    """Push issuer, badge class and assertion; return the assertion's id and if it is new."""
    with BackpackApi(primary, store=store, client=client) as site:
        issuer_id = _ensure(
            store,
            primary.id,
            IdentifierKind.ISSUER,
            docs.issuer_key,
            lambda: site.put_issuer(docs.issuer).id,
        )
        badge_id = _ensure(
            store,
            primary.id,
            IdentifierKind.BADGE_CLASS,
            docs.badge_key,
            lambda: site.put_badgeclass(issuer_id, docs.badge).id,
        )
        existing = _mapped(store, primary.id, IdentifierKind.ASSERTION, docs.award.hash)
        if existing is not None:
            site.update_assertion(existing, docs.assertion)
            return existing, False
        created = site.put_badgeclass_assertion(badge_id, docs.assertion).id
        _remember(store, primary.id, IdentifierKind.ASSERTION, docs.award.hash, created)
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
        NotYourAwardError: the award was made to another email than the user's account.
        NotConnectedError: the user has no v2 or 2.1 backpack account.
        InvalidInputError: the award is revoked, or nothing can be imported from anywhere.
        BackpackError: whatever the backpacks answered (typed, see :mod:`openbackpack`).
    """
    urls = IssuerUrls(issuer_base_url)
    docs = _documents(store, award_hash, urls)
    target = _target(store, owner, provider_id, docs.award) if owner is not None else None
    if target is not None and target[0].api_version is ApiVersion.V2P1:
        return _push_badge_connect(store, target[0], target[1], award_hash, urls, client)
    primary = _primary_for_push(store)
    site_id: str | None = None
    created = False
    if primary is not None:
        site_id, created = _site_push(store, primary, docs, client)
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
    return PushResult(award_hash, "added" if added else "already in backpack", site_id, url)


def _target(
    store: Store, owner: str, provider_id: int | None, award: Award
) -> tuple[Provider, BackpackAccount]:
    provider, account = account_of(store, owner, provider_id)
    if provider.api_version is ApiVersion.V1:
        raise NotConnectedError(
            f"backpack {provider.web_url} speaks API {provider.api_version.value}; "
            "adding badges needs a Badgr (v2) or Badge Connect (2.1) backpack"
        )
    if award.recipient_email.casefold() != account.email.casefold():
        raise NotYourAwardError(
            f"award {award.hash!r} was made to another address than {owner!r}'s backpack email"
        )
    return provider, account


def _push_badge_connect(
    store: Store,
    provider: Provider,
    account: BackpackAccount,
    award_hash: str,
    urls: IssuerUrls,
    client: BackpackClient | None,
) -> PushResult:
    """Moodle's ``put_assertions``: POST the hashed assertion; remember it was added."""
    key = import_key_prefix(account.id) + award_hash
    hosted = urls.assertion(award_hash)
    if _mapped(store, provider.id, IdentifierKind.ASSERTION, key) is not None:
        return PushResult(award_hash, "already in backpack", None, hosted)
    with store.transaction() as tx:
        # Moodle's defaults: the badge embedded, the recipient hashed with the site's salt.
        assertion = IssuerDocuments(tx, urls).assertion(award_hash, hashed=True).to_json()
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
    return PushResult(award_hash, status, None, hosted)


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
    """
    if concurrency < 1:
        raise InvalidInputError("concurrency must be at least 1")
    hashes: Sequence[str] = list(dict.fromkeys(award_hashes))
    own = client is None
    shared = client if client is not None else BackpackClient()

    def one(award_hash: str) -> PushResult | PushFailure:
        try:
            outcome: PushResult | PushFailure = push_award(
                store,
                owner,
                award_hash,
                provider_id=provider_id,
                issuer_base_url=issuer_base_url,
                client=shared,
            )
        except BackpackError as exc:
            outcome = PushFailure(award_hash, exc)
        if on_done is not None:
            on_done(outcome)
        return outcome

    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            outcomes = list(pool.map(one, hashes))
    finally:
        if own:
            shared.close()
    report = BulkPushReport()
    for outcome in outcomes:
        if isinstance(outcome, PushFailure):
            report.failures.append(outcome)
        else:
            report.results.append(outcome)
    return report
