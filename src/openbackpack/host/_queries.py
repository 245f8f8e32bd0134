"""The SQL the handlers share: awards joined with their badge class and issuer, and owners."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, or_, select

from openbackpack.host import _schema as t
from openbackpack.host._accounts import HostUser, load_user
from openbackpack.host._wire import not_found

__all__ = [
    "assertion_by_id",
    "assertion_query",
    "backpack_assertions",
    "badgeclass_query",
    "find_assertion",
    "find_badgeclass",
    "find_issuer",
    "imported_items",
    "owner",
]


def assertion_query() -> Select[Any]:
    """Awards with ``bc_eid``, ``issuer_eid`` and ``owner_id`` of their badge class."""
    return (
        select(
            t.assertions,
            t.badgeclasses.c.entity_id.label("bc_eid"),
            t.issuers.c.entity_id.label("issuer_eid"),
            t.issuers.c.owner_id.label("owner_id"),
        )
        .join(t.badgeclasses, t.badgeclasses.c.id == t.assertions.c.badgeclass_id)
        .join(t.issuers, t.issuers.c.id == t.badgeclasses.c.issuer_id)
    )


def badgeclass_query() -> Select[Any]:
    """Badge classes with ``issuer_eid`` and ``owner_id``."""
    return select(
        t.badgeclasses,
        t.issuers.c.entity_id.label("issuer_eid"),
        t.issuers.c.owner_id.label("owner_id"),
    ).join(t.issuers, t.issuers.c.id == t.badgeclasses.c.issuer_id)


def _owned(query: Select[Any], owner_column: Any, owned: bool) -> Select[Any]:
    return query.where(owner_column == bindparam("owner_id")) if owned else query


# The lookups below run on every request. Each statement is built once, with bound
# parameters: building a SELECT and computing its cache key cost SQLAlchemy more CPU than
# SQLite spends answering it, and a statement object keeps its cache key once computed.
@functools.cache
def _issuer_by_eid(owned: bool) -> Select[Any]:
    query = select(t.issuers).where(t.issuers.c.entity_id == bindparam("entity_id"))
    return _owned(query, t.issuers.c.owner_id, owned)


@functools.cache
def _badgeclass_by_eid(owned: bool) -> Select[Any]:
    query = badgeclass_query().where(t.badgeclasses.c.entity_id == bindparam("entity_id"))
    return _owned(query, t.issuers.c.owner_id, owned)


@functools.cache
def _assertion_by_eid(owned: bool) -> Select[Any]:
    query = assertion_query().where(t.assertions.c.entity_id == bindparam("entity_id"))
    return _owned(query, t.issuers.c.owner_id, owned)


@functools.cache
def _assertion_by_id() -> Select[Any]:
    return assertion_query().where(t.assertions.c.id == bindparam("id"))


def _find(
    connection: Connection,
    queries: Callable[[bool], Select[Any]],
    entity_id: str,
    owner_id: int | None,
) -> Row[Any]:
    if owner_id is None:
        row = connection.execute(queries(False), {"entity_id": entity_id}).one_or_none()
    else:
        params = {"entity_id": entity_id, "owner_id": owner_id}
        row = connection.execute(queries(True), params).one_or_none()
    if row is None:
        raise not_found()
    return row


def find_issuer(connection: Connection, entity_id: str, owner_id: int | None) -> Row[Any]:
    """The issuer with that eid (owned by ``owner_id`` unless it is ``None``), else a 404."""
    return _find(connection, _issuer_by_eid, entity_id, owner_id)


def find_badgeclass(connection: Connection, entity_id: str, owner_id: int | None) -> Row[Any]:
    """The badge class with that eid (of an issuer owned by ``owner_id``), else a 404."""
    return _find(connection, _badgeclass_by_eid, entity_id, owner_id)


def find_assertion(connection: Connection, entity_id: str, owner_id: int | None) -> Row[Any]:
    """The award with that eid (issued by an issuer of ``owner_id``), else a 404."""
    return _find(connection, _assertion_by_eid, entity_id, owner_id)


def assertion_by_id(connection: Connection, award_id: int) -> Row[Any]:
    """The award with that row id, joined as :func:`assertion_query` joins it."""
    return connection.execute(_assertion_by_id(), {"id": award_id}).one()


def owner(connection: Connection, user_id: int) -> HostUser:
    """The user who owns an issuer."""
    user = load_user(connection, user_id)
    assert user is not None  # the foreign key guarantees it
    return user


def backpack_assertions(
    connection: Connection,
    user: HostUser,
    *,
    entity_id: str | None = None,
    include_rejected: bool = False,
    include_revoked: bool = True,
    include_expired: bool = True,
    now: datetime | None = None,
) -> Sequence[Row[Any]]:
    """Awards made on this host to one of the user's verified e-mails."""
    query = assertion_query().where(
        t.assertions.c.recipient_type == "email",
        t.assertions.c.recipient_identity.in_(user.verified_emails),
    )
    if entity_id is not None:
        query = query.where(t.assertions.c.entity_id == entity_id)
    if not include_rejected:
        query = query.where(t.assertions.c.acceptance != "Rejected")
    if not include_revoked:
        query = query.where(t.assertions.c.revoked.is_(False))
    if not include_expired and now is not None:
        query = query.where(or_(t.assertions.c.expires.is_(None), t.assertions.c.expires > now))
    return connection.execute(query.order_by(t.assertions.c.created_at, t.assertions.c.id)).all()


def imported_items(
    connection: Connection,
    user_id: int,
    *,
    entity_id: str | None = None,
    include_expired: bool = True,
    now: datetime | None = None,
) -> Sequence[Row[Any]]:
    """The user's imported awards."""
    query = select(t.imports).where(t.imports.c.user_id == user_id)
    if entity_id is not None:
        query = query.where(t.imports.c.entity_id == entity_id)
    if not include_expired and now is not None:
        query = query.where(or_(t.imports.c.expires.is_(None), t.imports.c.expires > now))
    return connection.execute(query.order_by(t.imports.c.created_at, t.imports.c.id)).all()
