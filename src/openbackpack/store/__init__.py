"""Persistence for openbackpack: backpacks, accounts, tokens, settings, the issuer registry.

Site backpacks, accounts, selected collections, remote ids, tokens and settings live beside the
issuer registry (issuers, badge classes, awards). Open a :class:`Store` and work in a
:class:`Transaction`; every secret is sealed with Fernet before it reaches the database and
comes back wrapped in :class:`Secret`.
"""

from openbackpack.store._crypto import Secret, SecretBox
from openbackpack.store._jobs import Job, JobItem, Jobs, JobState
from openbackpack.store._keys import (
    STATUS_LIST_SIZE,
    IssuerKey,
    IssuerKeys,
    KeyAlgorithmName,
    StatusEntries,
)
from openbackpack.store._records import (
    SITE_OWNER,
    BackpackAccount,
    BadgeConnectManifest,
    CachedToken,
    ExternalIdentifier,
    IdentifierKind,
    OAuthClient,
    OAuthToken,
    PendingAuthorization,
    PendingLogin,
    PendingVerification,
    Provider,
    SelectedCollection,
    SiteSettings,
)
from openbackpack.store._registry import Awards, BadgeClasses, Issuers
from openbackpack.store._registry_records import (
    Alignment,
    Award,
    BadgeClass,
    Endorsement,
    Evidence,
    ImageType,
    Issuer,
)
from openbackpack.store._repos import (
    Accounts,
    BadgeCache,
    Collections,
    Identifiers,
    Manifests,
    OAuthClients,
    OAuthStates,
    OAuthTokens,
    Providers,
    Settings,
    TokenCache,
    Verifications,
)
from openbackpack.store._store import Store, Transaction

__all__ = [
    "SITE_OWNER",
    "STATUS_LIST_SIZE",
    "Accounts",
    "Alignment",
    "Award",
    "Awards",
    "BackpackAccount",
    "BadgeCache",
    "BadgeClass",
    "BadgeClasses",
    "BadgeConnectManifest",
    "CachedToken",
    "Collections",
    "Endorsement",
    "Evidence",
    "ExternalIdentifier",
    "IdentifierKind",
    "Identifiers",
    "ImageType",
    "Issuer",
    "IssuerKey",
    "IssuerKeys",
    "Issuers",
    "Job",
    "JobItem",
    "JobState",
    "Jobs",
    "KeyAlgorithmName",
    "Manifests",
    "OAuthClient",
    "OAuthClients",
    "OAuthStates",
    "OAuthToken",
    "OAuthTokens",
    "PendingAuthorization",
    "PendingLogin",
    "PendingVerification",
    "Provider",
    "Providers",
    "Secret",
    "SecretBox",
    "SelectedCollection",
    "Settings",
    "SiteSettings",
    "StatusEntries",
    "Store",
    "TokenCache",
    "Transaction",
    "Verifications",
]
