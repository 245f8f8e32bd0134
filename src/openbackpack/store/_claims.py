"""Push claims: who creates an object on a host, and what was last pushed there.

A claim is taken in its own committed transaction before the create, so exactly one worker
in any process owns it. A claim whose holder's lease ran out (or whose holder process on
this machine is gone) is taken over; the successor must look on the host before creating,
since the create may have happened.
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, Row, and_, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from openbackpack.store import _schema as t
from openbackpack.store._records import IdentifierKind
from openbackpack.store._types import utcnow

__all__ = ["Claim", "PushClaims", "holder_alive", "new_holder"]

_HOST = socket.gethostname()[:64]
_CHUNK: Final = 500  # keys per IN list or multi-row statement (SQLite's variable limit)


@dataclass(frozen=True, slots=True)
class _Statements:
    """The bulk statements, built once per dialect: building one costs more than running it."""

    claim: Any
    record: Any
    map: Any
    release: Any
    mapped: Any


@functools.cache
def _statements(dialect: str) -> _Statements:
    def insert(table: Any) -> Any:
        return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)

    c, m = t.push_claims.c, t.external_identifiers.c
    upsert = insert(t.push_claims)
    return _Statements(
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT DO
        # NOTHING through SQLAlchemy, which made every new claim look like an old one on
        # PostgreSQL. Run as executemany: SQLAlchemy sends multi-row VALUES statements
        # ("insertmanyvalues") and returns a row for each inserted key.
        claim=insert(t.push_claims).on_conflict_do_nothing().returning(c.internal_key),
        record=upsert.on_conflict_do_update(
            index_elements=[c.provider_id, c.kind, c.internal_key],
            set_={
                "holder": None,
                "lease_until": None,
                "remote_id": upsert.excluded.remote_id,
                "content_hash": upsert.excluded.content_hash,
            },
        ),
        # A key mapped already (by an earlier push of it) keeps its mapping.
        map=insert(t.external_identifiers).on_conflict_do_nothing(
            index_elements=[m.provider_id, m.kind, m.internal_key]
        ),
        release=update(t.push_claims)
        .where(
            c.provider_id == bindparam("b_provider"),
            c.kind == bindparam("b_kind"),
            c.internal_key.in_(bindparam("b_keys", expanding=True)),
            c.holder == bindparam("b_holder"),
        )
        .values(holder=None, lease_until=None),
        mapped=select(m.internal_key, m.external_id).where(
            m.provider_id == bindparam("b_provider"),
            m.kind == bindparam("b_kind"),
            m.internal_key.in_(bindparam("b_keys", expanding=True)),
        ),
    )


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

    def acquire_many(
        self,
        provider_id: int,
        kind: IdentifierKind,
        keys: Iterable[str],
        holder: str,
        lease: timedelta,
    ) -> dict[str, Claim]:
        """:meth:`acquire` for many keys at once: one insert for the new, one read for the rest."""
        # In key order, so that two transactions claiming overlapping keys on PostgreSQL
        # wait for each other instead of deadlocking.
        wanted = sorted(set(keys))
        now = utcnow()
        claims: dict[str, Claim] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            rows = [
                {
                    "provider_id": provider_id,
                    "kind": IdentifierKind(kind).value,
                    "internal_key": key,
                    "holder": holder,
                    "lease_until": now + lease,
                    "claimed_at": now,
                }
                for key in chunk
            ]
            for key in self._insert_many(rows):
                claims[key] = Claim(acquired=True, fresh=True, content_hash=None)
        # Keys claimed before (a crash, another worker): decided one by one, as acquire does.
        for key in wanted:
            if key not in claims:
                claims[key] = self.acquire(provider_id, kind, key, holder, lease)
        return claims

    def record_many(
        self,
        provider_id: int,
        kind: IdentifierKind,
        records: Iterable[tuple[str, str, str | None]],
    ) -> None:
        """Record many created objects at once: ``(key, remote id, content hash)`` each.

        Each claim is freed with its remote id and content hash (inserted if it was never
        taken), and each key without a remote-id mapping gets one.

        Raises:
            sqlalchemy.exc.IntegrityError: another key already owns one of the remote ids;
                the caller must record them one by one to learn which.
        """
        items = sorted(records, key=lambda item: item[0])  # key order, as in acquire_many
        if not items:
            return
        now = utcnow()
        kind_value = IdentifierKind(kind).value
        claims = [
            {
                "provider_id": provider_id,
                "kind": kind_value,
                "internal_key": key,
                "holder": None,
                "lease_until": None,
                "remote_id": remote[:255],
                "content_hash": digest,
                "claimed_at": now,
            }
            for key, remote, digest in items
        ]
        statements = self._statements()
        self._conn.execute(statements.record, claims)
        mappings = [
            {
                "provider_id": provider_id,
                "kind": kind_value,
                "internal_key": key,
                "external_id": remote,
                "created_at": now,
            }
            for key, remote, _ in items
        ]
        self._conn.execute(statements.map, mappings)

    def mapped_many(
        self, provider_id: int, kind: IdentifierKind, keys: Iterable[str]
    ) -> dict[str, str]:
        """The remote-id mappings of those of ``keys`` that have one (key to remote id)."""
        wanted = list(keys)
        found: dict[str, str] = {}
        for start in range(0, len(wanted), _CHUNK):
            rows = self._conn.execute(
                self._statements().mapped,
                {
                    "b_provider": provider_id,
                    "b_kind": IdentifierKind(kind).value,
                    "b_keys": wanted[start : start + _CHUNK],
                },
            )
            found.update({row.internal_key: row.external_id for row in rows})
        return found

    def release_many(
        self, provider_id: int, kind: IdentifierKind, keys: Iterable[str], holder: str
    ) -> None:
        """:meth:`release` for many keys at once."""
        wanted = list(keys)
        for start in range(0, len(wanted), _CHUNK):
            self._conn.execute(
                self._statements().release,
                {
                    "b_provider": provider_id,
                    "b_kind": IdentifierKind(kind).value,
                    "b_keys": wanted[start : start + _CHUNK],
                    "b_holder": holder,
                },
            )

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

    def _statements(self) -> _Statements:
        return _statements(self._conn.dialect.name)

    def _insert_new(self, values: Mapping[str, object]) -> bool:
        """Insert unless the key exists, without an error that would spoil the transaction."""
        return bool(self._insert_many([values]))

    def _insert_many(self, rows: Sequence[Mapping[str, object]]) -> list[str]:
        """Insert the rows whose keys do not exist yet, in one statement; their keys."""
        result = self._conn.execute(self._statements().claim, list(rows))
        return [row.internal_key for row in result]
