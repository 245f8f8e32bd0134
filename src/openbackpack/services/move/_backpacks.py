"""Badgr (v2) and Badge Connect (2.1) accounts, each usable as a move's source and target.

Both kinds take only hosted Open Badges 2.0 assertions, which they verify by fetching the
assertion's ``id``: a badge whose issuer host is gone cannot go in, nor can a signed 2.0
badge or an Open Badges 3.0 credential.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Final

from openbackpack.api import BackpackApi, BadgeConnectApi
from openbackpack.client import BackpackClient
from openbackpack.protocols import badgr
from openbackpack.services._connect import import_key_prefix
from openbackpack.services.move._model import HeldBadge, MoveItem, SourceBadge
from openbackpack.services.move._verdict import held_matches
from openbackpack.store import BackpackAccount, Provider, Store

__all__ = [
    "READ_PAGE_SIZE",
    "AccountSide",
    "BadgeConnectBackpack",
    "BadgrBackpack",
    "hosted_refusal",
]

READ_PAGE_SIZE: Final = 500
"""The page size a move asks paged lists for: each page is a request at the host's rate
limit. 500 is the most the reference host gives; a host giving fewer links the next page."""

_LIST_QUERY: Final = (
    ("include_expired", "1"),
    ("include_revoked", "1"),
    ("expand", "badgeclass"),
    ("expand", "issuer"),
)


def hosted_refusal(item: MoveItem, kind: str) -> str | None:
    """Why a host that takes only hosted 2.0 badges (fetching them) cannot take this one."""
    if item.facts.format == "ob3":
        return f"an Open Badges 3.0 credential cannot go into a {kind}, which takes only 2.0"
    if item.facts.format != "ob2" or item.facts.id is None:
        return "the badge names no assertion id the target could fetch"
    if not item.facts.hosted:
        return f"a signed 2.0 badge cannot go into a {kind}, which takes only hosted badges"
    if item.issuer_gone:
        return (
            f"its issuer's hosted documents cannot be read, and a {kind} fetches them to "
            "import the badge"
        )
    if item.recipient is None:
        return f"its recipient is none of the account's verified emails, which a {kind} checks"
    return None


def _id(value: Any) -> str | None:
    found = value.get("id") if isinstance(value, Mapping) else value
    return found if isinstance(found, str) else None


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]


class AccountSide:
    """What every account kind shares: its store, provider, account and client."""

    def __init__(
        self,
        store: Store,
        provider: Provider,
        account: BackpackAccount,
        client: BackpackClient,
    ) -> None:
        self.store = store
        self.provider = provider
        self.account = account
        self.client = client

    @property
    def emails(self) -> tuple[str, ...]:
        """The account's verified email."""
        return (self.account.email,)

    @property
    def claim_scope(self) -> tuple[int, str]:
        """Creates here are claimed per provider, under this account's import prefix.

        The prefix of imports: a disconnect or an erasure of the account forgets them too.
        """
        return self.provider.id, import_key_prefix(self.account.id) + "move:"

    def find(self, item: MoveItem) -> Iterable[str]:
        """What the account holds that has this badge's id."""
        return [h.remote_id for h in self.holdings() if held_matches(item, h.id, h.format)]

    def holdings(self) -> list[HeldBadge]:  # pragma: no cover - every kind overrides it
        raise NotImplementedError


