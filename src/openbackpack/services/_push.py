"""Add to backpack, for Badgr (v2), Badge Connect (2.1) and OB 3.0 backpacks, one or many.

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

import contextlib
from dataclasses import dataclass
from typing import Literal

from openbackpack._exceptions import (
    BackpackError,
    DuplicateBadgeError,
    DuplicateRecordError,
    InvalidInputError,
)
from openbackpack.api import BackpackApi, BadgeConnectApi
from openbackpack.client import BackpackClient
from openbackpack.issuer import IssuerDocuments, IssuerUrls, build_assertion
from openbackpack.models import ApiVersion
from openbackpack.protocols import badgr
from openbackpack.services._claiming import StoreBusyError, claimed_create, in_transaction
from openbackpack.services._collections import account_of
from openbackpack.services._connect import import_key_prefix
from openbackpack.services._errors import NotConnectedError, NotYourAwardError
from openbackpack.services._push_site import Session, SiteDocuments, SiteOutcome, site_push
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
    "PushResult",
    "PushStatus",
    "PushVia",
    "SiteOutcome",
    "StoreBusyError",
    "push_award",
]

PushStatus = Literal["added", "already in backpack", "pushed"]
"""``added``: it went into the user's backpack now; ``already in backpack``: it was there;
``pushed``: a site-only push (no user) created or updated it on the site backpack."""

PushVia = Literal["site push", "hosted import", "badge connect", "open badges 3.0"]
"""How the award reached the backpack: ``site push`` (pushed by the site account, and on
another backpack imported from the pushed copy's public URL), ``hosted import`` (the site push
was impossible or failed, so the backpack imported this site's own hosted assertion URL, as
Moodle falls back to), ``badge connect`` (POSTed to a 2.1 backpack), ``open badges 3.0`` (the
award as a signed OpenBadgeCredential, upserted into a 3.0 backpack)."""


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
    site: SiteOutcome | None = None
    """What the site push did to the assertion on the primary backpack, if it ran; for an
    Open Badges 3.0 backpack, what the upsert did to the credential there."""


def _award(session: Session, award_hash: str) -> Award:
    award = session.award(award_hash)
    if award.revoked:
        raise InvalidInputError(f"award {award_hash!r} is revoked; it cannot be pushed")
    return award


def _documents(session: Session, award: Award, email: str) -> SiteDocuments:
    """The documents of ``award`` made out to ``email`` (the award's, or the owner's backpack)."""
    issuer_id, badge, embedded = session.badge(award.badge_class_id)
    # The badge class is serialised once per call, not once per award.
    document = build_assertion(award, badge.id, session.urls, hashed=False, recipient_email=email)
    assertion_json = document.to_json()
    assertion_json["badge"] = embedded
    # Badgr validates the plain address and hashes it itself when publishing.
    assertion_json["recipient"] = {"identity": email, "type": "email", "hashed": True}
    return SiteDocuments(
        award=award,
        issuer_id=issuer_id,
        assertion=assertion_json,
        hosted_url=document.id,
        email=email,
    )


def _mapped(store: Store, provider_id: int, kind: IdentifierKind, key: str) -> str | None:
    return in_transaction(store, lambda tx: tx.identifiers.get(provider_id, kind, key))


def _remember(store: Store, provider_id: int, kind: IdentifierKind, key: str, remote: str) -> None:
    def write(tx: Transaction) -> None:
        if tx.identifiers.get(provider_id, kind, key) is None:
            tx.identifiers.create(provider_id, kind, key, remote)

    # Another process may have recorded the same import meanwhile.
    with contextlib.suppress(DuplicateRecordError):
        in_transaction(store, write)


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
    refresh: bool = False,
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
        refresh: send the assertion again even if it is unchanged since the last push.

    Raises:
        ExternalBackpacksDisabledError: the site switched external backpacks off.
        NotYourAwardError: the award was made to another email than the user's account.
        NotConnectedError: the user has no v2 or 2.1 backpack account.
        InvalidInputError: the award is revoked, or nothing can be imported from anywhere.
        BackpackError: whatever the backpacks answered (typed, see :mod:`openbackpack`).
    """
    with store.transaction() as tx:
        require_external_backpacks(tx)
    session = Session(store, issuer_base_url, client, refresh=refresh)
    try:
        return _push_one(session, owner, award_hash, provider_id)
    finally:
        session.close()


