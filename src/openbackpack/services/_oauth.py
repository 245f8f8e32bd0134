"""Connecting a user's Badge Connect (2.1) or OB 3.0 backpack: OAuth 2 code flow with PKCE.

An Open Badges 3.0 API host is set up from its service description instead of a manifest;
the rest of the flow is the same.

:func:`begin_oauth_connection` discovers the host (manifest cached with its ETag), registers
this site as a client when needed (RFC 7591), remembers a pending authorization under a fresh
``state`` (stored hashed, PKCE verifier sealed, ten minutes, single use) and returns the URL to
send the user's browser to. :func:`complete_oauth_connection` takes the ``state`` and ``code``
the browser comes back with, trades the code (HTTP Basic, PKCE verifier), stores the tokens
sealed and the account. Any web server can drive it; the CLI runs it on a loopback listener.

Fixed from Moodle (moodle-backpack.md §5.2): the first offered scope is never dropped (W11);
one verifier per ``state`` instead of per session, states expire and are checked, a missing
``scope`` or ``refresh_token`` in the token answer is no failure, refreshes authenticate as the
registration says (W12).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from datetime import timedelta
from typing import Final
from urllib.parse import urlsplit

from openbackpack._exceptions import (
    BackpackError,
    ConfigurationError,
    InvalidInputError,
    UnsupportedActionError,
)
from openbackpack.api.discovery import (
    discover_manifest,
    exchange_code,
    generation,
    register_client,
    registered_redirects,
    using,
)
from openbackpack.client import BackpackClient
from openbackpack.models import ApiVersion, TokenGrant
from openbackpack.protocols import badgeconnect as bc
from openbackpack.protocols import build_url
from openbackpack.protocols import ob3api as ob3
from openbackpack.services._errors import (
    AuthorizationDeniedError,
    OAuthStateError,
)
from openbackpack.services._site import require_external_backpacks
from openbackpack.store import (
    BackpackAccount,
    BadgeConnectManifest,
    OAuthClient,
    PendingAuthorization,
    Store,
)
from openbackpack.store._types import utcnow
from openbackpack.store._validate import check_email, check_owner

__all__ = [
    "DEFAULT_STATE_TTL",
    "begin_oauth_connection",
    "cancel_oauth_connection",
    "complete_oauth_connection",
    "default_client_metadata",
    "discover_badge_connect",
    "register_oauth_client",
    "site_client_metadata",
]

DEFAULT_STATE_TTL: Final = timedelta(minutes=10)
"""How long the user has to log in and consent at the host."""


def _version() -> str:
    try:
        return importlib.metadata.version("openbackpack")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - never installed
        return "0.0.0"


def default_client_metadata(
    site_url: str, name: str = "openbackpack", *, logo_url: str | None = None
) -> bc.ClientMetadata:
    """The registration metadata of a site at ``site_url``, as Moodle builds it (§5.1).

    ``client_uri``, ``tos_uri`` and ``policy_uri`` are the site's URL and ``logo_uri`` is
    ``logo_url`` (default: a ``logo.png`` under the site); Badge Connect hosts want them all
    on the redirect URI's host, and Badgr fetches the logo while registering.
    """
    base = site_url.rstrip("/")
    return bc.ClientMetadata(
        client_name=name,
        client_uri=base + "/",
        logo_uri=logo_url or base + "/logo.png",
        tos_uri=base + "/",
        policy_uri=base + "/",
        software_id="openbackpack",
        software_version=_version(),
    )


def _site_of(redirect_uri: str) -> str:
    parts = urlsplit(redirect_uri)
    return f"{parts.scheme}://{parts.netloc}"


def site_client_metadata(
    store: Store, redirect_uri: str, name: str | None = None
) -> bc.ClientMetadata:
    """The registration metadata from the site settings, for a site reached at ``redirect_uri``.

    ``site_url`` and ``site_logo_url`` (``openbackpack settings set``) name the platform's
    public https pages; unset, the redirect URI's origin stands in. ``name`` defaults to the
    site's default issuer name.
    """
    with store.transaction() as tx:
        settings = tx.settings.get()
    return default_client_metadata(
        settings.site_url or _site_of(redirect_uri),
        name or settings.default_issuer_name or "openbackpack",
        logo_url=settings.site_logo_url or None,
    )


def _covers(registered: Sequence[str], redirect_uri: str) -> bool:
    """Whether a registration allows ``redirect_uri`` (loopback IP URIs on any port)."""
    if redirect_uri in registered:
        return True
    wanted = urlsplit(redirect_uri)
    if wanted.scheme != "http" or wanted.hostname not in ("127.0.0.1", "::1"):
        return False
    return any(
        (known.scheme, known.hostname, known.path) == ("http", wanted.hostname, wanted.path)
        for known in map(urlsplit, registered)
    )


def discover_badge_connect(
    store: Store, provider_id: int, *, client: BackpackClient | None = None, force: bool = False
) -> BadgeConnectManifest:
    """Read (or revalidate) a Badge Connect backpack's manifest and store what it says.

    The endpoints, apiBase, scopes, name and image are kept with the manifest's ETag and
    freshness (``Cache-Control``/``Expires``, else an hour); a stale one is asked for again
    with ``If-None-Match``. The provider's API URL becomes the manifest's ``apiBase``, as in
    Moodle. ``force`` asks the host even while the stored manifest is fresh.
    """
    return discover_manifest(store, provider_id, client=client, force=force)


def register_oauth_client(
    store: Store,
    provider_id: int,
    redirect_uris: Sequence[str],
    metadata: bc.ClientMetadata | None = None,
    *,
    client: BackpackClient | None = None,
) -> OAuthClient:
    """Register this site with a Badge Connect backpack (RFC 7591) as its new current client.

    ``metadata`` defaults to :func:`site_client_metadata` (the site settings, else the first
    redirect URI's origin). Earlier clients stay stored: accounts connected through them
    keep refreshing (and revoking) with the client their tokens were issued to.
    """
    if not redirect_uris:
        raise InvalidInputError("a registration needs at least one redirect URI")
    chosen = metadata or site_client_metadata(store, redirect_uris[0])
    return register_client(store, provider_id, list(redirect_uris), chosen, client=client)


def _client_for(
    store: Store,
    provider_id: int,
    redirect_uri: str,
    metadata: bc.ClientMetadata | None,
    client: BackpackClient | None,
) -> OAuthClient:
    with store.transaction() as tx:
        registered = tx.oauth_clients.get(provider_id)
    if registered is not None and not registered.registration:
        # Stored by hand (a host without dynamic registration): it is what the site has.
        return registered
    if registered is not None and _covers(registered_redirects(registered), redirect_uri):
        return registered
    # A new redirect URI (or none yet): register again, keeping the earlier URIs allowed.
    earlier = registered_redirects(registered) if registered is not None else []
    uris = [*dict.fromkeys([*earlier, redirect_uri])]
    return register_oauth_client(store, provider_id, uris, metadata, client=client)


def _check_badge_connect(store: Store, provider_id: int) -> None:
    with store.transaction() as tx:
        require_external_backpacks(tx)
        version = tx.providers.get(provider_id).api_version
    if not version.uses_oauth:
        raise UnsupportedActionError("OAuth 2 connection", version.value, "user")


def begin_oauth_connection(
    store: Store,
    owner: str,
    provider_id: int,
    redirect_uri: str,
    *,
    email: str | None = None,
    scopes: Sequence[str] | None = None,
    metadata: bc.ClientMetadata | None = None,
    client: BackpackClient | None = None,
    ttl: timedelta = DEFAULT_STATE_TTL,
) -> tuple[str, str]:
    """Start connecting ``owner``'s Badge Connect backpack; return (authorization URL, state).

    Send the user's browser to the URL. The host redirects it back to ``redirect_uri`` with
    ``code`` and ``state`` (or ``error``); hand those to :func:`complete_oauth_connection`
    within ``ttl``. ``email`` is the address the platform knows the user by, used when the
    host grants no profile access. ``scopes`` narrows what is asked for (default: every
    offered scope the registration allows, OpenID Connect's excepted).

    Raises:
        UnsupportedActionError: the backpack is not a 2.1 backpack.
        ExternalBackpacksDisabledError: the site switched external backpacks off.
        ConfigurationError: nothing is left to ask for, or registration is impossible.
    """
    owner = check_owner(owner)
    email = check_email(email) if email else None
    _check_badge_connect(store, provider_id)
    manifest = discover_manifest(store, provider_id, client=client)
    registered = _client_for(store, provider_id, redirect_uri, metadata, client)
    chosen = bc.requested_scopes(
        manifest.scopes_offered, registered=registered.scope.split(), wanted=scopes
    )
    if not chosen:
        raise ConfigurationError(f"backpack {provider_id}: no offered scope is left to ask for")
    state, verifier = bc.new_state(), bc.new_code_verifier()
    with store.transaction() as tx:
        tx.oauth_states.purge_expired()
        tx.oauth_states.create(
            provider_id,
            owner,
            state,
            verifier,
            redirect_uri,
            " ".join(chosen),
            email=email,
            ttl=ttl,
            oauth_client_id=registered.id,
        )
    url = bc.authorization_url(
        manifest.authorization_url,
        client_id=registered.client_id,
        redirect_uri=redirect_uri,
        scopes=chosen,
        state=state,
        challenge=bc.code_challenge(verifier),
    )
    return url, state


def cancel_oauth_connection(store: Store, state: str) -> bool:
    """Forget a pending authorization (the user gave up); returns whether it existed."""
    with store.transaction() as tx:
        return tx.oauth_states.consume(state) is not None


def _pending(store: Store, state: str) -> PendingAuthorization:
    with store.transaction() as tx:
        pending = tx.oauth_states.consume(state) if state else None
    if pending is None:
        raise OAuthStateError("unknown or already used state: start the connection again")
    if pending.expires_at <= utcnow():
        raise OAuthStateError("the authorization took too long: start the connection again")
    return pending


def _profile_email(
    http: BackpackClient, manifest: BadgeConnectManifest, grant: TokenGrant
) -> str | None:
    """The account's email from ``GET /profile``, when the token may read it."""
    ob3_host = generation(manifest) is ApiVersion.V3P0
    endpoint = ob3.route("profile.get") if ob3_host else bc.route("profile.get")
    outgoing = http.outgoing_to(
        endpoint, build_url(endpoint, manifest.api_base), token=grant.access_token
    )
    try:
        answer = http.send(outgoing)
        if not answer.is_success:
            return None
        if ob3_host:
            email = ob3.profile_of(answer.status_code, answer.content, answer.headers).email
        else:
            email = bc.profile_of(answer.content).email
    except BackpackError:
        return None
    if not email:
        return None
    return _checked_email(email)


def _checked_email(email: str) -> str | None:
    try:
        return check_email(email)
    except InvalidInputError:
        return None


def complete_oauth_connection(
    store: Store,
    state: str,
    code: str | None,
    *,
    error: str | None = None,
    error_description: str | None = None,
    client: BackpackClient | None = None,
) -> BackpackAccount:
    """Finish a connection with what the host sent back to the redirect URI.

    The ``state`` is checked first and used up whatever happens next. Then an ``error`` from
    the host (the user denied, say) is raised; otherwise the code is traded with the pending
    PKCE verifier, the account is created (or updated) with the profile's email (else the one
    given to :func:`begin_oauth_connection`) and its tokens stored sealed.

    Raises:
        ExternalBackpacksDisabledError: the site switched external backpacks off.
        OAuthStateError: an unknown, used or expired state, or no code.
        AuthorizationDeniedError: the host sent back an error.
        AuthenticationError: the host refused the code (``invalid_grant``).
        InvalidInputError: neither the host nor the platform said who the user is.
    """
    with store.transaction() as tx:
        require_external_backpacks(tx)
    pending = _pending(store, state)
    if error:
        raise AuthorizationDeniedError(error, error_description or "")
    if not code:
        raise OAuthStateError("the host sent back neither a code nor an error")
    manifest = discover_manifest(store, pending.provider_id, client=client)
    with store.transaction() as tx:
        # The code was issued to the client the user authorized, not to whichever is newest.
        registered = (
            tx.oauth_clients.by_id(pending.oauth_client_id)
            if pending.oauth_client_id is not None
            else tx.oauth_clients.get(pending.provider_id)
        )
    if registered is None:
        raise OAuthStateError("the backpack's client registration is gone: start again")
    scopes = pending.scope.split()
    with using(client) as http:
        grant = exchange_code(
            http,
            manifest,
            registered,
            code=code,
            redirect_uri=pending.redirect_uri,
            verifier=pending.code_verifier.reveal(),
            scopes=scopes,
        )
        scope = grant.scope or pending.scope
        email = _profile_email(http, manifest, grant) if _can_read_profile(scope) else None
    return _save_account(store, pending, grant, scope, email or pending.email, registered.id)


_PROFILE_SCOPES: Final = frozenset(
    {
        bc.Scope.PROFILE_READONLY.value,
        bc.Scope.PROFILE_UPDATE.value,
        ob3.Scope.PROFILE_READONLY.value,
        ob3.Scope.PROFILE_UPDATE.value,
    }
)


def _can_read_profile(scope: str) -> bool:
    return bool(_PROFILE_SCOPES & set(scope.split()))


def _save_account(
    store: Store,
    pending: PendingAuthorization,
    grant: TokenGrant,
    scope: str,
    email: str | None,
    oauth_client_id: int,
) -> BackpackAccount:
    if not email:
        raise InvalidInputError(
            "the backpack did not say the account's email and none was given: "
            "pass email= to begin_oauth_connection, or grant profile access"
        )
    expires = None if grant.expires_in is None else utcnow() + timedelta(seconds=grant.expires_in)
    with store.transaction() as tx:
        account = tx.accounts.find(pending.owner, pending.provider_id)
        if account is None:
            account = tx.accounts.create(pending.provider_id, pending.owner, email)
        else:
            account = tx.accounts.update(account.id, email=email)
            tx.badge_cache.delete(account.id)
        tx.oauth_tokens.save(
            account.id, grant.access_token, grant.refresh_token, expires, scope,
            oauth_client_id=oauth_client_id,
        )  # fmt: skip
    return account
