"""Persistence for openbackpack: site backpacks, accounts, selections, ids, tokens, settings.

Open a :class:`Store` and work in a :class:`Transaction`; every secret is sealed with Fernet
before it reaches the database and comes back wrapped in :class:`Secret`.
"""

from openbackpack.store._crypto import Secret, SecretBox
from openbackpack.store._records import (
    SITE_OWNER,
    BackpackAccount,
    CachedToken,
    ExternalIdentifier,
    IdentifierKind,
    OAuthClient,
    OAuthToken,
    PendingVerification,
    Provider,
    SelectedCollection,
    SiteSettings,
)
from openbackpack.store._repos import (
    Accounts,
    Collections,
    Identifiers,
    OAuthClients,
    OAuthTokens,
    Providers,
    Settings,
    TokenCache,
    Verifications,
)
from openbackpack.store._store import Store, Transaction

__all__ = [
    "SITE_OWNER",
    "Accounts",
    "BackpackAccount",
    "CachedToken",
    "Collections",
    "ExternalIdentifier",
    "IdentifierKind",
    "Identifiers",
    "OAuthClient",
    "OAuthClients",
    "OAuthToken",
    "OAuthTokens",
    "PendingVerification",
    "Provider",
    "Providers",
    "Secret",
    "SecretBox",
    "SelectedCollection",
    "Settings",
    "SiteSettings",
    "Store",
    "TokenCache",
    "Transaction",
    "Verifications",
]
