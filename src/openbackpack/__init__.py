"""openbackpack: talk to Open Badges backpacks, and run a reference backpack host.

The public names are re-exported here; submodules whose names start with ``_`` are private.
"""

import typing

from openbackpack import _lazy
from openbackpack._exceptions import (
    AlreadyRevokedError,
    AnswerTooLargeError,
    APIStatusError,
    AuthenticationError,
    BackpackError,
    BlockedAddressError,
    ConfigurationError,
    ConflictError,
    DocumentUnavailableError,
    DuplicateBadgeError,
    DuplicateRecordError,
    InvalidApiVersionError,
    InvalidCredentialError,
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
    ScopeNotGrantedError,
    SecretKeyError,
    ServerError,
    StoreError,
    TransportError,
    UnsupportedActionError,
)

if typing.TYPE_CHECKING:
    __version__: str

    from openbackpack.api import (
        AsyncBackpackApi,
        AsyncOb3Api,
        Authentication,
        BackpackApi,
        BadgeConnectApi,
        BadgeFailure,
        CollectionBadges,
        ExternalBadge,
        Ob3Api,
    )
    from openbackpack.models import ApiVersion
    from openbackpack.store import SITE_OWNER, Store


__all__ = [
    "SITE_OWNER",
    "APIStatusError",
    "AlreadyRevokedError",
    "AnswerTooLargeError",
    "ApiVersion",
    "AsyncBackpackApi",
    "AsyncOb3Api",
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
    "DocumentUnavailableError",
    "DuplicateBadgeError",
    "DuplicateRecordError",
    "ExternalBadge",
    "InvalidApiVersionError",
    "InvalidCredentialError",
    "InvalidCriteriaError",
    "InvalidDirectionError",
    "InvalidEmailError",
    "InvalidImageError",
    "InvalidInputError",
    "InvalidResponseError",
    "InvalidUrlError",
    "ListenError",
    "NotFoundError",
    "Ob3Api",
    "PermissionDeniedError",
    "PrimaryBackpackError",
    "RateLimitError",
    "ReauthorizationRequiredError",
    "RecordNotFoundError",
    "RedirectRefusedError",
    "RemoteValidationError",
    "RequestTimeoutError",
    "SchemaVersionError",
    "ScopeNotGrantedError",
    "SecretKeyError",
    "ServerError",
    "Store",
    "StoreError",
    "TransportError",
    "UnsupportedActionError",
    "__version__",
]

_exported, _exported_names = _lazy.lazy_exports(__name__, __file__)


def __dir__() -> list[str]:
    return sorted({*_exported_names(), "__version__"})


def __getattr__(name: str) -> object:
    if name == "__version__":
        # Read on demand: importlib.metadata alone takes a fifth of a second to load.
        import importlib.metadata

        try:
            return importlib.metadata.version("openbackpack")
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover - never installed
            return "0.0.0"
    return _exported(name)
