"""The records the store hands back: frozen, typed, secrets wrapped in :class:`Secret`."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from openbackpack.models import ApiVersion
from openbackpack.store._crypto import Secret

__all__ = [
    "SITE_OWNER",
    "BackpackAccount",
    "BadgeConnectManifest",
    "CachedToken",
    "ExternalIdentifier",
    "IdentifierKind",
    "OAuthClient",
    "OAuthToken",
    "PendingAuthorization",
    "PendingLogin",
    "PendingVerification",
    "Provider",
    "SelectedCollection",
    "SiteSettings",
]

SITE_OWNER: Final = "@site"
"""The owner of a provider's site (issuer) account; Moodle's ``userid = 0``.

User ids are free-form strings, but may not start with ``@``.
"""


class IdentifierKind(enum.StrEnum):
    """What a remote identifier names."""

    ISSUER = "Issuer"
    BADGE_CLASS = "BadgeClass"
    ASSERTION = "Assertion"


@dataclass(frozen=True, slots=True)
class Provider:
    """A site backpack: a backpack host the site talks to (Moodle's ``badge_external_backpack``)."""

    id: int
    api_url: str
    web_url: str
    api_version: ApiVersion
    sort_order: int
    created_at: datetime
    modified_at: datetime
    rate_limit: float | None = None
    """Requests per second the host allows, shared by every worker (None: no limit)."""
    burst: int | None = None
    """How many requests may go at once within ``rate_limit`` (None: 1)."""


@dataclass(frozen=True, slots=True)
class BackpackAccount:
    """One account on one provider, owned by a user or by the site (:data:`SITE_OWNER`)."""

    id: int
    provider_id: int
    owner: str
    email: str
    password: Secret | None = field(repr=False)
    remote_user_id: str | None
    created_at: datetime
    modified_at: datetime

    @property
    def is_site_account(self) -> bool:
        """Whether this is the provider's site (issuer) account."""
        return self.owner == SITE_OWNER


@dataclass(frozen=True, slots=True)
class SelectedCollection:
    """A collection chosen for display: a v1 group id or a v2 collection entity id."""

    account_id: int
    group_id: int | None
    entity_id: str | None

    @property
    def key(self) -> int | str:
        """The collection's id on the provider, whichever kind it is."""
        if self.group_id is not None:
            return self.group_id
        assert self.entity_id is not None
        return self.entity_id


@dataclass(frozen=True, slots=True)
class ExternalIdentifier:
    """The id a provider gave to one of our issuers, badge classes or awards."""

    provider_id: int
    kind: IdentifierKind
    internal_key: str
    external_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """An OAuth 2 client registered with a provider (Badge Connect dynamic registration).

    ``id`` is the store's row id: a provider keeps every client it registered, and each
    account's tokens remember theirs (``OAuthToken.oauth_client_id``).
    """

    id: int
    provider_id: int
    client_id: str
    client_secret: Secret | None = field(repr=False)
    token_endpoint_auth_method: str
    scope: str
    registration: str | None
    created_at: datetime
    modified_at: datetime


@dataclass(frozen=True, slots=True)
class OAuthToken:
    """An OAuth 2 access token (and refresh token) held for one account."""

    account_id: int
    provider_id: int
    access_token: Secret = field(repr=False)
    refresh_token: Secret | None = field(repr=False)
    expires_at: datetime | None
    scope: str
    created_at: datetime
    modified_at: datetime
    oauth_client_id: int | None = None


@dataclass(frozen=True, slots=True)
class CachedToken:
    """A Badgr password-grant token cached for one account (never for a viewer)."""

    account_id: int
    provider_id: int
    access_token: Secret = field(repr=False)
    refresh_token: Secret | None = field(repr=False)
    expires_at: datetime
    modified_at: datetime


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """The Badgr token obtained when a connection's credentials were checked (sealed)."""

    access_token: Secret = field(repr=False)
    refresh_token: Secret | None = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PendingVerification:
    """An email verification waiting for its code; the code itself is stored only hashed."""

    id: int
    provider_id: int
    owner: str
    email: str
    password: Secret | None = field(repr=False)
    secret_hash: str = field(repr=False)
    created_at: datetime
    expires_at: datetime
    login: PendingLogin | None = field(default=None, repr=False)
    """v2: the token of the login that checked the credentials, handed on to the account."""


@dataclass(frozen=True, slots=True)
class SiteSettings:
    """Site-wide settings (Moodle's ``badges_*`` configuration).

    The verification email templates are empty until set; empty means the built-in text.
    ``site_url`` is the platform's public base URL and ``site_logo_url`` its logo, named in
    Badge Connect client registrations (empty: derived from the redirect URI).
    """

    default_issuer_name: str
    default_issuer_contact: str
    badge_salt: str
    allow_external_backpacks: bool
    verification_email_subject: str = ""
    verification_email_body: str = ""
    site_url: str = ""
    site_logo_url: str = ""


@dataclass(frozen=True, slots=True)
class PendingAuthorization:
    """A Badge Connect authorization waiting for its redirect back, one per ``state``.

    Only a digest of the ``state`` is stored; the PKCE verifier is sealed. ``email`` is the
    address the platform knows the user by, used when the host offers no profile.
    """

    id: int
    provider_id: int
    owner: str
    code_verifier: Secret = field(repr=False)
    redirect_uri: str
    scope: str
    email: str | None
    created_at: datetime
    expires_at: datetime
    oauth_client_id: int | None = None


@dataclass(frozen=True, slots=True)
class BadgeConnectManifest:
    """What discovery read from a host's manifest, and how long it stays fresh.

    A Badge Connect manifest, or an OB 3.0 service description document (``version``
    ``v3p0``): the same endpoints, scopes and validators either way.
    """

    provider_id: int
    manifest_url: str
    etag: str | None
    fetched_at: datetime
    fresh_until: datetime
    name: str
    image: str | None
    api_base: str
    version: str
    authorization_url: str
    token_url: str
    registration_url: str | None
    revocation_url: str | None
    scopes_offered: tuple[str, ...]
    document: str = field(repr=False)
    last_modified: str | None = None
    """The answer's ``Last-Modified``, sent back as ``If-Modified-Since``."""
    privacy_policy_url: str | None = None
