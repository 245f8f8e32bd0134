"""Setting up an OAuth provider (Badge Connect, OB 3.0): discovery, registration, code exchange.

Discovery reads ``/.well-known/badgeconnect.json`` at the provider's web URL (following
redirects, as Badgr needs), or an OB 3.0 host's ``/ims/ob/v3p0/discovery`` service
description, keeps it in the store with its ETag, Last-Modified and freshness, and asks again
with ``If-None-Match`` / ``If-Modified-Since`` once it is stale (a 304 costs no body). As
Moodle does, the announced API base becomes the provider's API URL. Registration (RFC 7591)
sends Moodle's payload; the client id and the sealed secret go to ``tx.oauth_clients``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Final

from openbackpack._exceptions import (
    AuthenticationError,
    ConfigurationError,
    TransportError,
    UnsupportedActionError,
)
from openbackpack.api._sdd import service_entry
from openbackpack.client import Answer, BackpackClient
from openbackpack.models import ApiVersion, TokenGrant
from openbackpack.models.badgeconnect import ManifestEntry
from openbackpack.protocols import Endpoint, Shape, error_from_response
from openbackpack.protocols import badgeconnect as bc
from openbackpack.protocols import ob3api as ob3
from openbackpack.store import BadgeConnectManifest, OAuthClient, Provider, Store, Transaction
from openbackpack.store._types import utcnow

__all__ = [
    "DEFAULT_MANIFEST_TTL",
    "DOCUMENT",
    "client_headers",
    "discover_manifest",
    "exchange_code",
    "generation",
    "oauth_route",
    "register_client",
    "registered_redirects",
    "using",
]

_log = logging.getLogger("openbackpack.badgeconnect")

DEFAULT_MANIFEST_TTL: Final = timedelta(hours=1)
"""How long a manifest is trusted when its answer carried no cache headers."""

DOCUMENT: Final = Endpoint(
    name="document",
    method="GET",
    path="",
    auth=False,
    shape=Shape.DOCUMENT,
    summary="An Open Badges document at a URL a host gave",
)
"""A bare GET of a URL a host named (badge classes and issuers of listed assertions)."""


@contextmanager
def using(client: BackpackClient | None) -> Iterator[BackpackClient]:
    """Use the given client, or a new one closed on exit."""
    http = client if client is not None else BackpackClient()
    try:
        yield http
    finally:
        if client is None:
            http.close()


def _checked_provider(tx: Transaction, provider_id: int) -> Provider:
    provider = tx.providers.get(provider_id)
    if not provider.api_version.uses_oauth:
        raise UnsupportedActionError(
            "discovery", provider.api_version.value, "(only 2.1 and 3.0 backpacks)"
        )
    return provider


def _first_url(provider: Provider) -> str:
    if _is_ob3(provider):
        return ob3.discovery_url(provider.api_url)
    return bc.manifest_url(provider.web_url)


def _validators(cached: BadgeConnectManifest | None) -> dict[str, str]:
    # RFC 9110 §13.1: If-None-Match wins where both are understood; sending both serves a
    # host that only keeps dates.
    if cached is None:
        return {}
    headers = {"If-None-Match": cached.etag} if cached.etag else {}
    if cached.last_modified:
        headers["If-Modified-Since"] = cached.last_modified
    return headers


def _is_ob3(provider: Provider) -> bool:
    return provider.api_version is ApiVersion.V3P0


def generation(manifest: BadgeConnectManifest) -> ApiVersion:
    """The API generation a stored manifest (or service description) was read for."""
    return ApiVersion.V3P0 if manifest.version == "v3p0" else ApiVersion.V2P1


def oauth_route(version: ApiVersion, name: str) -> Endpoint:
    """The OAuth route ``register``, ``token`` or ``revoke`` of a 2.1 or 3.0 host's table.

    Only how to send is read from it: the URL is always the one the host announced.
    """
    if version is ApiVersion.V3P0:
        return ob3.route(name)
    return bc.TOKEN if name == "token" else bc.route(name)


def _entry(provider: Provider, content: bytes, url: str) -> ManifestEntry:
    if _is_ob3(provider):
        return service_entry(content, url)
    return bc.manifest_of(content).entry()


def _fresh_until(answer: Answer, now: datetime) -> datetime:
    return now + (bc.freshness(answer.headers, now) or DEFAULT_MANIFEST_TTL)


def discover_manifest(
    store: Store,
    provider_id: int,
    *,
    client: BackpackClient | None = None,
    force: bool = False,
) -> BadgeConnectManifest:
    """The provider's manifest: the stored one while fresh, else read (or revalidated) now.

    A Badge Connect (2.1) backpack's manifest, or an OB 3.0 backpack's service description
    (``GET {base}/ims/ob/v3p0/discovery``), kept with its ``ETag`` and ``Last-Modified``
    and asked for again with ``If-None-Match`` / ``If-Modified-Since`` once stale.

    Raises:
        UnsupportedActionError: the provider is neither a 2.1 nor a 3.0 backpack.
        InvalidResponseError: the answer is not a manifest (service description).
        APIStatusError, TransportError: the host could not be asked.
    """
    with store.transaction() as tx:
        provider = _checked_provider(tx, provider_id)
        cached = tx.manifests.get(provider_id)
    now = utcnow()
    if cached is not None and not force and cached.fresh_until > now:
        return cached
    url = cached.manifest_url if cached is not None else _first_url(provider)
    route = ob3.route("discovery") if _is_ob3(provider) else bc.route("manifest")
    with using(client) as http:
        # The manifest's own URL is the admin's (the provider's), not announced by a host.
        outgoing = http.outgoing_to(route, url, headers=_validators(cached), announced=False)
        answer = http.send(outgoing)
    if answer.status_code == 304 and cached is not None:
        with store.transaction() as tx:
            return tx.manifests.refresh(
                provider_id,
                _fresh_until(answer, now),
                answer.headers.get("etag"),
                answer.headers.get("last-modified"),
            )
    if not answer.is_success:
        raise error_from_response(
            answer.status_code, answer.content, answer.headers, action=route.name
        )
    entry = _entry(provider, answer.content, url)
    with store.transaction() as tx:
        saved = tx.manifests.save(
            provider_id,
            manifest_url=url,
            entry=entry,
            document=answer.content.decode("utf-8", "replace"),
            etag=answer.headers.get("etag"),
            fresh_until=_fresh_until(answer, now),
            last_modified=answer.headers.get("last-modified"),
        )
        if tx.providers.get(provider_id).api_url != entry.api_base:
            # Moodle copies apiBase into the backpack's API URL (4.3+); so do we.
            tx.providers.update(provider_id, api_url=entry.api_base)
    _log.info("discovered backpack host %s at %s", entry.name, entry.api_base)
    return saved


def registered_redirects(client: OAuthClient) -> list[str]:
    """The redirect URIs a stored registration was made with (as sent, not as echoed).

    Badgr garbles the echo of several URIs (``[" "]``), so what was sent is what counts.
    """
    if not client.registration:
        return []
    try:
        stored = json.loads(client.registration)
    except ValueError:
        return []
    request = stored.get("request", {}) if isinstance(stored, dict) else {}
    uris = request.get("redirect_uris", []) if isinstance(request, dict) else []
    return [str(uri) for uri in uris if isinstance(uri, str)]


def register_client(
    store: Store,
    provider_id: int,
    redirect_uris: Sequence[str],
    metadata: bc.ClientMetadata,
    *,
    client: BackpackClient | None = None,
) -> OAuthClient:
    """Register this site as a client of the provider (RFC 7591); store id and sealed secret.

    Asks for every offered scope but OpenID Connect's (the host may grant fewer; the echoed
    ``scope`` is stored), the code and refresh grants, and ``client_secret_basic``.

    Raises:
        ConfigurationError: the manifest has no registration URL, or the host chose a client
            authentication method this client cannot use.
        APIStatusError: the host refused the registration (its RFC 7591 error is the message).
    """
    manifest = discover_manifest(store, provider_id, client=client)
    if manifest.registration_url is None:
        raise ConfigurationError(
            f"backpack {provider_id} offers no dynamic registration; "
            "store a client for it with tx.oauth_clients.save(...)"
        )
    scopes = bc.requested_scopes(manifest.scopes_offered)
    payload = bc.registration_payload(metadata, redirect_uris, scopes)
    with using(client) as http:
        route = oauth_route(generation(manifest), "register")
        outgoing = http.outgoing_to(route, manifest.registration_url, data=payload)
        answer = http.send(outgoing)
    if answer.status_code not in (200, 201):
        raise error_from_response(
            answer.status_code, answer.content, answer.headers, action="register"
        )
    registration = bc.registration_of(answer.content)
    method = registration.token_endpoint_auth_method or "client_secret_basic"
    if method not in bc.AUTH_METHODS:
        raise ConfigurationError(f"the host chose the unsupported client method {method!r}")
    stored: dict[str, Any] = {"request": payload, "response": registration.public()}
    with store.transaction() as tx:
        return tx.oauth_clients.save(
            provider_id,
            registration.client_id,
            registration.client_secret,
            token_endpoint_auth_method=method,
            scope=registration.scope or " ".join(scopes),
            registration=json.dumps(stored, sort_keys=True),
        )


def client_headers(oauth_client: OAuthClient) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and form fields that authenticate the client, by its registered method."""
    secret = oauth_client.client_secret.reveal() if oauth_client.client_secret else None
    return bc.client_authentication(
        oauth_client.token_endpoint_auth_method, oauth_client.client_id, secret
    )


