"""Errors raised by the flows."""

from __future__ import annotations

from openbackpack._exceptions import BackpackError, InvalidInputError

__all__ = [
    "ExternalBackpacksDisabledError",
    "NotConnectedError",
    "NotOwnerError",
    "NotYourAwardError",
    "VerificationError",
]


class VerificationError(BackpackError):
    """An email verification failed: no pending connection, a wrong code, or an expired one."""


class NotConnectedError(BackpackError):
    """The user has no backpack account on that provider (or none at all)."""


class NotYourAwardError(InvalidInputError):
    """The award was not made to the user's backpack email, so it cannot go in their backpack."""


class ExternalBackpacksDisabledError(BackpackError):
    """The site settings switch external backpacks off."""


class NotOwnerError(BackpackError, PermissionError):
    """Someone other than the owner tried to act on a user's backpack connection."""