class BadgrBackpack(AccountSide):
    """A learner's Badgr (v2) backpack: every assertion, imports by URL or baked image."""

    @property
    def label(self) -> str:
        """``Badgr backpack N (email)``."""
        return f"Badgr backpack {self.provider.id} ({self.account.email})"

    @property
    def deletion(self) -> str | None:
        """Badgr removes an assertion from a backpack with ``DELETE``."""
        return None

    def _api(self) -> BackpackApi:
        return BackpackApi(self.provider, self.account, store=self.store, client=self.client)

    def _items(self) -> list[dict[str, Any]]:
        with self._api() as api:
            route = badgr.route("backpack.assertions.list")
            return [dict(item) for item in api.list_items(route, query=_LIST_QUERY)]

    def read(self) -> list[SourceBadge]:
        """Every assertion of the backpack (revoked and expired ones too), by its hosted URL."""
        badges = []
        for item in self._items():
            url = item.get("openBadgeId")
            if not isinstance(url, str):
                continue
            where = f"{self.label} assertion {item.get('entityId')}"
            badges.append(SourceBadge(url, where, url, remote_id=str(item.get("entityId"))))
        return badges

    def delete(self, badge: SourceBadge) -> None:
        """Remove the assertion from the backpack."""
        assert badge.remote_id is not None
        with self._api() as api:
            api.remove_backpack_assertion(badge.remote_id)

    def holdings(self) -> list[HeldBadge]:
        """What the backpack shows, one entry per assertion."""
        return [
            HeldBadge(
                remote_id=str(item.get("entityId")),
                id=_id(item.get("openBadgeId")),
                issuer=_id(item.get("issuerOpenBadgeId")),
                achievement=_id(item.get("badgeclassOpenBadgeId")),
                recipient=item.get("recipient"),
                payload=_id(item.get("openBadgeId")),
            )
            for item in self._items()
        ]

    def refusal(self, item: MoveItem) -> str | None:
        """Only hosted 2.0 badges, whose issuer answers, to one of the account's emails."""
        return hosted_refusal(item, "Badgr v2 backpack")

    def method(self, item: MoveItem) -> str:
        """By the baked image when the source has it, else by the assertion's URL."""
        return "v2 import by baked image" if item.source.image else "v2 import by URL"

    def put(self, item: MoveItem) -> str:
        """Import the badge; the backpack fetches and verifies it."""
        with self._api() as api:
            image = item.source.image
            if image is not None:
                media = "image/png" if image.startswith(b"\x89PNG") else "image/svg+xml"
                return api.import_badge_image(image, media).id
            assert item.facts.id is not None
            return api.import_badge_assertion(item.facts.id).id


class BadgeConnectBackpack(AccountSide):
    """A learner's Badge Connect (2.1) account: reads every page, POSTs assertions."""

    @property
    def label(self) -> str:
        """``Badge Connect backpack N (email)``."""
        return f"Badge Connect backpack {self.provider.id} ({self.account.email})"

    @property
    def deletion(self) -> str | None:
        """Badge Connect 2.1 has no way to delete an assertion."""
        return "the Badge Connect 2.1 API has no way to delete an assertion"

    def _api(self) -> BadgeConnectApi:
        return BadgeConnectApi(self.provider, self.account, store=self.store, client=self.client)

    def _documents(self) -> list[dict[str, Any]]:
        with self._api() as api:
            return api.get_assertions(limit=READ_PAGE_SIZE)

    def read(self) -> list[SourceBadge]:
        """Every assertion of the account, each an Open Badges 2.0 document."""
        badges = []
        for document in self._documents():
            key = _id(document) or _short(repr(sorted(document)))
            badges.append(SourceBadge(key, f"{self.label} assertion {key}", document))
        return badges

    def delete(self, badge: SourceBadge) -> None:  # pragma: no cover - deletion is refused first
        """Never called: see :attr:`deletion`."""
        raise NotImplementedError(self.deletion)

    def _remote_id(self, badge_id: str) -> str:
        # Badge Connect gives its assertions no ids of their own; the claims need a unique one.
        return f"bc:{self.account.id}:{_short(badge_id)}"

    def holdings(self) -> list[HeldBadge]:
        """What the account shows, one entry per assertion."""
        held = []
        for document in self._documents():
            badge = document.get("badge")
            issuer = badge.get("issuer") if isinstance(badge, Mapping) else None
            badge_id = _id(document)
            held.append(
                HeldBadge(
                    remote_id=self._remote_id(badge_id or repr(document)),
                    id=badge_id,
                    issuer=_id(issuer),
                    achievement=_id(badge),
                    recipient=document.get("recipient"),
                    payload=document,
                )
            )
        return held

    def refusal(self, item: MoveItem) -> str | None:
        """Only hosted 2.0 badges, whose issuer answers, to one of the account's emails."""
        return hosted_refusal(item, "Badge Connect 2.1 backpack")

    def method(self, item: MoveItem) -> str:
        """Always the assertion itself."""
        return "2.1 POST assertion"

    def put(self, item: MoveItem) -> str:
        """POST the verified assertion; the backpack fetches its ``id`` and checks it."""
        document = item.facts.document
        assert item.facts.id is not None
        assertion = dict(document) if isinstance(document, Mapping) else {"id": item.facts.id}
        with self._api() as api:
            api.put_assertion(assertion)
        return self._remote_id(item.facts.id)