def exchange_code(
    http: BackpackClient,
    manifest: BadgeConnectManifest,
    oauth_client: OAuthClient,
    *,
    code: str,
    redirect_uri: str,
    verifier: str,
    scopes: Sequence[str],
) -> TokenGrant:
    """Trade an authorization code for tokens, the client authenticated as registered.

    When the answer is lost (the connection broke after the request was sent), the host may
    have issued tokens that nobody holds. The code is then presented once more: either the
    first request never arrived and this one trades it, or the host refuses the replay and
    revokes what the code bought (RFC 6749 §4.1.2), so no live token is left behind.

    Raises:
        AuthenticationError: the host refused (``invalid_grant`` for a wrong or reused code
            or verifier).
        TransportError: the answer was lost (the message says whether the host was told to
            revoke what the code bought).
    """
    headers, extra = client_headers(oauth_client)
    form = {**bc.code_grant_form(code, redirect_uri, verifier, scopes), **extra}

    route = oauth_route(generation(manifest), "token")

    def trade() -> TokenGrant:
        outgoing = http.outgoing_to(
            route, manifest.token_url, data=form, headers=headers, action="token"
        )
        return http.token_grant(http.send(outgoing), "token")

    try:
        return trade()
    except TransportError as lost:
        _log.warning("the answer to a code exchange was lost (%s); presenting the code again", lost)
        try:
            return trade()
        except AuthenticationError:
            raise TransportError(
                "the answer to the code exchange was lost; the code was presented again, so "
                "the host revoked the tokens it had issued for it: connect again",
                action="token",
            ) from lost
        except TransportError:
            raise TransportError(
                "the answer to the code exchange was lost and the host could not be asked "
                "again; tokens it may have issued stay valid there until they expire: "
                "connect again",
                action="token",
            ) from lost