def _push_one(
    session: Session, owner: str | None, award_hash: str, provider_id: int | None
) -> PushResult:
    store, primary, client = session.store, session.primary, session.client
    award = _award(session, award_hash)
    target = _target(store, owner, provider_id, award) if owner is not None else None
    # Moodle issues the copy to the backpack's verified email, which may differ from the
    # award's when the award has an owner.
    email = target[1].email if target is not None else award.recipient_email
    if target is not None and target[0].api_version is ApiVersion.V2P1:
        return _push_badge_connect(
            session, store, target[0], target[1], award, email, session.urls, client
        )
    if target is not None and target[0].api_version is ApiVersion.V3P0:
        return _push_ob3(session, target[0], target[1], award, email)
    docs = _documents(session, award, email)
    site_id: str | None = None
    outcome: SiteOutcome | None = None
    failed: BackpackError | None = None
    if primary is not None:
        try:
            site_id, outcome = site_push(session, docs)
        except BackpackError as exc:
            if target is None or isinstance(exc, StoreBusyError):
                raise
            # As Moodle: when the site account cannot log in or push, the user's backpack
            # imports this site's own hosted assertion instead.
            failed = exc
    if target is None:
        if primary is None:
            raise NotConnectedError("no Badgr primary site backpack with a site account to push to")
        return PushResult(award_hash, "pushed", site_id, site=outcome)
    provider, account = target
    if primary is not None and site_id is not None and provider.id == primary.id:
        # Badgr links an award to the backpack of the account with the recipient's email,
        # so on the primary backpack itself the site push is the import.
        key = import_key_prefix(account.id) + award_hash
        already = _mapped(store, provider.id, IdentifierKind.ASSERTION, key) is not None
        _remember(store, provider.id, IdentifierKind.ASSERTION, key, site_id)
        new = outcome in ("created", "adopted")
        status: PushStatus = "added" if new or not already else "already in backpack"
        return PushResult(award_hash, status, site_id, None, site=outcome)
    url = _import_url(primary, site_id, docs)
    added = _import(store, provider, account, award_hash, url, client)
    return PushResult(
        award_hash,
        "added" if added else "already in backpack",
        site_id,
        url,
        via="site push" if site_id is not None else "hosted import",
        site_push_error=None if failed is None else str(failed),
        site=outcome,
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
    session: Session,
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
    # Moodle's defaults: the badge embedded, the recipient hashed with the site's salt.
    document = in_transaction(
        store,
        lambda tx: IssuerDocuments(tx, urls).assertion(
            award_hash, hashed=True, recipient_email=email
        ),
    )
    hosted = document.id
    if _mapped(store, provider.id, IdentifierKind.ASSERTION, key) is not None:
        return PushResult(award_hash, "already in backpack", None, hosted, via="badge connect")
    assertion = document.to_json()
    duplicate = False

    def post() -> str:
        nonlocal duplicate
        with BadgeConnectApi(provider, account, store=store, client=client) as api:
            try:
                api.put_assertion(assertion)
            except DuplicateBadgeError:
                # After a lost reply (or a crash) the first POST may have landed: the badge
                # is in the backpack either way.
                duplicate = True
        return hosted

    # The claim makes one worker in any process POST it; a host cannot be searched here.
    _, how = claimed_create(
        store,
        provider.id,
        IdentifierKind.ASSERTION,
        key,
        session.holder,
        post,
        lambda: (),
        writes=session.writes,
    )
    status: PushStatus = "added" if how == "created" and not duplicate else "already in backpack"
    with store.transaction() as tx:
        # A 2.1 account shows all its badges, so what was cached is now one short.
        tx.badge_cache.delete(account.id)
    return PushResult(award_hash, status, None, hosted, via="badge connect")


def _push_ob3(
    session: Session, provider: Provider, account: BackpackAccount, award: Award, email: str
) -> PushResult:
    """Upsert the award as a signed OB 3.0 credential; created, updated or adopted."""
    # Imported here: signing loads the credential stack (JSON-LD, JOSE, schemas), which a
    # process pushing only to Badgr or Badge Connect hosts never needs at start-up.
    from openbackpack.services._ob3 import push_credential

    pushed = push_credential(
        session.store, provider, account, award.hash, recipient_email=email,
        key=import_key_prefix(account.id) + award.hash, holder=session.holder,
        urls=session.urls, client=session.client, refresh=session.refresh,
    )  # fmt: skip
    if pushed.outcome != "skipped":
        with session.store.transaction() as tx:
            tx.badge_cache.delete(account.id)
    new = pushed.outcome in ("created", "adopted")
    status: PushStatus = "added" if new else "already in backpack"
    return PushResult(
        award.hash, status, None, pushed.credential_id, via="open badges 3.0", site=pushed.outcome
    )


def _import_url(primary: Provider | None, site_id: str | None, docs: SiteDocuments) -> str:
    # Without a site push the user's backpack must fetch our own hosted assertion, so this
    # site must be reachable from the backpack (as in Moodle).
    if primary is not None and site_id is not None:
        return badgr.public_url(primary.api_url, "assertions", site_id)
    return docs.hosted_url
