"""Claims and records of many concurrent creates, written in shared transactions.

A bulk push runs many creates at once, and each needs two store writes: its claim (committed
before the create is sent) and its record (the remote id and content hash, committed before
the award counts as done). :class:`ClaimBatch` keeps both guarantees and writes the claims
and records of every worker waiting at the same moment in one transaction: the first waiting
worker writes for all the others (a group commit), each waits until its own write is
committed. When a shared transaction fails (one remote id that another key owns, a store
that stays busy), each write is tried again in a transaction of its own, so that one
award's conflict is only that award's.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final, Literal

from sqlalchemy.exc import DBAPIError

from openbackpack.services._claiming import DEFAULT_LEASE, StoreBusyError, in_transaction
from openbackpack.store import IdentifierKind, Store, Transaction
from openbackpack.store._claims import Claim

__all__ = ["ClaimBatch"]

_Op = Literal["claim", "record", "release"]
_WINDOW: Final = 0.005
_Group = tuple[int, IdentifierKind]


@dataclass(eq=False, slots=True)
class _Write:
    """One worker's write, waiting for the transaction that carries it."""

    op: _Op
    provider_id: int
    kind: IdentifierKind
    key: str
    remote: str = ""
    content_hash: str | None = None
    claim: Claim | None = None
    existing: str | None = None
    error: BaseException | None = None
    lead: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class ClaimBatch:
    """Group commit of claims, records and releases for one holder (see the module docstring).

    Thread-safe; meant to be shared by all the threads of one push call.
    """

    def __init__(
        self,
        store: Store,
        holder: str,
        *,
        lease: timedelta = DEFAULT_LEASE,
        workers: int = 1,
        window: float = _WINDOW,
    ) -> None:
        """A batch for ``workers`` threads; a write waits up to ``window`` seconds for others.

        With one worker nothing waits: there is nobody to share a transaction with.
        """
        self.store = store
        self.holder = holder
        self.lease = lease
        self.workers = workers
        self.window = window if workers > 1 else 0.0
        self.transactions = 0
        """Transactions written so far (how well the writes were shared)."""
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._pending: list[_Write] = []
        self._busy = False
        self._ahead: dict[tuple[int, IdentifierKind, str], tuple[Claim, str | None]] = {}

    def claim_ahead(self, provider_id: int, kind: IdentifierKind, keys: list[str]) -> None:
        """Take the claims on ``keys`` now, in one transaction, for creates about to be sent.

        :meth:`claim` then answers from what was taken here; claims never asked for are
        freed by :meth:`release_ahead`. A store that stays busy only means each key is
        claimed later on its own.
        """
        writes = [_Write("claim", provider_id, kind, key) for key in keys]
        if not writes:
            return
        self._submit(*writes, raises=False)
        with self._lock:
            for write in writes:
                if write.error is None and write.claim is not None:
                    self._ahead[(provider_id, kind, write.key)] = (write.claim, write.existing)

    def release_ahead(self) -> None:
        """Free the claims taken ahead that no create asked for (one transaction)."""
        with self._lock:
            unused, self._ahead = self._ahead, {}
        writes = [
            _Write("release", provider_id, kind, key)
            for (provider_id, kind, key), (claim, _) in unused.items()
            if claim.acquired
        ]
        if writes:
            self._submit(*writes, raises=False)

    def claim(self, provider_id: int, kind: IdentifierKind, key: str) -> tuple[Claim, str | None]:
        """Take the claim on ``key`` (committed on return) and look at its mapping.

        Returns the claim and the remote id if the key is mapped already, in which case an
        acquired claim has been freed again.
        """
        with self._lock:
            ahead = self._ahead.pop((provider_id, kind, key), None)
        if ahead is not None:
            return ahead
        write = self._submit(_Write("claim", provider_id, kind, key))
        assert write.claim is not None
        return write.claim, write.existing

    def record(
        self,
        provider_id: int,
        kind: IdentifierKind,
        key: str,
        remote: str,
        content_hash: str | None,
    ) -> None:
        """Record that ``key`` exists as ``remote`` and free its claim (committed on return).

        Raises:
            StoreBusyError: the store stayed busy, or another key owns ``remote``.
        """
        self._submit(_Write("record", provider_id, kind, key, remote, content_hash))

    def release(self, provider_id: int, kind: IdentifierKind, key: str) -> None:
        """Give up the claim on ``key`` after a failed create (committed on return)."""
        self._submit(_Write("release", provider_id, kind, key))

    def _submit(self, write: _Write, *more: _Write, raises: bool = True) -> _Write:
        # The writes are appended together, so one batch carries them all; the first of
        # them is the one a finishing writer may hand the next batch to.
        with self._lock:
            self._pending.extend((write, *more))
            lead = not self._busy
            self._busy = True
            self._arrived.notify()
        if not lead:
            write.done.wait()
        if lead or write.lead:
            self._write_pending()
        if raises and write.error is not None:
            raise write.error
        return write

    def _write_pending(self) -> None:
        with self._lock:
            # Creates finish at different moments: wait briefly for the other workers' writes
            # (a record costs a commit; eight in one commit cost little more than one).
            deadline = time.monotonic() + self.window
            while len(self._pending) < self.workers and (left := deadline - time.monotonic()) > 0:
                self._arrived.wait(left)
            batch, self._pending = self._pending, []
        try:
            self._write(batch)
        finally:
            with self._lock:
                if self._pending:
                    # Hand on: the first worker that came meanwhile writes the next batch.
                    successor = self._pending[0]
                    successor.lead = True
                    successor.done.set()
                else:
                    self._busy = False
            for write in batch:
                write.done.set()

    def _write(self, batch: list[_Write]) -> None:
        try:
            self.transactions += 1
            if len(batch) == 1:
                in_transaction(self.store, lambda tx: _apply(tx, batch, self.holder, self.lease))
            else:
                with self.store.transaction() as tx:
                    _apply(tx, batch, self.holder, self.lease)
        except (DBAPIError, StoreBusyError) as exc:
            if len(batch) == 1:
                batch[0].error = exc if isinstance(exc, StoreBusyError) else _busy(exc)
                return
            for write in batch:
                self._write([write])
        except Exception as exc:  # every waiting worker learns of it
            for write in batch:
                write.error = exc


