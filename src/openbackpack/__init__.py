"""openbackpack: talk to Open Badges backpacks, and run a reference backpack host.

The public names are re-exported here; submodules whose names start with ``_`` are private.
"""

import importlib.metadata as _metadata

from openbackpack._exceptions import (
    AlreadyRevokedError,
    BackpackError,
    ConfigurationError,
    DuplicateRecordError,
    InvalidApiVersionError,
    InvalidCriteriaError,
    InvalidDirectionError,
    InvalidEmailError,
    InvalidImageError,
    InvalidInputError,
    InvalidUrlError,
    PrimaryBackpackError,
    RecordNotFoundError,
    SchemaVersionError,
    SecretKeyError,
    StoreError,
)
from openbackpack.models import ApiVersion
from openbackpack.store import SITE_OWNER, Store

try:
    __version__ = _metadata.version("openbackpack")
except _metadata.PackageNotFoundError:  # pragma: no cover - a source tree never installed
    __version__ = "0.0.0"

__all__ = [
    "SITE_OWNER",
    "AlreadyRevokedError",
    "ApiVersion",
    "BackpackError",
    "ConfigurationError",
    "DuplicateRecordError",
    "InvalidApiVersionError",
    "InvalidCriteriaError",
    "InvalidDirectionError",
    "InvalidEmailError",
    "InvalidImageError",
    "InvalidInputError",
    "InvalidUrlError",
    "PrimaryBackpackError",
    "RecordNotFoundError",
    "SchemaVersionError",
    "SecretKeyError",
    "Store",
    "StoreError",
    "__version__",
]
