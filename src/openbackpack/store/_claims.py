"""Push claims: who creates an object on a host, and what was last pushed there.

A claim is taken in its own committed transaction before the create, so exactly one worker
in any process owns it. A claim whose holder's lease ran out (or whose holder process on
this machine is gone) is taken over; the successor must look on the host before creating,
since the create may have happened.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from openbackpack.store import _schema as t
from openbackpack.store._records import IdentifierKind
from openbackpack.store._types import utcnow

__all__ = ["Claim", "PushClaims", "holder_alive", "new_holder"]

_HOST = socket.gethostname()[:64]


def new_holder(worker: str) -> str:
    """A holder name for this process: host, pid and a worker tag (for takeover checks)."""
    return f"{_HOST}:{os.getpid()}:{worker}"[:128]


def holder_alive(holder: str) -> bool:
    """Whether the holder may still be working: True unless it is a gone process of this host."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _HOST or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of asking for a claim.

    ``acquired``: this worker owns the create now. ``fresh``: no claim existed before, so
    nothing can have been created; otherwise the create may have happened and the host must
    be searched first. ``content_hash``: what was last pushed, if recorded.
    """

    acquired: bool
    fresh: bool
    content_hash: str | None


class PushClaims:
    """Claims per (provider, kind, key); see the module docstring."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def acquire(
        self, provider_id: int, kind: IdentifierKind, key: str, holder: str, lease: timedelta
    ) -> Claim:
        """Take the claim unless another live holder has it; run in its own transaction."""
        now = utcnow()
        values = {
            "provider_id": provider_id,
            "kind": IdentifierKind(kind).value,
            "internal_key": key,
            "holder": holder,
            "lease_until": now + lease,
            "claimed_at": now,
        }
        if self._insert_new(values):
            return Claim(acquired=True, fresh=True, content_hash=None)
        row = self._row(provider_id, kind, key)
        if row is None:  # deleted in between: try once more from scratch
            return Claim(acquired=self._insert_new(values), fresh=True, content_hash=None)
        free = (
            row.holder is None
            or row.holder == holder
            or row.lease_until is None
            or row.lease_until <= now
            or not holder_alive(row.holder)
        )
        if not free:
            return Claim(acquired=False, fresh=False, content_hash=row.content_hash)
        # Compare and set: of two successors, only one sees the old holder still there.
        same = (
            t.push_claims.c.holder.is_(None)
            if row.holder is None
            else (t.push_claims.c.holder == row.holder)
        )
        taken = self._conn.execute(
            update(t.push_claims)
            .where(self._where(provider_id, kind, key), same)
            .values(holder=holder, lease_until=now + lease, claimed_at=now)
        ).rowcount
        return Claim(acquired=taken == 1, fresh=False, content_hash=row.content_hash)

    def finish(
        self,
        provider_id: int,
        kind: IdentifierKind,
        key: str,
        remote_id: str,
        content_hash: str | None,
    ) -> None:
        """Record that the object exists (its remote id, what was pushed); free the claim.

        Raises:
            sqlalchemy.exc.IntegrityError: another key already owns ``remote_id`` (two
                workers adopted the same remote object); the caller must look again.
        """
        values = {
            "provider_id": provider_id,
            "kind": IdentifierKind(kind).value,
            "internal_key": key,
            "holder": None,
            "lease_until": None,
            "remote_id": remote_id[:255],
            "content_hash": content_hash,
            "claimed_at": utcnow(),
        }
        # The row exists almost always (the claim was taken first): update, insert if not.
        updated = self._conn.execute(
            update(t.push_claims)
            .where(self._where(provider_id, kind, key))
            .values(
                holder=None,
                lease_until=None,
                remote_id=remote_id[:255],
                content_hash=content_hash,
            )
        ).rowcount
        if not updated:
            self._insert_new(values)

    def owners(
        self, provider_id: int, kind: IdentifierKind, remote_ids: Iterable[str]
    ) -> dict[str, str]:
        """Which of our keys already own each of ``remote_ids`` (remote id to key)."""
        wanted = [remote[:255] for remote in remote_ids]
        if not wanted:
            return {}
        rows = self._conn.execute(
            select(t.push_claims.c.remote_id, t.push_claims.c.internal_key).where(
                t.push_claims.c.provider_id == provider_id,
                t.push_claims.c.kind == IdentifierKind(kind).value,
                t.push_claims.c.remote_id.in_(wanted),
            )
        )
        return {row.remote_id: row.internal_key for row in rows}

    def release(self, provider_id: int, kind: IdentifierKind, key: str, holder: str) -> None:
        """Give the claim up after a failure (a successor will look before creating)."""
        self._conn.execute(
            update(t.push_claims)
            .where(self._where(provider_id, kind, key), t.push_claims.c.holder == holder)
            .values(holder=None, lease_until=None)
        )

    def content_hashes(
        self, provider_id: int, kind: IdentifierKind, keys: Iterable[str]
    ) -> dict[str, str]:
        """What was last pushed for each of ``keys`` that has a record."""
        wanted = list(keys)
        found: dict[str, str] = {}
        for start in range(0, len(wanted), 500):
            rows = self._conn.execute(
                select(t.push_claims.c.internal_key, t.push_claims.c.content_hash).where(
                    t.push_claims.c.provider_id == provider_id,
                    t.push_claims.c.kind == IdentifierKind(kind).value,
                    t.push_claims.c.internal_key.in_(wanted[start : start + 500]),
                    t.push_claims.c.content_hash.is_not(None),
                )
            )
            found.update({row.internal_key: row.content_hash for row in rows})
        return found

    def held(self, provider_id: int, kind: IdentifierKind, key: str) -> datetime | None:
        """Until when another worker's lease runs, if the claim is held."""
        row = self._row(provider_id, kind, key)
        return None if row is None or row.holder is None else row.lease_until

    def _row(self, provider_id: int, kind: IdentifierKind, key: str) -> Row[Any] | None:
        return self._conn.execute(
            select(t.push_claims).where(self._where(provider_id, kind, key))
        ).first()

    @staticmethod
    def _where(provider_id: int, kind: IdentifierKind, key: str) -> ColumnElement[bool]:
        return and_(
            t.push_claims.c.provider_id == provider_id,
            t.push_claims.c.kind == IdentifierKind(kind).value,
            t.push_claims.c.internal_key == key,
        )

    def _insert_new(self, values: Mapping[str, object]) -> bool:
        """Insert unless the key exists, without an error that would spoil the transaction."""
        dialect = self._conn.dialect.name
        statement = (
            postgresql.insert(t.push_claims).on_conflict_do_nothing()
            if dialect == "postgresql"
            else sqlite.insert(t.push_claims).on_conflict_do_nothing()
        )
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT DO NOTHING
        # through SQLAlchemy, which made every new claim look like an old one on PostgreSQL.
        inserted = statement.values(**values).returning(t.push_claims.c.internal_key)
        return self._conn.execute(inserted).first() is not None
