"""Every exception openbackpack raises on purpose.

The tree, split by who is at fault::

    BackpackError                   root of everything raised deliberately
    ├── ConfigurationError          the settings cannot work (bad URL, missing key file...)
    │   ├── SecretKeyError          the secret key is malformed or is not the store's key
    │   └── ListenError             a server cannot listen on that address and port (an OSError)
    ├── StoreError                  the store refused an operation
    │   ├── RecordNotFoundError     no row with that id
    │   ├── DuplicateRecordError    a unique value is already taken
    │   ├── PrimaryBackpackError    the primary site backpack cannot be deleted
    │   ├── SchemaVersionError      the database is not migrated to this release
    │   └── AlreadyRevokedError     the award was revoked before
    ├── InvalidInputError           a value given by the caller is not acceptable (a ValueError)
    │   ├── InvalidApiVersionError  not one of 1, 2, 2.1, 3.0
    │   ├── InvalidUrlError         not an absolute http(s) URL
    │   ├── InvalidDirectionError   a move that is neither up nor down
    │   ├── InvalidEmailError       not an email address
    │   ├── InvalidImageError       a badge or issuer image that is neither PNG nor SVG
    │   ├── InvalidCriteriaError    badge criteria with neither a URL nor a narrative
    │   └── InvalidCredentialError  a credential or proof that cannot be read, signed or baked
    ├── DocumentUnavailableError    a JSON-LD context or document the offline loader will not give
    ├── UnsupportedActionError      the backpack's API has no such action (raised before any I/O)
    ├── ReauthorizationRequiredError an OAuth token expired or was refused and cannot be renewed
    ├── TransportError              no usable HTTP exchange: connect/read failure, closed connection
    │   ├── RequestTimeoutError     a connect, read or write timeout, or the call's deadline
    │   ├── RedirectRefusedError    a redirect the client will not follow (.status_code, .location)
    │   ├── AnswerTooLargeError     an answer larger than the client's cap (.limit)
    │   └── BlockedAddressError     a private address or a port the client may not call (.url)
    ├── InvalidResponseError        a 2xx answer whose body is not what the protocol promises
    └── APIStatusError              the backpack answered with an error status
        ├── RemoteValidationError   400/422: the backpack refused the input (.field_errors ...)
        │   └── DuplicateBadgeError the badge is already in that backpack (Badgr DUPLICATE_BADGE)
        ├── AuthenticationError     401, or the token endpoint refused the credentials
        ├── PermissionDeniedError   403
        │   └── ScopeNotGrantedError the account's token lacks the OAuth scope the action needs
        ├── NotFoundError           404 (Badgr also answers 404 for "not yours")
        ├── ConflictError           409
        ├── RateLimitError          429 (.retry_after seconds)
        └── ServerError             5xx

Caller mistakes that are plain programming errors (a wrong type) stay ``TypeError``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIStatusError",
    "AlreadyRevokedError",
    "AnswerTooLargeError",
    "AuthenticationError",
    "BackpackError",
    "BlockedAddressError",
    "ConfigurationError",
    "ConflictError",
    "DocumentUnavailableError",
    "DuplicateBadgeError",
    "DuplicateRecordError",
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
    "StoreError",
    "TransportError",
    "UnsupportedActionError",
]


class BackpackError(Exception):
    """Base class of every error openbackpack raises deliberately."""


class ConfigurationError(BackpackError):
    """The configuration cannot work as given."""


class ListenError(ConfigurationError, OSError):
    """A server cannot listen where asked: port in use or out of range, or an unknown host.

    Attributes: ``host`` and ``port`` as given.
    """

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}")
        self.host = host
        self.port = port
        self.reason = reason


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
    """An API version that is not one of 1, 2, 2.1 or 3.0."""

    def __init__(self, value: object) -> None:
        super().__init__(
            f"unknown backpack API version {value!r}: expected one of '1', '2', '2.1' or '3.0'"
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


class UnsupportedActionError(BackpackError):
    """The backpack's API generation (or mode) has no such action; raised before any I/O."""

    def __init__(
        self, action: str, api_version: str, mode: str | None = None, *, message: str = ""
    ) -> None:
        where = f"API version {api_version}" + (f" in {mode} mode" if mode else "")
        super().__init__(message or f"{action!r} is not supported by {where}")
        self.action = action
        self.api_version = api_version
        self.mode = mode


class ReauthorizationRequiredError(BackpackError):
    """An OAuth 2 (Badge Connect) token expired or was refused, and cannot be renewed.

    There was no refresh token, or the host refused it: the user must connect again.
    """

    def __init__(self, message: str, *, provider_id: int | None = None) -> None:
        super().__init__(message)
        self.provider_id = provider_id


class TransportError(BackpackError):
    """No usable HTTP exchange happened: the connection failed, broke, or was refused.

    The underlying ``httpx2`` error is chained as ``__cause__``.
    """

    def __init__(self, message: str, *, action: str | None = None) -> None:
        super().__init__(message)
        self.action = action


