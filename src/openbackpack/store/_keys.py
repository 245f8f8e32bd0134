"""Issuer signing keys and status list entries (Open Badges 3.0).

The store keeps keys; it does not make them. The issuing side generates a key pair and hands
the store its public Multikey and its private key, which is sealed before it is written.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal, cast

from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from openbackpack._exceptions import InvalidInputError, RecordNotFoundError
from openbackpack.store import _schema as t
from openbackpack.store._crypto import Secret
from openbackpack.store._registry import Awards, BadgeClasses, Issuers
from openbackpack.store._registry_records import Award, BadgeClass
from openbackpack.store._repos import _new_id, _Repository
from openbackpack.store._types import utcnow

__all__ = ["STATUS_LIST_SIZE", "IssuerKey", "IssuerKeys", "KeyAlgorithmName", "StatusEntries"]

KeyAlgorithmName = Literal["Ed25519", "P-256"]
"""The key types an issuer can sign with."""

_ATTEMPTS: Final = 5

STATUS_LIST_SIZE: Final = 131_072
"""Entries in each issuer's status list: the minimum the Bitstring Status List spec sets."""

# Asked at every signing: built once (see the note in _registry).
_ACTIVE_KEY: Final = (
    select(t.issuer_keys)
    .where(t.issuer_keys.c.issuer_id == bindparam("issuer_id"))
    .where(t.issuer_keys.c.algorithm == bindparam("algorithm"))
    .where(t.issuer_keys.c.retired_at.is_(None))
)
_STATUS_INDEX_OF: Final = select(t.status_entries.c.status_index).where(
    t.status_entries.c.award_id == bindparam("award_id")
)
# Taking an issuer's next status list index, once per credential issued: built once.
_ISSUER_ID: Final = t.issuers.c.id == bindparam("issuer_id")
# SQLite ignores FOR UPDATE; a no-op write takes its write lock instead (see index_for).
_LOCK_ISSUER_SQLITE: Final = update(t.issuers).where(_ISSUER_ID).values(id=t.issuers.c.id)
_LOCK_ISSUER: Final = select(t.issuers.c.id).where(_ISSUER_ID).with_for_update()
_HIGHEST_INDEX: Final = select(func.max(t.status_entries.c.status_index)).where(
    t.status_entries.c.issuer_id == bindparam("issuer_id")
)
_NEW_ENTRY: Final = insert(t.status_entries)


@dataclass(frozen=True, slots=True)
class IssuerKey:
    """One signing key of an issuer; ``private_key`` is the PEM, sealed in the database."""

    id: int
    issuer_id: int
    algorithm: KeyAlgorithmName
    public_multikey: str
    private_key: Secret = field(repr=False)
    created_at: datetime
    retired_at: datetime | None

    @property
    def active(self) -> bool:
        """Whether this key signs new credentials (a retired key only verifies old ones)."""
        return self.retired_at is None


class IssuerKeys(_Repository):
    """Issuers' signing keys: at most one active key per issuer and algorithm."""

    def add(
        self, issuer_id: int, algorithm: KeyAlgorithmName, public_multikey: str, private_pem: Secret
    ) -> IssuerKey:
        """Store a new active key of ``issuer_id``, retiring the active one of that algorithm.

        Raises:
            RecordNotFoundError: the issuer does not exist.
            InvalidInputError: an unknown algorithm.
        """
        if algorithm not in ("Ed25519", "P-256"):
            raise InvalidInputError(f"unknown key algorithm {algorithm!r}")
        Issuers(self._conn, self._box).get(issuer_id)
        now = utcnow()
        self._conn.execute(
            update(t.issuer_keys)
            .where(t.issuer_keys.c.issuer_id == issuer_id)
            .where(t.issuer_keys.c.algorithm == algorithm)
            .where(t.issuer_keys.c.retired_at.is_(None))
            .values(retired_at=now)
        )
        result = self._conn.execute(
            insert(t.issuer_keys).values(
                issuer_id=issuer_id,
                algorithm=algorithm,
                public_multikey=public_multikey,
                private_key=self._box.seal(private_pem.reveal()),
                created_at=now,
            )
        )
        return self.get(_new_id(result))

    def get(self, key_id: int) -> IssuerKey:
        """Return one key. Raises :class:`RecordNotFoundError`."""
        row = self._conn.execute(select(t.issuer_keys).where(t.issuer_keys.c.id == key_id)).first()
        if row is None:
            raise RecordNotFoundError("issuer key", key_id)
        return self._key(row)

    def active(self, issuer_id: int, algorithm: KeyAlgorithmName = "Ed25519") -> IssuerKey | None:
        """The issuer's active key of that algorithm, if it has one."""
        row = self._conn.execute(
            _ACTIVE_KEY, {"issuer_id": issuer_id, "algorithm": algorithm}
        ).first()
        return None if row is None else self._key(row)

    def list(self, issuer_id: int | None = None) -> builtins.list[IssuerKey]:
        """Every key, active and retired, of one issuer or of all; oldest first."""
        query = select(t.issuer_keys).order_by(t.issuer_keys.c.id)
        if issuer_id is not None:
            query = query.where(t.issuer_keys.c.issuer_id == issuer_id)
        return [self._key(row) for row in self._conn.execute(query)]

    def _key(self, row: Row[Any]) -> IssuerKey:
        return IssuerKey(
            id=row.id,
            issuer_id=row.issuer_id,
            algorithm=cast(KeyAlgorithmName, row.algorithm),
            public_multikey=row.public_multikey,
            private_key=Secret(self._box.open(row.private_key)),
            created_at=row.created_at,
            retired_at=row.retired_at,
        )


