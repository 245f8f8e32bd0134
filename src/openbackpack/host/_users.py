"""Managing the host's accounts from Python: the library face of ``host add-user``."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select

from openbackpack._exceptions import InvalidInputError, RecordNotFoundError
from openbackpack.host import _accounts
from openbackpack.host import _schema as t
from openbackpack.host._accounts import HostUser
from openbackpack.host._db import HostDatabase, insert_id
from openbackpack.host._ob3store import HostCredential, stored_credentials
from openbackpack.host._queries import backpack_assertions, imported_items
from openbackpack.host._wire import new_entity_id
from openbackpack.store import Store
from openbackpack.store._types import utcnow

__all__ = [
    "HostCollection",
    "add_collection",
    "add_email",
    "add_user",
    "list_credentials",
    "list_users",
]

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


def list_users(target: Target) -> list[HostUser]:
    """Every host user, oldest first, with their e-mails."""
    with _database(target).begin() as connection:
        ids = connection.scalars(select(t.users.c.id).order_by(t.users.c.id)).all()
        return [user for user in (_accounts.load_user(connection, i) for i in ids) if user]


def list_credentials(target: Target, user_email: str) -> list[HostCredential]:
    """The Open Badges 3.0 credentials the user who owns ``user_email`` holds, oldest first.

    Raises:
        RecordNotFoundError: no user has ``user_email``.
    """
    with _database(target).begin() as connection:
        return stored_credentials(connection, _user_of(connection, user_email).id)


@dataclass(frozen=True, slots=True)
class HostCollection:
    """A collection on the host: its entity id, owner, name, whether published, its items."""

    entity_id: str
    user_email: str
    name: str
    published: bool
    assertions: tuple[str, ...]


def add_collection(
    target: Target,
    user_email: str,
    name: str,
    *,
    published: bool = False,
    description: str = "",
    assertions: Sequence[str] = (),
) -> HostCollection:
    """Create a collection for the user who owns ``user_email`` (what the web UI would do).

    ``assertions`` are entity ids of items in that user's backpack; a published collection
    is what a site offers the learner to display.

    Raises:
        RecordNotFoundError: no user has ``user_email``, or an assertion is not theirs.
        InvalidInputError: the name is empty.
    """
    if not name.strip():
        raise InvalidInputError("a collection needs a name")
    with _database(target).begin() as connection:
        user = _user_of(connection, user_email)
        for eid in assertions:
            mine = backpack_assertions(connection, user, entity_id=eid, include_rejected=True)
            if not mine and not imported_items(connection, user.id, entity_id=eid):
                raise RecordNotFoundError(f"assertion in the backpack of {user_email}", eid)
        entity_id = new_entity_id()
        collection_id = insert_id(
            connection,
            insert(t.collections).values(
                entity_id=entity_id,
                user_id=user.id,
                name=name.strip(),
                description=description,
                share_hash=secrets.token_hex(16) if published else None,
                created_at=utcnow(),
            ),
        )
        unique = list(dict.fromkeys(assertions))
        if unique:
            connection.execute(
                insert(t.collection_items),
                [
                    {"collection_id": collection_id, "item_eid": eid, "position": index}
                    for index, eid in enumerate(unique)
                ],
            )
    return HostCollection(entity_id, user.primary_email, name.strip(), published, tuple(unique))


def _user_of(connection: Connection, email: str) -> HostUser:
    user_id = connection.scalar(
        select(t.emails.c.user_id).where(t.emails.c.email == email.strip().lower())
    )
    user = None if user_id is None else _accounts.load_user(connection, user_id)
    if user is None:
        raise RecordNotFoundError("host user", email)
    return user
