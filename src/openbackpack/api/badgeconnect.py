"""``BadgeConnectApi``: one user's Badge Connect (Open Badges 2.1) backpack, blocking.

Moodle's ``backpack_api2p1`` only pushes (``POST /assertions``), never reads back, and keeps
tokens in plain text refreshed with the secret in the body (W12, W14). This class also reads
assertions (following ``Link`` headers, never computing offsets) and the profile, keeps tokens
sealed in the store, refreshes them 60 s before they expire with the client authentication
the registration chose, lets concurrent callers refresh once, and revokes them (RFC 7009).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urljoin

from openbackpack._exceptions import (
    InvalidResponseError,
    UnsupportedActionError,
)
from openbackpack.api._session import OAuthAccountApi
from openbackpack.api._tokens import REFRESH_LEEWAY, TokenCore, expiry_of, needs_refresh
from openbackpack.api.discovery import DOCUMENT
from openbackpack.client import Answer, BackpackClient
from openbackpack.models import ApiVersion
from openbackpack.models.badgeconnect import BadgeConnectProfile, StatusInfo
from openbackpack.protocols import Endpoint, build_url, decode_json, origin_of
from openbackpack.protocols import badgeconnect as bc
from openbackpack.store import (
    BackpackAccount,
    Provider,
    Store,
)

__all__ = ["REFRESH_LEEWAY", "BadgeConnectApi", "expiry_of", "needs_refresh"]

MAX_PAGES: Final = 10_000
"""A bound on the pages of one listing, against a host whose ``next`` links never end."""


class BadgeConnectApi(OAuthAccountApi):
    """A user's account on a Badge Connect (2.1) backpack.

    Args:
        provider: a 2.1 site backpack; its manifest is read (or taken from the store).
        account: the user's account on it, connected with
            :func:`openbackpack.services.complete_oauth_connection`.
        store: where the manifest, the client registration and the tokens are.
        client: a :class:`~openbackpack.client.BackpackClient` to share; by default one is
            created and closed by :meth:`close`.
        leeway: refresh a token that expires within this much time.

    Raises:
        UnsupportedActionError: the provider is not a 2.1 backpack.
        InvalidInputError: the account belongs to another provider.

    Every call raises :class:`~openbackpack.ReauthorizationRequiredError` when the token
    expired (or was refused) and cannot be refreshed, and the typed errors of the client.
    """

    def __init__(
        self,
        provider: Provider,
        account: BackpackAccount,
        *,
        store: Store,
        client: BackpackClient | None = None,
        leeway: timedelta = REFRESH_LEEWAY,
    ) -> None:
        if provider.api_version is not ApiVersion.V2P1:
            raise UnsupportedActionError("Badge Connect", provider.api_version.value, "user")
        super().__init__(TokenCore(provider, account, store, leeway), client)

    # --- reading and writing ------------------------------------------------------------

    def iter_assertion_pages(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        since: datetime | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield the account's assertions a page at a time, following ``Link: rel="next"``.

        ``limit``, ``offset`` and ``since`` go into the first request only. The next URL is
        whatever the host says (offsets are never computed here, the specification forbids
        it); it must stay on the apiBase's origin, since the token is sent to it.

        Raises:
            InvalidResponseError: a ``next`` link leads elsewhere, or pages never end.
        """
        query: list[tuple[str, str]] = []
        if limit is not None:
            query.append(("limit", str(limit)))
        if offset is not None:
            query.append(("offset", str(offset)))
        if since is not None:
            query.append(("since", since.isoformat()))
        endpoint = bc.route("assertions.list")
        url: str | None = build_url(endpoint, self.api_base, query=query)
        seen: set[str] = set()
        while url is not None and len(seen) < MAX_PAGES:
            seen.add(url)
            answer = self._authorized(endpoint, url)
            if not answer.is_success:
                raise bc.error_of(
                    answer.status_code, answer.content, answer.headers, action=endpoint.name
                )
            yield bc.assertions_of(answer.content)
            url = self._next(url, answer, seen)
        if url is not None:
            raise InvalidResponseError(f"more than {MAX_PAGES} pages of assertions")

    def get_assertions(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        since: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Every assertion of the account (all pages), newest first as the host orders them."""
        pages = self.iter_assertion_pages(limit=limit, offset=offset, since=since)
        return [item for page in pages for item in page]

    def put_assertion(self, assertion: Mapping[str, Any]) -> StatusInfo:
        """Push an Open Badges 2.0 assertion: ``POST {"assertion": ...}`` (Moodle's export).

        Returns:
            the answer's status, whose ``statusCode`` is 200 (HTTP 200 or Badgr's 201).

        Raises:
            DuplicateBadgeError: Badgr's ``DUPLICATE_BADGE``.
            RemoteValidationError: the host refused it; ``validation_errors`` holds
                ``status.error`` whether it came as a string or a list.
        """
        endpoint = bc.route("assertions.create")
        url = build_url(endpoint, self.api_base)
        answer = self._authorized(endpoint, url, {"assertion": dict(assertion)})
        return bc.push_result(answer.status_code, answer.content, answer.headers)

    def get_profile(self) -> BadgeConnectProfile:
        """The account's profile (``profile``, or Badgr's ``results[0]``)."""
        return self._profile(bc.route("profile.get"), None)

    def update_profile(self, changes: Mapping[str, Any]) -> BadgeConnectProfile:
        """Send new profile properties (``name``, ``email``...); returns the profile after."""
        return self._profile(bc.route("profile.update"), dict(changes))

    def fetch_document(self, url: str) -> dict[str, Any]:
        """GET an Open Badges document an assertion names (a badge class, an issuer).

        No token is sent: these are public, and may live on any host.

        Raises:
            InvalidResponseError: the answer is not a JSON object.
        """
        if not url.startswith(("http://", "https://")):
            raise InvalidResponseError(f"not an http(s) URL: {url[:200]!r}")
        headers = {"Accept": "application/ld+json, application/json"}
        outgoing = self._client.outgoing_to(DOCUMENT, url, headers=headers)
        answer = self._client.checked(outgoing, self._client.send(outgoing))
        document = decode_json(answer.content)
        if not isinstance(document, dict):
            raise InvalidResponseError(f"{url} did not answer a JSON object")
        return document

    # --- internals -----------------------------------------------------------------------

    def _authorized(self, endpoint: Endpoint, url: str, data: Any = None) -> Answer:
        """Send with the token; on a 401, refresh once and send again."""
        return self._session.send(
            lambda token: self._client.outgoing_to(endpoint, url, data=data, token=token)
        )

    def _next(self, url: str, answer: Answer, seen: set[str]) -> str | None:
        target = bc.parse_links(answer.headers.get("link")).get("next")
        if not target:
            return None
        target = urljoin(url, target)
        if origin_of(target) != origin_of(self.api_base):
            raise InvalidResponseError(
                f"the next page is on another origin ({origin_of(target)}); not following it"
            )
        # A host that links a page to itself (or back) would loop: stop there.
        return None if target in seen else target

    def _profile(self, endpoint: Endpoint, data: Any) -> BadgeConnectProfile:
        answer = self._authorized(endpoint, build_url(endpoint, self.api_base), data)
        if not answer.is_success:
            raise bc.error_of(
                answer.status_code, answer.content, answer.headers, action=endpoint.name
            )
        return bc.profile_of(answer.content)