class RequestTimeoutError(TransportError):
    """A connect, read, write or pool timeout expired, or the call's overall deadline passed."""


class RedirectRefusedError(TransportError):
    """The backpack answered with a redirect the client does not follow.

    Only GET requests are followed, and only within their origin unless the client allows
    more; never a token request. Nothing was sent to ``location``.

    Attributes:
        status_code: the redirect's HTTP status (301, 302, 303, 307 or 308).
        url: the URL that answered with the redirect.
        location: where the redirect pointed (absolute).
    """

    def __init__(
        self, message: str, *, status_code: int, url: str, location: str, action: str | None
    ) -> None:
        super().__init__(message, action=action)
        self.status_code = status_code
        self.url = url
        self.location = location


class AnswerTooLargeError(TransportError):
    """The answer's body is larger than the client's cap; reading stopped at the cap.

    Attributes:
        limit: the cap, in bytes.
        url: the URL whose answer was too large.
    """

    def __init__(self, message: str, *, limit: int, url: str, action: str | None) -> None:
        super().__init__(message, action=action)
        self.limit = limit
        self.url = url


class BlockedAddressError(TransportError):
    """The client refused to connect: the host is a private address or the port is not allowed.

    Raised before any byte is sent. Attributes: ``url`` and ``reason``.
    """

    def __init__(self, message: str, *, url: str, reason: str, action: str | None) -> None:
        super().__init__(message, action=action)
        self.url = url
        self.reason = reason


class InvalidResponseError(BackpackError):
    """The backpack answered with success, but the body is not what its protocol promises."""

    def __init__(self, message: str, *, action: str | None = None, body: str = "") -> None:
        super().__init__(message)
        self.action = action
        self.body = body


class APIStatusError(BackpackError):
    """The backpack answered with an error status.

    Attributes:
        status_code: the HTTP status.
        action: the protocol action that was attempted.
        description: the backpack's own explanation, when it gave one.
        body: the decoded JSON body, or the raw text when it was not JSON.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        action: str | None = None,
        description: str = "",
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.action = action
        self.description = description
        self.body = body


class RemoteValidationError(APIStatusError):
    """The backpack refused the input (400 or 422).

    ``field_errors`` maps a field to its messages (Badgr's ``fieldErrors``, normalised to
    lists of strings; nested objects keep their nesting as dotted names);
    ``validation_errors`` lists whole-object messages (Badgr's ``validationErrors``, objects
    rendered as ``NAME: description``).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        action: str | None = None,
        description: str = "",
        body: Any = None,
        field_errors: dict[str, list[str]] | None = None,
        validation_errors: list[str] | None = None,
    ) -> None:
        super().__init__(
            message, status_code=status_code, action=action, description=description, body=body
        )
        self.field_errors = field_errors or {}
        self.validation_errors = validation_errors or []


class DuplicateBadgeError(RemoteValidationError):
    """The badge is already in the backpack (Badgr's ``DUPLICATE_BADGE``)."""


class AuthenticationError(APIStatusError):
    """The backpack did not accept the credentials or the token (401, or a refused grant).

    ``error`` holds the OAuth error code when the token endpoint gave one
    (``invalid_grant``...).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        action: str | None = None,
        description: str = "",
        body: Any = None,
        error: str = "",
    ) -> None:
        super().__init__(
            message, status_code=status_code, action=action, description=description, body=body
        )
        self.error = error


class PermissionDeniedError(APIStatusError):
    """The backpack forbids the action (403)."""


class ScopeNotGrantedError(PermissionDeniedError):
    """The host refused an action whose OAuth scope the account's token was not granted.

    Attributes:
        scope: the scope the action needs (connect again and allow it).
    """

    def __init__(self, message: str, *, scope: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.scope = scope


class NotFoundError(APIStatusError):
    """The object does not exist, or (as Badgr answers) is not visible to this account (404)."""


class ConflictError(APIStatusError):
    """The backpack reports a conflict (409)."""


class RateLimitError(APIStatusError):
    """The backpack is rate limiting (429); ``retry_after`` is the wait it asked for, in seconds."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 429,
        action: str | None = None,
        description: str = "",
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message, status_code=status_code, action=action, description=description, body=body
        )
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """The backpack failed (5xx)."""


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


class InvalidCredentialError(InvalidInputError):
    """A credential, proof or baked image that cannot be read, signed or baked as given.

    Raised for input that is not JSON, a document with an inline ``@context`` object, a
    private key of the wrong kind for a suite, or an image with no credential in it.
    """


class DocumentUnavailableError(BackpackError):
    """A JSON-LD context or document that the offline loader will not or cannot provide.

    ``url`` names it. The loader gives only the contexts shipped with openbackpack and those
    its document map names; any other URL is refused unless fetching was allowed.
    """

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url
