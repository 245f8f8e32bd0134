"""Errors raised by the flows."""

from __future__ import annotations

from openbackpack._exceptions import BackpackError, InvalidInputError

__all__ = [
    "AuthorizationDeniedError",
    "ExternalBackpacksDisabledError",
    "NotConnectedError",
    "NotOwnerError",
    "NotYourAwardError",
    "OAuthStateError",
    "VerificationError",
]


class VerificationError(BackpackError):
    """An email verification failed: no pending connection, a wrong code, or an expired one."""


class NotConnectedError(BackpackError):
    """The user has no backpack account on that provider (or none at all)."""


class NotYourAwardError(InvalidInputError):
    """The award was not made to the user's backpack email, so it cannot go in their backpack."""


class ExternalBackpacksDisabledError(BackpackError, PermissionError):
    """The site settings switch external backpacks off (``allow_external_backpacks``).

    Raised by every flow that talks to external backpacks and every site-backpack admin
    action, before any I/O; disconnecting, cancelling and the privacy flows stay allowed.
    """


class NotOwnerError(BackpackError, PermissionError):
    """Someone other than the owner tried to act on a user's backpack connection."""


class OAuthStateError(BackpackError):
    """A Badge Connect redirect came back with a ``state`` that is unknown, used or expired.

    Each state is good for one redirect within ten minutes; start the connection again.
    """


class AuthorizationDeniedError(BackpackError):
    """The backpack sent the user back with an OAuth error (``access_denied``, ...)."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(
            f"the backpack refused the connection: {error}"
            + (f" ({description})" if description else "")
        )
        self.error = error
        self.description = description
