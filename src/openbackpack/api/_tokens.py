"""The tokens of one OAuth 2 account (Badge Connect 2.1, OB 3.0 API): what to do, not doing it.

:class:`TokenCore` reads and writes the store (synchronously; the async twin runs it in a
worker thread), decides whether a token must be refreshed, and builds the refresh and
revocation requests; the blocking and the async sessions only send them and hold the lock.
A token that expires within the leeway is refreshed first; one the host refused is refreshed
unless another caller already replaced it; the store is read again under the lock, so that
concurrent callers refresh once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from openbackpack._exceptions import (
    AuthenticationError,
    ConfigurationError,
    InvalidInputError,
    ReauthorizationRequiredError,
)
from openbackpack.api.discovery import client_headers, generation, oauth_route
from openbackpack.client import AsyncBackpackClient, BackpackClient, Outgoing
from openbackpack.models import TokenGrant
from openbackpack.protocols import badgeconnect as bc
from openbackpack.store import (
    BackpackAccount,
    BadgeConnectManifest,
    OAuthClient,
    OAuthToken,
    Provider,
    Store,
)
from openbackpack.store._types import utcnow

__all__ = ["REFRESH_LEEWAY", "TokenCore", "expiry_of", "needs_refresh"]

REFRESH_LEEWAY: Final = timedelta(seconds=60)
"""A token this close to its expiry is refreshed before use."""

Http = BackpackClient | AsyncBackpackClient


def expiry_of(grant: TokenGrant, now: datetime) -> datetime | None:
    """When a granted token expires, or None when the host did not say (``expires_in``)."""
    if grant.expires_in is None:
        return None
    return now + timedelta(seconds=max(0, grant.expires_in))


def needs_refresh(token: OAuthToken, now: datetime, leeway: timedelta = REFRESH_LEEWAY) -> bool:
    """Whether a stored token expires within ``leeway`` (a token with no expiry never does)."""
    return token.expires_at is not None and token.expires_at - leeway <= now


class TokenCore:
    """The stored tokens of one account on one OAuth provider, and the requests they need."""

    def __init__(
        self,
        provider: Provider,
        account: BackpackAccount,
        store: Store,
        leeway: timedelta = REFRESH_LEEWAY,
    ) -> None:
        if account.provider_id != provider.id:
            raise InvalidInputError(f"account {account.id} is not on provider {provider.id}")
        self.provider = provider
        self.account = account
        self.store = store
        self.leeway = leeway

    @property
    def key(self) -> tuple[int, int]:
        """What the refresh lock is keyed by: (provider, account)."""
        return (self.provider.id, self.account.id)

    def stored(self) -> OAuthToken:
        """The account's stored token.

        Raises:
            ReauthorizationRequiredError: the account holds none.
        """
        with self.store.transaction() as tx:
            token = tx.oauth_tokens.get(self.account.id)
        if token is None:
            raise ReauthorizationRequiredError(
                f"account {self.account.id} holds no token for backpack {self.provider.id}; "
                "connect it again",
                provider_id=self.provider.id,
            )
        return token

    def usable(self, token: OAuthToken, rejected: str | None) -> str | None:
        """The token's access token if it can be used as it is, else None (refresh it).

        ``rejected`` is an access token the host just refused: a stored token that differs
        from it was renewed by another caller meanwhile and is used.
        """
        current = token.access_token.reveal()
        if rejected is not None:
            return current if current != rejected else None
        return None if needs_refresh(token, utcnow(), self.leeway) else current

    def registered_client(self, token: OAuthToken) -> OAuthClient:
        """The client ``token`` was issued to (a host refreshes only for that one)."""
        with self.store.transaction() as tx:
            registered = (
                tx.oauth_clients.by_id(token.oauth_client_id)
                if token.oauth_client_id is not None
                else tx.oauth_clients.get(self.provider.id)
            )
        if registered is None:
            raise ConfigurationError(f"backpack {self.provider.id} has no registered client")
        return registered

    def refresh_request(
        self, http: Http, token: OAuthToken, manifest: BadgeConnectManifest
    ) -> Outgoing:
        """The refresh grant's request, the client authenticated as registered.

        Raises:
            ReauthorizationRequiredError: the host gave no refresh token.
        """
        if token.refresh_token is None:
            raise ReauthorizationRequiredError(
                "the access token expired and the backpack gave no refresh token; connect again",
                provider_id=self.provider.id,
            )
        headers, extra = client_headers(self.registered_client(token))
        form = {**bc.refresh_form(token.refresh_token.reveal()), **extra}
        route = oauth_route(generation(manifest), "token")
        return http.outgoing_to(
            route, manifest.token_url, data=form, headers=headers, action="refresh"
        )

    def refused(self, token: OAuthToken, error: AuthenticationError) -> OAuthToken:
        """After a refused refresh: another process's fresh token, else reauthorization.

        Another process may have rotated the refresh token a moment ago (the lock only spans
        this one): its token in the store is as good as ours would have been.

        Raises:
            ReauthorizationRequiredError: no such token; connect again.
        """
        current = self.stored()
        if current.access_token != token.access_token and not needs_refresh(
            current, utcnow(), self.leeway
        ):
            return current
        raise ReauthorizationRequiredError(
            f"the backpack refused to refresh the token ({error.error or error.status_code}); "
            "connect again",
            provider_id=self.provider.id,
        ) from error

    def save(self, grant: TokenGrant, previous: OAuthToken) -> OAuthToken:
        """Store a refreshed token (sealed), keeping what the answer left out.

        RFC 6749 §5.1/§6: an answer may leave out ``scope`` (unchanged) and ``refresh_token``
        (the old one stays valid); Moodle failed on a missing scope (W12).
        """
        refresh = grant.refresh_token or previous.refresh_token
        with self.store.transaction() as tx:
            return tx.oauth_tokens.save(
                self.account.id,
                grant.access_token,
                refresh,
                expiry_of(grant, utcnow()),
                grant.scope or previous.scope,
                oauth_client_id=previous.oauth_client_id,
            )

    def revocation_requests(self, http: Http, manifest: BadgeConnectManifest) -> list[Outgoing]:
        """The RFC 7009 requests that revoke the account's tokens, refresh token first.

        Empty when the host announced no revocation endpoint or the account holds no token.
        """
        url = manifest.revocation_url
        with self.store.transaction() as tx:
            token = tx.oauth_tokens.get(self.account.id)
        if url is None or token is None:
            return []
        headers, extra = client_headers(self.registered_client(token))
        route = oauth_route(generation(manifest), "revoke")
        pairs = [(token.refresh_token, "refresh_token"), (token.access_token, "access_token")]
        return [
            http.outgoing_to(
                route,
                url,
                data={**bc.revocation_form(secret.reveal(), hint), **extra},
                headers=headers,
            )
            for secret, hint in pairs
            if secret is not None
        ]
