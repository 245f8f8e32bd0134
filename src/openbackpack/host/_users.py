"""Managing the host's accounts from Python: the library face of ``host add-user``."""

from __future__ import annotations

from sqlalchemy import Engine, select

from openbackpack._exceptions import RecordNotFoundError
from openbackpack.host import _accounts
from openbackpack.host import _schema as t
from openbackpack.host._accounts import HostUser
from openbackpack.host._db import HostDatabase
from openbackpack.store import Store

__all__ = ["add_email", "add_user"]

Target = HostDatabase | Engine | Store


def _database(target: Target) -> HostDatabase:
    if isinstance(target, HostDatabase):
        return target
    engine = target.engine if isinstance(target, Store) else target
    # A store's database can hold the host's tables too; create them on first use.
    return HostDatabase.from_engine(engine, migrate=True)


def add_user(
    target: Target,
    email: str,
    password: str,
    *,
    verified: bool = True,
    first_name: str = "",
    last_name: str = "",
) -> HostUser:
    """Create a host user who logs in with ``email`` and ``password``.

    ``target`` is the host's database, an engine, or an openbackpack :class:`Store` whose
    database also holds the host's tables. The password is stored as an argon2 hash.

    Raises:
        InvalidInputError: the e-mail is malformed or the password empty.
        DuplicateRecordError: the e-mail already belongs to a user.
    """
    with _database(target).begin() as connection:
        return _accounts.add_user(
            connection,
            email,
            password,
            verified=verified,
            first_name=first_name,
            last_name=last_name,
        )


def add_email(target: Target, user_email: str, email: str, *, verified: bool = True) -> HostUser:
    """Give the user who owns ``user_email`` another address (verified or not).

    Raises:
        RecordNotFoundError: no user has ``user_email``.
        DuplicateRecordError: ``email`` already belongs to a user.
    """
    with _database(target).begin() as connection:
        user_id = connection.scalar(
            select(t.emails.c.user_id).where(t.emails.c.email == user_email.strip().lower())
        )
        if user_id is None:
            raise RecordNotFoundError("host user", user_email)
        _accounts.add_email(connection, user_id, email, verified=verified)
        user = _accounts.load_user(connection, user_id)
        assert user is not None
        return user
