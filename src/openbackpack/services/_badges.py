"""A user's external badges: what their selected collections hold (Moodle's §6.4 and §8.5).

Read through a per-account cache with a time to live (default 3600 s) and an explicit refresh
(Moodle refreshed on every "Manage badges" view, W8). Each badge is identified by its
assertion (Moodle used the md5 of the badge *class* URL, so two awards of one class collided),
keeps v2 field names, and carries the result of the recipient check (Moodle dropped the
recipient, so v2 badges could never be verified, W20). Badge Connect (2.1) accounts show every
badge they hold, read with ``GET /assertions`` (Moodle never read them back, W14).

Only a complete read is cached. When a refresh fails, or only part of it can be read (a
transient 503), the last good copy is shown instead, marked ``stale`` with when it was read
and why the refresh failed; a good copy is never replaced by a partial one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from openbackpack._exceptions import BackpackError
from openbackpack.api import BackpackApi, BadgeConnectApi, CollectionBadges, ExternalBadge, Ob3Api
from openbackpack.client import BackpackClient
from openbackpack.models import ApiVersion, DisplayerBadge, RemoteIssuer, match_recipient
from openbackpack.services._bc_badges import badge_connect_views
from openbackpack.services._site import require_external_backpacks
from openbackpack.store import BackpackAccount, Provider, SelectedCollection, Store
from openbackpack.store._types import utcnow

__all__ = ["DEFAULT_BADGE_TTL", "ExternalBadgeView", "ExternalBadges", "external_badges"]

DEFAULT_BADGE_TTL: Final = timedelta(seconds=3600)


class ExternalBadgeView(BaseModel):
    """One badge from a user's backpack, ready to show."""

    model_config = ConfigDict(frozen=True)

    assertion_id: str
    provider_id: int
    collection_id: str
    name: str | None = None
    description: str | None = None
    image: str | None = None
    issuer_name: str | None = None
    issuer_url: str | None = None
    issuer_email: str | None = None
    issued_on: datetime | None = None
    expires: datetime | None = None
    hosted_url: str | None = None
    criteria_url: str | None = None
    criteria_narrative: str | None = None
    recipient_verified: bool = False
    recipient_check: str = ""
    verification: dict[str, Any] | None = None
    """An Open Badges 3.0 credential's verification report (``outcome``, ``checks``...)."""


class ExternalBadges(BaseModel):
    """A user's external badges across their accounts' selected collections."""

    model_config = ConfigDict(frozen=True)

    owner: str
    total_collections: int
    badges: list[ExternalBadgeView]
    failures: list[str]
    fetched_at: datetime
    from_cache: bool
    stale: bool = False
    stale_since: datetime | None = None
    stale_reasons: list[str] = []

    @property
    def total_badges(self) -> int:
        """How many badges are shown."""
        return len(self.badges)


class _AccountBadges(BaseModel):
    total_collections: int
    badges: list[ExternalBadgeView]
    failures: list[str]
    # Set only on a last good copy shown because a refresh failed; never stored.
    stale_since: datetime | None = None
    stale_reasons: list[str] = []


def _recipient_source(recipient: Any, salt: Any) -> Mapping[str, Any] | None:
    if isinstance(recipient, str):  # Open Badges 1.0: a bare (hashed) identity string
        hashed = recipient.startswith(("sha256$", "md5$"))
        return {"identity": recipient, "type": "email", "hashed": hashed, "salt": salt}
    if isinstance(recipient, Mapping):
        return recipient
    return None


def _check(recipient: Mapping[str, Any] | None, email: str) -> tuple[bool, str]:
    if recipient is None:
        return False, "the backpack did not say who the recipient is"
    result = match_recipient({"recipient": recipient}, email)
    return result.matched, result.reason


