"""openbackpack: talk to Open Badges backpacks, and run a reference backpack host.

The public names are re-exported here; submodules whose names start with ``_`` are private.
"""

import importlib.metadata as _metadata

from openbackpack._exceptions import (
    AlreadyRevokedError,
    AnswerTooLargeError,
    APIStatusError,
    AuthenticationError,
    BackpackError,
    BlockedAddressError,
    ConfigurationError,
    ConflictError,
    DuplicateBadgeError,
    DuplicateRecordError,
    InvalidApiVersionError,
    InvalidCriteriaError,
    InvalidDirectionError,
    InvalidEmailError,
    InvalidImageError,
    InvalidInputError,
    InvalidResponseError,
    InvalidUrlError,
    ListenError,
    NotFoundError,
    PermissionDeniedError,
    PrimaryBackpackError,
    RateLimitError,
    ReauthorizationRequiredError,
    RecordNotFoundError,
    RedirectRefusedError,
    RemoteValidationError,
    RequestTimeoutError,
    SchemaVersionError,
    SecretKeyError,
    ServerError,
    StoreError,
    TransportError,
    UnsupportedActionError,
)
from openbackpack.api import (
    AsyncBackpackApi,
    Authentication,
    BackpackApi,
    BadgeConnectApi,
    BadgeFailure,
    CollectionBadges,
    ExternalBadge,
)
from openbackpack.models import ApiVersion
from openbackpack.store import SITE_OWNER, Store

try:
    __version__ = _metadata.version("openbackpack")
except _metadata.PackageNotFoundError:  # pragma: no cover - a source tree never installed
    __version__ = "0.0.0"

__all__ = [
    "SITE_OWNER",
    "APIStatusError",
    "AlreadyRevokedError",
    "AnswerTooLargeError",
    "ApiVersion",
    "AsyncBackpackApi",
    "Authentication",
    "AuthenticationError",
    "BackpackApi",
    "BackpackError",
    "BadgeConnectApi",
    "BadgeFailure",
    "BlockedAddressError",
    "CollectionBadges",
    "ConfigurationError",
    "ConflictError",
    "DuplicateBadgeError",
    "DuplicateRecordError",
    "ExternalBadge",
    "InvalidApiVersionError",
    "InvalidCriteriaError",
    "InvalidDirectionError",
    "InvalidEmailError",
    "InvalidImageError",
    "InvalidInputError",
    "InvalidResponseError",
    "InvalidUrlError",
    "ListenError",
    "NotFoundError",
    "PermissionDeniedError",
    "PrimaryBackpackError",
    "RateLimitError",
    "ReauthorizationRequiredError",
    "RecordNotFoundError",
    "RedirectRefusedError",
    "RemoteValidationError",
    "RequestTimeoutError",
    "SchemaVersionError",
    "SecretKeyError",
    "ServerError",
    "Store",
    "StoreError",
    "TransportError",
    "UnsupportedActionError",
    "__version__",
]