class StatusEntries(_Repository):
    """Each award's index in its issuer's status list, given once and never reused."""

    def index_of(self, award_hash: str) -> int:
        """The award's status list index, assigning the issuer's next free one on first use.

        The assignment is one insert guarded by the table's unique constraints, inside the
        caller's transaction: two transactions racing for the same index cannot both commit.

        Raises:
            RecordNotFoundError: no award has that hash.
            InvalidInputError: the issuer's status list is full.
        """
        return self.index_for(Awards(self._conn, self._box).get(award_hash))

    def index_for(self, award: Award, badge: BadgeClass | None = None) -> int:
        """:meth:`index_of` an award already read, with its badge class when that is too.

        Raises:
            InvalidInputError: ``badge`` is not the award's badge class.
        """
        if badge is not None and badge.id != award.badge_class_id:
            raise InvalidInputError(
                f"badge class {badge.id} is not the badge class of award {award.hash!r}"
            )
        existing = self._conn.execute(_STATUS_INDEX_OF, {"award_id": award.id}).scalar()
        if existing is not None:
            return int(existing)
        if badge is None:
            badge = BadgeClasses(self._conn, self._box).get(award.badge_class_id)
        issuer_id = badge.issuer_id
        # Lock the issuer's row, so concurrent transactions take the issuer's next index one
        # after another instead of racing for it (and retrying on the unique constraint).
        # SQLite ignores FOR UPDATE, and Python's driver begins the transaction only at its
        # first write: write first (a no-op), so the next index is read as the writer.
        sqlite = self._conn.dialect.name == "sqlite"
        self._conn.execute(
            _LOCK_ISSUER_SQLITE if sqlite else _LOCK_ISSUER, {"issuer_id": issuer_id}
        )
        for _ in range(_ATTEMPTS):
            index = self._next_index(issuer_id)
            try:
                # A savepoint: losing the race for an index must not undo the caller's work.
                with self._conn.begin_nested():
                    self._conn.execute(
                        _NEW_ENTRY,
                        {"issuer_id": issuer_id, "award_id": award.id, "status_index": index},
                    )
            except IntegrityError:
                taken = self._conn.execute(
                    select(t.status_entries.c.status_index).where(
                        t.status_entries.c.award_id == award.id
                    )
                ).scalar()
                if taken is not None:
                    return int(taken)
                continue
            return index
        raise InvalidInputError(f"no free status list index for issuer {issuer_id}; try again")

    def _next_index(self, issuer_id: int) -> int:
        highest = self._conn.execute(_HIGHEST_INDEX, {"issuer_id": issuer_id}).scalar()
        index = 0 if highest is None else int(highest) + 1
        if index >= STATUS_LIST_SIZE:
            raise InvalidInputError(f"the status list of issuer {issuer_id} is full")
        return index

    def revoked_indexes(self, issuer_id: int) -> builtins.list[int]:
        """The status list indexes of the issuer's revoked awards."""
        query = (
            select(t.status_entries.c.status_index)
            .join(t.awards, t.awards.c.id == t.status_entries.c.award_id)
            .where(t.status_entries.c.issuer_id == issuer_id)
            .where(t.awards.c.revoked.is_(True))
            .order_by(t.status_entries.c.status_index)
        )
        return [int(index) for index in self._conn.execute(query).scalars()]
