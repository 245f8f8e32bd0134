"""Every exception openbackpack raises on purpose.

The tree, split by who is at fault::

    BackpackError                   root of everything raised deliberately
    ├── ConfigurationError          the settings cannot work (bad URL, missing key file...)
    │   └── SecretKeyError          the secret key is malformed or is not the store's key
    ├── StoreError                  the store refused an operation
    │   ├── RecordNotFoundError     no row with that id
    │   ├── DuplicateRecordError    a unique value is already taken
    │   ├── PrimaryBackpackError    the primary site backpack cannot be deleted
    │   ├── SchemaVersionError      the database is not migrated to this release
    │   └── AlreadyRevokedError     the award was revoked before
    └── InvalidInputError           a value given by the caller is not acceptable (a ValueError)
        ├── InvalidApiVersionError  not one of 1, 2, 2.1
        ├── InvalidUrlError         not an absolute http(s) URL
        ├── InvalidDirectionError   a move that is neither up nor down
        ├── InvalidEmailError       not an email address
        ├── InvalidImageError       a badge or issuer image that is neither PNG nor SVG
        └── InvalidCriteriaError    badge criteria with neither a URL nor a narrative

Caller mistakes that are plain programming errors (a wrong type) stay ``TypeError``.
"""

from __future__ import annotations

__all__ = [
    "AlreadyRevokedError",
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
    "StoreError",
]


class BackpackError(Exception):
    """Base class of every error openbackpack raises deliberately."""


class ConfigurationError(BackpackError):
    """The configuration cannot work as given."""


class SecretKeyError(ConfigurationError):
    """The secret key is malformed, or is not the key this store's secrets were sealed with."""


class StoreError(BackpackError):
    """The store refused an operation; nothing was changed."""


class RecordNotFoundError(StoreError, LookupError):
    """No record of that kind has that id."""

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"no {kind} with id {key!r}")
        self.kind = kind
        self.key = key


class DuplicateRecordError(StoreError):
    """A value that must be unique is already stored."""

    def __init__(self, kind: str, field: str, value: object) -> None:
        super().__init__(f"a {kind} with {field} {value!r} already exists")
        self.kind = kind
        self.field = field
        self.value = value


class PrimaryBackpackError(StoreError):
    """The primary site backpack (the lowest sort order) cannot be deleted."""


class SchemaVersionError(StoreError):
    """The database schema is older than this release; run ``openbackpack db upgrade``."""


class InvalidInputError(BackpackError, ValueError):
    """A value given by the caller is not acceptable."""


class InvalidApiVersionError(InvalidInputError):
    """An API version that is not one of 1, 2 or 2.1."""

    def __init__(self, value: object) -> None:
        super().__init__(
            f"unknown backpack API version {value!r}: expected one of '1', '2' or '2.1'"
        )
        self.value = value


class InvalidUrlError(InvalidInputError):
    """A URL that is not an absolute http or https URL."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(f"{field} {value!r} is not usable: {reason}")
        self.field = field
        self.value = value


class InvalidDirectionError(InvalidInputError):
    """A move direction other than up (-1) or down (+1)."""

    def __init__(self, value: object) -> None:
        super().__init__(f"unknown direction {value!r}: expected 'up', 'down', -1 or 1")
        self.value = value


class AlreadyRevokedError(StoreError):
    """The award was already revoked; a revocation is final and keeps its first reason."""

    def __init__(self, award_hash: str) -> None:
        super().__init__(f"award {award_hash!r} is already revoked")
        self.award_hash = award_hash


class InvalidEmailError(InvalidInputError):
    """A value that is not an email address."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(f"{field} {value!r} is not an email address: {reason}")
        self.field = field
        self.value = value


class InvalidImageError(InvalidInputError):
    """An image that is neither a PNG nor an SVG document, judged by its content."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the image is not usable: {reason}; use a PNG or an SVG file")
        self.reason = reason


class InvalidCriteriaError(InvalidInputError):
    """Badge criteria with neither a URL nor a narrative."""

    def __init__(self) -> None:
        super().__init__("a badge class needs criteria: a criteria URL, a narrative, or both")
