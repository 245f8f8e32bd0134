"""A user's profile as the Badge Connect and 3.0 APIs show it, and changing it.

Both APIs name the account by the same ``urn:uuid`` and change the same fields: the name
(one string, or given and family names) and which verified e-mail address is primary. An
unverified address can never become the profile's e-mail.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any, Final

from sqlalchemy import Connection, update

from openbackpack.host import _schema as t
from openbackpack.host._accounts import HostUser

__all__ = ["ProfileError", "profile_id", "update_profile"]

_MAX_NAME: Final = 300
_MAX_PART: Final = 150


class ProfileError(Exception):
    """A profile change that cannot be made; the message says which field and why."""


def profile_id(user: HostUser) -> str:
    """The profile's id: a ``urn:uuid`` made from the account's entity id."""
    raw = base64.urlsafe_b64decode(user.entity_id + "==")
    return f"urn:uuid:{uuid.UUID(bytes=raw[:16].ljust(16, b'0'))}"


def _text(value: Any, field: str, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ProfileError(f"{field} must be a string.")
    return value.strip()


def update_profile(
    connection: Connection,
    user: HostUser,
    *,
    name: Any = None,
    given_name: Any = None,
    family_name: Any = None,
    email: Any = None,
) -> None:
    """Change a user's name and primary e-mail; None leaves a field as it is.

    ``name`` is split at its first space into first and last name; ``given_name`` and
    ``family_name`` set them one by one and win over ``name``.

    Raises:
        ProfileError: a name that is not a string, or an e-mail that is not one of the
            account's verified addresses.
    """
    values: dict[str, str] = {}
    if name is not None:
        first, _, last = _text(name, "name", _MAX_NAME).partition(" ")
        values = {"first_name": first[:_MAX_PART], "last_name": last.strip()[:_MAX_PART]}
    if given_name is not None:
        values["first_name"] = _text(given_name, "givenName", _MAX_PART)
    if family_name is not None:
        values["last_name"] = _text(family_name, "familyName", _MAX_PART)
    if values:
        connection.execute(update(t.users).where(t.users.c.id == user.id).values(**values))
    if email is None:
        return
    address = email.strip().lower() if isinstance(email, str) else ""
    if address not in user.verified_emails:
        raise ProfileError("email must be one of the account's verified addresses.")
    connection.execute(
        update(t.emails).where(t.emails.c.user_id == user.id).values(is_primary=False)
    )
    connection.execute(
        update(t.emails)
        .where(t.emails.c.user_id == user.id, t.emails.c.email == address)
        .values(is_primary=True)
    )
