"""``Ob3Api``: one user's account on an Open Badges 3.0 API host (``/ims/ob/v3p0``), blocking.

The successor of Badge Connect, with the same OAuth 2 shape: the host is discovered from its
service description (kept with its validators), this site registers itself (RFC 7591), the
user authorizes it with PKCE (:func:`openbackpack.services.begin_oauth_connection`), and the
tokens are sealed in the store, refreshed 60 s before they expire (once under concurrency) and
revoked on disconnect. :class:`~openbackpack.api.ob3_async.AsyncOb3Api` is the same class for
``async`` code; both sit on one pure core.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from openbackpack._exceptions import InvalidResponseError
from openbackpack.api._ob3_core import MAX_PAGES, Credential, Ob3Core
from openbackpack.api._session import OAuthAccountApi
from openbackpack.api._tokens import REFRESH_LEEWAY
from openbackpack.client import BackpackClient
from openbackpack.models.ob3 import Profile
from openbackpack.protocols import build_url
from openbackpack.protocols import ob3api as ob3
from openbackpack.store import BackpackAccount, Provider, Store

__all__ = ["Ob3Api"]


class Ob3Api(OAuthAccountApi):
    """A user's account on an Open Badges 3.0 API host.

    Args:
        provider: a 3.0 site backpack; its service description is read (or taken from the
            store while fresh).
        account: the user's account on it, connected with
            :func:`openbackpack.services.complete_oauth_connection`.
        store: where the description, the client registration and the tokens are.
        client: a :class:`~openbackpack.client.BackpackClient` to share; by default one is
            created and closed by :meth:`close`.
        leeway: refresh a token that expires within this much time.

    Raises:
        UnsupportedActionError: the provider is not a 3.0 backpack.
        InvalidInputError: the account belongs to another provider.

    Every call raises :class:`~openbackpack.ReauthorizationRequiredError` when the token
    expired (or was refused) and cannot be refreshed,
    :class:`~openbackpack.ScopeNotGrantedError` when the host refuses an action whose scope it
    did not grant, and the typed errors of an ``Imsx_StatusInfo`` answer.

    .. versionadded:: 0.1
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
        self._core = Ob3Core(provider, account, store, leeway)
        super().__init__(self._core.tokens, client)

    # --- credentials ------------------------------------------------------------------

    def iter_credential_pages(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        since: datetime | None = None,
    ) -> Iterator[ob3.CredentialsPage]:
        """Yield ``getCredentials`` pages, following ``Link: rel="next"``.

        ``limit``, ``offset`` and ``since`` go into the first request only; each page says
        the host's ``X-Total-Count`` (``page.total``). The next URL is the host's and must
        stay on the API base's origin.

        Raises:
            InvalidResponseError: a ``next`` link leads elsewhere, or pages never end.
            InvalidInputError: a limit below 1 or an offset below 0.
        """
        url: str | None = self._core.first_page_url(self.api_base, limit, offset, since)
        seen: set[str] = set()
        while url is not None and len(seen) < MAX_PAGES:
            seen.add(url)
            current = url
            answer = self._session.send(
                functools.partial(self._core.request, self._client, "credentials.list", current)
            )
            page = self._core.page(answer)
            yield page
            url = self._core.next_url(current, page, self.api_base, seen)
        if url is not None:
            raise InvalidResponseError(f"more than {MAX_PAGES} pages of credentials")

    def get_credentials(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        since: datetime | None = None,
    ) -> list[Credential]:
        """Every credential of the account (all pages): JSON objects and compact JWS strings."""
        pages = self.iter_credential_pages(limit=limit, offset=offset, since=since)
        return [item for page in pages for item in self._core.items(page)]

    def upsert_credential(self, credential: Mapping[str, Any] | str) -> ob3.UpsertResult:
        """Add or replace a credential (JSON, or a VC-JWT as ``text/plain``).

        Returns:
            ``created`` True for a 201 (new), False for a 200 (it replaced the credential
            with the same ``id``, or issuer, achievement and subject); the host's echo.

        Raises:
            RemoteValidationError: the host refused it (an invalid or tampered credential).
            InvalidInputError: text that is not a compact JWS.
        """
        body: Credential = credential if isinstance(credential, str) else dict(credential)
        answer = self._session.send(
            lambda token: self._core.upsert_request(self._client, self.api_base, body, token)
        )
        return self._core.upserted(answer)

    # --- profile ----------------------------------------------------------------------

    def get_profile(self) -> Profile:
        """The account's profile (an OB 3.0 ``Profile``)."""
        endpoint = ob3.route("profile.get")
        url = build_url(endpoint, self.api_base)
        answer = self._session.send(
            lambda token: self._core.request(self._client, "profile.get", url, token)
        )
        return self._core.profile(answer)

    def put_profile(self, profile: Profile | Mapping[str, Any]) -> Profile:
        """Replace the account's profile with ``profile`` (the whole of it); the result."""
        answer = self._session.send(
            lambda token: self._core.profile_request(self._client, self.api_base, profile, token)
        )
        return self._core.profile(answer, "profile.update")