def _v2_view(
    badge: ExternalBadge, provider: Provider, collection: str, email: str
) -> ExternalBadgeView:
    assertion, badgeclass = badge.assertion, badge.badgeclass
    issuer = badge.issuer if isinstance(badge.issuer, RemoteIssuer) else None
    recipient = assertion.recipient.model_dump(by_alias=True) if assertion.recipient else None
    verified, reason = _check(recipient, email)
    return ExternalBadgeView(
        assertion_id=assertion.id,
        provider_id=provider.id,
        collection_id=collection,
        name=badgeclass.name,
        description=badgeclass.description,
        image=badgeclass.image,
        issuer_name=issuer.name if issuer else None,
        issuer_url=issuer.url if issuer else None,
        issuer_email=issuer.email if issuer else None,
        issued_on=assertion.issued_on,
        expires=assertion.expires,
        hosted_url=assertion.hosted_url or assertion.id,
        criteria_url=badgeclass.criteria_url,
        criteria_narrative=badgeclass.criteria_narrative,
        recipient_verified=verified,
        recipient_check=reason,
    )


def _v1_view(
    badge: DisplayerBadge, provider: Provider, collection: str, email: str
) -> ExternalBadgeView:
    assertion = badge.assertion
    details = _mapping(assertion.get("badge"))
    issuer = _mapping(details.get("issuer"))
    verified, reason = _check(
        _recipient_source(assertion.get("recipient"), assertion.get("salt")), email
    )
    criteria = details.get("criteria")
    return ExternalBadgeView(
        assertion_id=badge.hosted_url or json.dumps(assertion, sort_keys=True)[:255],
        provider_id=provider.id,
        collection_id=collection,
        name=details.get("name"),
        description=details.get("description"),
        image=badge.image_url or details.get("image"),
        issuer_name=issuer.get("name"),
        issuer_url=issuer.get("origin") or issuer.get("url"),
        issuer_email=issuer.get("contact") or issuer.get("email"),
        issued_on=_date(assertion.get("issued_on") or assertion.get("issuedOn")),
        expires=_date(assertion.get("expires")),
        hosted_url=badge.hosted_url,
        criteria_url=criteria if isinstance(criteria, str) else None,
        recipient_verified=verified,
        recipient_check=reason,
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _date(value: Any) -> datetime | None:
    if isinstance(value, int | float):
        from datetime import UTC

        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _read_account(
    api: BackpackApi, provider: Provider, account: BackpackAccount, chosen: list[SelectedCollection]
) -> _AccountBadges:
    badges: list[ExternalBadgeView] = []
    failures: list[str] = []
    for selection in chosen:
        key = str(selection.key)
        try:
            found = api.get_badges(selection, expanded=True)
        except BackpackError as exc:
            failures.append(f"collection {key} on {provider.web_url}: {exc}")
            continue
        if isinstance(found, CollectionBadges):
            badges += [_v2_view(b, provider, key, account.email) for b in found.badges]
            failures += [f"assertion {f.assertion_id}: {f.error}" for f in found.failures]
        else:
            badges += [_v1_view(b, provider, key, account.email) for b in found]
    return _AccountBadges(total_collections=len(chosen), badges=badges, failures=failures)


def external_badges(
    store: Store,
    owner: str,
    *,
    refresh: bool = False,
    ttl: timedelta = DEFAULT_BADGE_TTL,
    client: BackpackClient | None = None,
) -> ExternalBadges:
    """Return the badges of every collection the user chose, on every backpack they connected.

    A Badge Connect (2.1) account has no collections: all its (unrevoked) badges are shown,
    with ``collection_id`` empty. So has an Open Badges 3.0 account: every credential is
    shown, each verified (``verification`` is the verifier's report; the document loader is
    offline, see :data:`~openbackpack.services.DOCUMENT_MAP_ENV`). Each account's result
    is cached for ``ttl``; ``refresh=True`` reads the backpacks again.
    A collection or assertion that cannot be read is listed in ``failures`` and the rest is
    still shown. Only a complete read is cached: when an account's refresh fails in whole or in
    part and a good copy is cached, that copy is shown instead (whatever its age), and the
    result says ``stale=True``, ``stale_since`` (when the oldest copy shown was read) and
    ``stale_reasons`` (why the refresh failed).

    Raises:
        ExternalBackpacksDisabledError: the site switched external backpacks off.
    """
    with store.transaction() as tx:
        require_external_backpacks(tx)
        accounts = [(tx.providers.get(a.provider_id), a) for a in tx.accounts.list(owner=owner)]
        selections = {a.id: tx.collections.list(a.id) for _, a in accounts}
    now = utcnow()
    badges: list[ExternalBadgeView] = []
    failures: list[str] = []
    total = 0
    all_cached = True
    stale_since: list[datetime] = []
    stale_reasons: list[str] = []
    for provider, account in accounts:
        part, cached = _account_badges(
            store, provider, account, selections[account.id], refresh, ttl, client
        )
        all_cached = all_cached and cached
        total += part.total_collections
        badges += part.badges
        failures += part.failures
        if part.stale_since is not None:
            stale_since.append(part.stale_since)
            stale_reasons += part.stale_reasons
    return ExternalBadges(
        owner=owner,
        total_collections=total,
        badges=badges,
        failures=failures,
        fetched_at=now,
        from_cache=all_cached and bool(accounts),
        stale=bool(stale_since),
        stale_since=min(stale_since) if stale_since else None,
        stale_reasons=stale_reasons,
    )


def _read_badge_connect(
    store: Store, provider: Provider, account: BackpackAccount, client: BackpackClient | None
) -> _AccountBadges:
    views: list[dict[str, Any]]
    if provider.api_version is ApiVersion.V3P0:
        with Ob3Api(provider, account, store=store, client=client) as ob3:
            # Imported here: verifying loads the credential stack, which listing Badgr or
            # Badge Connect badges never needs.
            from openbackpack.services._ob3 import ob3_views

            views, failures = ob3_views(ob3, account)
    else:
        with BadgeConnectApi(provider, account, store=store, client=client) as api:
            views, failures = badge_connect_views(api, provider, account)
    return _AccountBadges(
        total_collections=0,
        badges=[ExternalBadgeView.model_validate(view) for view in views],
        failures=[f"backpack {provider.web_url}: {failure}" for failure in failures],
    )


def _account_badges(
    store: Store,
    provider: Provider,
    account: BackpackAccount,
    chosen: list[SelectedCollection],
    refresh: bool,
    ttl: timedelta,
    client: BackpackClient | None,
) -> tuple[_AccountBadges, bool]:
    # Badge Connect and OB 3.0 have no collections: every badge of the account is shown.
    badge_connect = provider.api_version.uses_oauth
    if not chosen and not badge_connect:
        return _AccountBadges(total_collections=0, badges=[], failures=[]), True
    with store.transaction() as tx:
        cached = tx.badge_cache.get(account.id)
    if cached is not None and not refresh and utcnow() - cached[1] < ttl:
        return _AccountBadges.model_validate_json(cached[0]), True
    try:
        if badge_connect:
            part = _read_badge_connect(store, provider, account, client)
        else:
            with BackpackApi(provider, account, store=store, client=client) as api:
                part = _read_account(api, provider, account, chosen)
    except BackpackError as exc:
        message = f"backpack {provider.web_url}: {exc}"
        part = _AccountBadges(total_collections=len(chosen), badges=[], failures=[message])
    if part.failures:
        # A partial read must not displace a good copy, nor be kept for the whole TTL.
        if cached is None:
            return part, False
        good = _AccountBadges.model_validate_json(cached[0])
        return good.model_copy(
            update={"stale_since": cached[1], "stale_reasons": part.failures}
        ), True
    with store.transaction() as tx:
        tx.badge_cache.save(account.id, part.model_dump_json())
    return part, False
