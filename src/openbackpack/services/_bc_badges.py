"""A Badge Connect (2.1) account's badges, shown like a Badgr account's (the fix of W14).

Moodle never read a 2.1 backpack back (``get.assertions`` was defined and never called).
Here every assertion of the account is listed (all pages, following ``Link``), and the badge
class and issuer each names by URL are fetched once, a few at a time, so that the badge shows
with its name, image, issuer and criteria, and the recipient is checked against the account's
email. Revoked assertions are not shown. 2.1 backpacks have no collections.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from openbackpack.api.badgeconnect import BadgeConnectApi
from openbackpack.client import map_bounded
from openbackpack.models import match_recipient
from openbackpack.store import BackpackAccount, Provider

__all__ = ["badge_connect_views", "iso_date"]


def iso_date(value: Any) -> datetime | None:
    """An ISO 8601 date-time of a document (``Z`` or an offset; none means UTC), or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _url(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) else None


def _fetch_all(api: BadgeConnectApi, urls: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """Fetch each URL once; return the documents found and a line per failure."""
    unique = list(dict.fromkeys(urls))
    found: dict[str, Any] = {}
    failures: list[str] = []
    for url, outcome in zip(unique, map_bounded(api.fetch_document, unique), strict=True):
        if isinstance(outcome, dict):
            found[url] = outcome
        else:
            failures.append(f"{url}: {outcome}")
    return found, failures


def _resolve(value: Any, documents: Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    return dict(documents.get(value, {})) if isinstance(value, str) else {}


def _recipient_check(item: Mapping[str, Any], email: str) -> tuple[bool, str]:
    if not isinstance(item.get("recipient"), Mapping):
        return False, "the backpack did not say who the recipient is"
    result = match_recipient({"recipient": item["recipient"]}, email)
    return result.matched, result.reason


def _view(
    item: Mapping[str, Any], badge: Mapping[str, Any], issuer: Mapping[str, Any], email: str
) -> dict[str, Any]:
    criteria = badge.get("criteria")
    verified, reason = _recipient_check(item, email)
    return {
        "assertion_id": str(item.get("id")),
        "collection_id": "",
        "name": badge.get("name"),
        "description": badge.get("description"),
        "image": _url(badge.get("image")) or _url(item.get("image")),
        "issuer_name": issuer.get("name"),
        "issuer_url": issuer.get("url"),
        "issuer_email": issuer.get("email"),
        "issued_on": iso_date(item.get("issuedOn")),
        "expires": iso_date(item.get("expires")),
        "hosted_url": str(item.get("id")),
        "criteria_url": _url(criteria),
        "criteria_narrative": criteria.get("narrative") if isinstance(criteria, Mapping) else None,
        "recipient_verified": verified,
        "recipient_check": reason,
    }


def badge_connect_views(
    api: BadgeConnectApi, provider: Provider, account: BackpackAccount
) -> tuple[list[dict[str, Any]], list[str]]:
    """The account's live assertions as view fields, and a line per part that failed."""
    items = [
        item
        for item in api.get_assertions()
        if isinstance(item.get("id"), str) and item.get("revoked") not in (True, "true")
    ]
    badge_urls = [item["badge"] for item in items if isinstance(item.get("badge"), str)]
    documents, failures = _fetch_all(api, badge_urls)
    badges = [_resolve(item.get("badge"), documents) for item in items]
    issuer_urls = [b["issuer"] for b in badges if isinstance(b.get("issuer"), str)]
    issuers, more = _fetch_all(api, issuer_urls)
    views = [
        _view(item, badge, _resolve(badge.get("issuer"), issuers), account.email)
        | {"provider_id": provider.id}
        for item, badge in zip(items, badges, strict=True)
    ]
    return views, failures + more
