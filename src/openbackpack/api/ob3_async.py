"""``AsyncOb3Api``: :class:`~openbackpack.api.ob3.Ob3Api` for ``async`` code.

The same methods, awaited, over the same pure core; the store (synchronous) is used from a
worker thread, and concurrent refreshes of one account wait on an anyio lock per event loop.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from openbackpack._exceptions import AuthenticationError, InvalidResponseError
from openbackpack.api._common import async_lock, in_thread
from openbackpack.api._ob3_core import MAX_PAGES, Credential, Ob3Core
from openbackpack.api._tokens import REFRESH_LEEWAY
from openbackpack.api.discovery import discover_manifest
from openbackpack.client import Answer, AsyncBackpackClient, Outgoing
from openbackpack.models.ob3 import Profile
from openbackpack.protocols import build_url
from openbackpack.protocols import ob3api as ob3
from openbackpack.store import BackpackAccount, BadgeConnectManifest, OAuthToken, Provider, Store

__all__ = ["AsyncOb3Api"]


class AsyncOb3Api:
    """A user's account on an Open Badges 3.0 API host, for ``async`` code.

    Arguments, results and errors are those of :class:`~openbackpack.api.ob3.Ob3Api`; the
    client is an :class:`~openbackpack.client.AsyncBackpackClient`. Discovery (a stored
    document while it is fresh) runs in a worker thread with a blocking client.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        provider: Provider,
        account: BackpackAccount,
        *,
        store: Store,
        client: AsyncBackpackClient | None = None,
        leeway: timedelta = REFRESH_LEEWAY,
    ) -> None:
        self._core = Ob3Core(provider, account, store, leeway)
        self.provider = provider
        self.account = account
        self._store = store
        self._owns_client = client is None
        self._client = client if client is not None else AsyncBackpackClient()
        self._manifest: BadgeConnectManifest | None = None

    # --- credentials ------------------------------------------------------------------

    async def iter_credential_pages(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        since: datetime | None = None,
    ) -> AsyncIterator[ob3.CredentialsPage]:
        """Yield ``getCredentials`` pages, following ``Link: rel="next"`` (see ``Ob3Api``)."""
        api_base = await self.api_base()
        url: str | None = self._core.first_page_url(api_base, limit, offset, since)
        seen: set[str] = set()
        while url is not None and len(seen) < MAX_PAGES:
            seen.add(url)
            current = url
            answer = await self._send(
                functools.partial(self._core.request, self._client, "credentials.list", current)
            )
            page = await in_thread(functools.partial(self._core.page, answer))
            yield page
            url = self._core.next_url(current, page, api_base, seen)
        if url is not None:
            raise InvalidResponseError(f"more than {MAX_PAGES} pages of credentials")

    async def get_credentials(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        since: datetime | None = None,
    ) -> list[Credential]:
        """Every credential of the account (all pages): JSON objects and compact JWS strings."""
        found: list[Credential] = []
        async for page in self.iter_credential_pages(limit=limit, offset=offset, since=since):
            found.extend(self._core.items(page))
        return found

    async def upsert_credential(self, credential: Mapping[str, Any] | str) -> ob3.UpsertResult:
        """Add or replace a credential: ``created`` (201) or replaced (200)."""
        body: Credential = credential if isinstance(credential, str) else dict(credential)
        api_base = await self.api_base()
        answer = await self._send(
            lambda token: self._core.upsert_request(self._client, api_base, body, token)
        )
        return await in_thread(lambda: self._core.upserted(answer))

    # --- profile ----------------------------------------------------------------------

    async def get_profile(self) -> Profile:
        """The account's profile (an OB 3.0 ``Profile``)."""
        url = build_url(ob3.route("profile.get"), await self.api_base())
        answer = await self._send(
            lambda token: self._core.request(self._client, "profile.get", url, token)
        )
        return await in_thread(lambda: self._core.profile(answer))

    async def put_profile(self, profile: Profile | Mapping[str, Any]) -> Profile:
        """Replace the account's profile with ``profile``; the result."""
        api_base = await self.api_base()
        answer = await self._send(
            lambda token: self._core.profile_request(self._client, api_base, profile, token)
        )
        return await in_thread(lambda: self._core.profile(answer, "profile.update"))

    # --- tokens -----------------------------------------------------------------------

    async def manifest(self) -> BadgeConnectManifest:
        """What the service description says (read once per instance, stored while fresh)."""
        if self._manifest is None:
            provider_id = self.provider.id
            self._manifest = await in_thread(lambda: discover_manifest(self._store, provider_id))
        return self._manifest

    async def api_base(self) -> str:
        """The host's API base (``…/ims/ob/v3p0``)."""
        return (await self.manifest()).api_base

    async def access_token(self, rejected: str | None = None) -> str:
        """A usable access token, refreshed first when it expires within the leeway.

        Raises:
            ReauthorizationRequiredError: no token, no refresh token, or a refused refresh.
        """
        tokens = self._core.tokens
        token = await in_thread(tokens.stored)
        found = tokens.usable(token, rejected)
        if found is not None:
            return found
        async with async_lock(self._core):
            token = await in_thread(tokens.stored)
            found = tokens.usable(token, rejected)
            if found is not None:
                return found
            return (await self._refresh(token)).access_token.reveal()

    async def revoke(self) -> bool:
        """Revoke the account's tokens (RFC 7009); False, doing nothing, when impossible."""
        manifest = await self.manifest()
        requests = await in_thread(
            lambda: self._core.tokens.revocation_requests(self._client, manifest)
        )
        for outgoing in requests:
            self._client.checked(outgoing, await self._client.send(outgoing))
        return bool(requests)

    # --- lifecycle --------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the HTTP client, if this API created it."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> AsyncOb3Api:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- internals --------------------------------------------------------------------

    async def _send(self, build: Callable[[str], Outgoing]) -> Answer:
        """Send with the token; on a 401, refresh once and send again."""
        token = await self.access_token()
        answer = await self._client.send(build(token))
        if answer.status_code != 401:
            return answer
        return await self._client.send(build(await self.access_token(rejected=token)))

    async def _refresh(self, token: OAuthToken) -> OAuthToken:
        tokens = self._core.tokens
        manifest = await self.manifest()
        outgoing = await in_thread(lambda: tokens.refresh_request(self._client, token, manifest))
        try:
            grant = self._client.token_grant(await self._client.send(outgoing), "refresh")
        except AuthenticationError as exc:
            error = exc
            return await in_thread(lambda: tokens.refused(token, error))
        return await in_thread(lambda: tokens.save(grant, token))