def _busy(exc: DBAPIError) -> StoreBusyError:
    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
    return StoreBusyError(f"the store failed: {reason}")


def _apply(tx: Transaction, batch: list[_Write], holder: str, lease: timedelta) -> None:
    """Write the batch in ``tx``: records, then releases, then claims (each in bulk)."""
    groups: dict[tuple[_Op, _Group], list[_Write]] = defaultdict(list)
    for write in batch:
        groups[(write.op, (write.provider_id, write.kind))].append(write)
    claims = tx.push_claims
    for (op, (provider_id, kind)), writes in sorted(groups.items(), key=lambda g: _ORDER[g[0][0]]):
        if op == "record":
            claims.record_many(
                provider_id, kind, [(w.key, w.remote, w.content_hash) for w in writes]
            )
        elif op == "release":
            claims.release_many(provider_id, kind, [w.key for w in writes], holder)
        else:
            _claim(tx, provider_id, kind, writes, holder, lease)


_ORDER = {"record": 0, "release": 1, "claim": 2}


def _claim(
    tx: Transaction,
    provider_id: int,
    kind: IdentifierKind,
    writes: list[_Write],
    holder: str,
    lease: timedelta,
) -> None:
    keys = [w.key for w in writes]
    taken = tx.push_claims.acquire_many(provider_id, kind, keys, holder, lease)
    # The mapping is read after the claim, in the same transaction: a worker that finished
    # between a caller's first look and this claim has written it by now.
    mapped = tx.push_claims.mapped_many(provider_id, kind, keys)
    tx.push_claims.release_many(
        provider_id, kind, [k for k in keys if k in mapped and taken[k].acquired], holder
    )
    for write in writes:
        write.claim = taken[write.key]
        write.existing = mapped.get(write.key)
