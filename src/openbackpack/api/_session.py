"""Sending as one OAuth 2 account, blocking: the token refreshed before expiry and on a 401.

The async twin is :class:`openbackpack.api.ob3_async.AsyncOb3Api`'s session; both send what
:class:`~openbackpack.api._tokens.TokenCore` builds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from openbackpack._exceptions import AuthenticationError
from openbackpack.api._common import sync_lock
from openbackpack.api._tokens import TokenCore
from openbackpack.api.discovery import discover_manifest
from openbackpack.client import Answer, BackpackClient, Outgoing
from openbackpack.store import BadgeConnectManifest, OAuthToken

__all__ = ["OAuthAccountApi", "OAuthSession"]


class OAuthSession:
    """The tokens of one account, used and renewed with a blocking client."""

    def __init__(
        self,
        core: TokenCore,
        client: BackpackClient,
        manifest: Callable[[], BadgeConnectManifest],
    ) -> None:
        self.core = core
        self._client = client
        self._manifest = manifest

    def access_token(self, rejected: str | None = None) -> str:
        """A usable access token, refreshed first when it expires within the leeway.

        ``rejected`` is a token the host just refused: unless another caller already replaced
        it, it is refreshed whatever its expiry says. Concurrent callers refresh once: the
        lock is per (database, provider, account) and the store is read again inside it.

        Raises:
            ReauthorizationRequiredError: no token, no refresh token, or a refused refresh.
        """
        found = self.core.usable(self.core.stored(), rejected)
        if found is not None:
            return found
        with sync_lock(self.core):
            token = self.core.stored()
            found = self.core.usable(token, rejected)
            if found is not None:
                return found
            return self._refresh(token).access_token.reveal()

    def send(self, build: Callable[[str], Outgoing]) -> Answer:
        """Send the request ``build(token)`` makes; on a 401, refresh once and send again."""
        token = self.access_token()
        answer = self._client.send(build(token))
        if answer.status_code != 401:
            return answer
        return self._client.send(build(self.access_token(rejected=token)))

    def revoke(self) -> bool:
        """Revoke the account's tokens (RFC 7009); False, doing nothing, when impossible.

        Raises:
            APIStatusError, TransportError: the host failed to answer 200.
        """
        requests = self.core.revocation_requests(self._client, self._manifest())
        for outgoing in requests:
            self._client.checked(outgoing, self._client.send(outgoing))
        return bool(requests)

    def _refresh(self, token: OAuthToken) -> OAuthToken:
        outgoing = self.core.refresh_request(self._client, token, self._manifest())
        try:
            grant = self._client.token_grant(self._client.send(outgoing), "refresh")
        except AuthenticationError as exc:
            return self.core.refused(token, exc)
        return self.core.save(grant, token)


class OAuthAccountApi:
    """What the blocking API classes of OAuth 2 accounts share (Badge Connect, OB 3.0).

    The manifest (or service description) read once per instance, the token session over a
    client that is shared or owned, revocation, and the context manager.
    """

    def __init__(self, core: TokenCore, client: BackpackClient | None) -> None:
        self.provider = core.provider
        self.account = core.account
        self._store = core.store
        self._owns_client = client is None
        self._client = client if client is not None else BackpackClient()
        self._manifest: BadgeConnectManifest | None = None
        self._session = OAuthSession(core, self._client, lambda: self.manifest)

    @property
    def manifest(self) -> BadgeConnectManifest:
        """What the host's manifest says (read once per instance, stored while fresh)."""
        if self._manifest is None:
            self._manifest = discover_manifest(self._store, self.provider.id, client=self._client)
        return self._manifest

    @property
    def api_base(self) -> str:
        """The host's API base (Badge Connect's ``apiBase``, OB 3.0's ``…/ims/ob/v3p0``)."""
        return self.manifest.api_base

    def access_token(self, rejected: str | None = None) -> str:
        """A usable access token, refreshed first when it expires within the leeway.

        ``rejected`` is a token the host just refused: unless another caller already replaced
        it, it is refreshed whatever its expiry says. Concurrent callers refresh once: the
        lock is per (database, provider, account) and the store is read again inside it.

        Raises:
            ReauthorizationRequiredError: no token, no refresh token, or a refused refresh.
        """
        return self._session.access_token(rejected)

    def revoke(self) -> bool:
        """Revoke the account's tokens at the host (RFC 7009), when it offers revocation.

        The refresh token goes first (a host revokes its access tokens with it), then the
        access token. Returns False, doing nothing, when the host announced no revocation
        URL or there is no token.

        Raises:
            APIStatusError, TransportError: the host failed to answer 200.
        """
        return self._session.revoke()

    def close(self) -> None:
        """Close the HTTP client, if this API created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
