"""What the tasks do, as plain functions over a store and a client (Celery is in ``_app``).

A chunk pushes its pending awards through one :func:`push_awards`, ``threads`` at a time,
so every create goes through the push claims: a chunk run twice, or taken over from a
worker that died mid-chunk, creates nothing twice. Outcomes are recorded in the job every
``threads`` awards, and the job is looked at as often (at most every
:data:`CANCEL_CHECK_EVERY` seconds): a cancelled job starts no award after that, and the
awards in flight finish. Awards that met a 429 or a 5xx stay pending and the chunk is
retried later (the host's ``Retry-After``), until the retries run out.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from openbackpack._exceptions import (
    BackpackError,
    RateLimitError,
    ServerError,
    TransportError,
)
from openbackpack.client import BackpackClient
from openbackpack.services import PushFailure, PushResult, external_badges, push_awards
from openbackpack.services._claiming import StoreBusyError, in_transaction
from openbackpack.store import SITE_OWNER, Job, Store
from openbackpack.store._jobs import ItemStatus

__all__ = [
    "CANCEL_CHECK_EVERY",
    "ChunkOutcome",
    "owners_to_refresh",
    "refresh_owner",
    "run_chunk",
]

CANCEL_CHECK_EVERY: Final = 0.25
"""Seconds between two looks at whether a running chunk's job was cancelled."""


@dataclass(frozen=True, slots=True)
class ChunkOutcome:
    """How a chunk run ended: ``retry_in`` seconds when awards are left to try again."""

    pushed: int
    failed: int
    retry_in: float | None = None
    stopped: bool = False
    """The job was cancelled or had finished: the chunk stopped (or did not start)."""


def _retryable(error: BackpackError) -> bool:
    return isinstance(error, RateLimitError | ServerError | TransportError | StoreBusyError)


def _countdown(errors: Sequence[BackpackError], attempt: int, cap: float) -> float:
    asked = [e.retry_after for e in errors if isinstance(e, RateLimitError) and e.retry_after]
    # The host's Retry-After when it gave one; else a doubling backoff.
    wait = max(asked) if asked else 2.0**attempt
    return min(max(wait, 1.0), cap)


@dataclass
class _Progress:
    """A running chunk's outcomes, recorded in the job every ``every`` awards.

    The pushing threads report here as each award finishes, and the one that fills a batch
    writes it (one transaction). Before each award starts, :meth:`stop` looks at the job,
    at most every :data:`CANCEL_CHECK_EVERY` seconds: a cancel is seen within that long.
    """

    store: Store
    job_id: str
    every: int
    final: bool
    rows: list[tuple[str, ItemStatus, str]] = field(default_factory=list)
    again: list[BackpackError] = field(default_factory=list)
    pushed: int = 0
    failed: int = 0
    cancelled: bool = False
    _checked_at: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def done(self, outcome: PushResult | PushFailure) -> None:
        """Count one award's outcome; write the batch once it is full."""
        with self._lock:
            if isinstance(outcome, PushResult):
                self.rows.append((outcome.award_hash, "done", outcome.status))
                self.pushed += 1
            elif _retryable(outcome.error) and not self.final:
                self.again.append(outcome.error)  # stays pending for the retry
            else:
                self.rows.append((outcome.award_hash, "failed", str(outcome.error)))
                self.failed += 1
            full = len(self.rows) >= self.every
        if full:
            # A failed write keeps its rows: the chunk's last flush writes them, or raises.
            with contextlib.suppress(StoreBusyError):
                self.flush()

    def flush(self) -> None:
        """Write the outcomes not yet written (one transaction); kept if it fails."""
        with self._lock:
            rows, self.rows = self.rows, []
        if not rows:
            return
        try:
            _record(self.store, self.job_id, rows)
        except BaseException:
            with self._lock:
                self.rows[:0] = rows
            raise

    def stop(self) -> bool:
        """Whether the job was cancelled (or ended): looked at most every so often."""
        now = time.monotonic()
        with self._lock:
            if self.cancelled or now - self._checked_at < CANCEL_CHECK_EVERY:
                return self.cancelled
            self._checked_at = now
        try:
            finished = _live(self.store, self.job_id).finished
        except StoreBusyError:
            return False  # the store is busy: look again a moment later
        with self._lock:
            self.cancelled = self.cancelled or finished
            return self.cancelled


def _fail(store: Store, job_id: str, reason: str) -> None:
    in_transaction(store, lambda tx: tx.jobs.fail(job_id, reason))


def _record(store: Store, job_id: str, rows: list[tuple[str, ItemStatus, str]]) -> None:
    in_transaction(store, lambda tx: tx.jobs.record(job_id, rows))


def _live(store: Store, job_id: str) -> Job:
    return in_transaction(store, lambda tx: tx.jobs.get(job_id))


def run_chunk(
    store: Store,
    client: BackpackClient,
    job_id: str,
    chunk: int,
    *,
    threads: int,
    attempt: int = 0,
    final: bool = True,
    max_countdown: float = 60.0,
) -> ChunkOutcome:
    """Push one chunk's pending awards; record each outcome in the job.

    ``final``: the last attempt, so awards that met 429/5xx are recorded as failed instead
    of left for a retry.
    """
    job = in_transaction(store, lambda tx: tx.jobs.start(job_id))
    if job.finished:
        return ChunkOutcome(0, 0, stopped=True)
    pending = in_transaction(store, lambda tx: tx.jobs.pending(job_id, chunk))
    # The job was just read: the first look for a cancel comes CANCEL_CHECK_EVERY later.
    progress = _Progress(store, job_id, every=threads, final=final)
    try:
        report = push_awards(
            store, job.owner, pending, issuer_base_url=job.issuer_base_url,
            provider_id=job.provider_id, client=client, concurrency=threads,
            refresh=job.refresh, on_done=progress.done, stop=progress.stop,
        )  # fmt: skip
    except BackpackError as exc:
        # Not one award's failure but the whole push's (external backpacks switched off,
        # ...): the job cannot go on.
        _fail(store, job_id, str(exc))
        return ChunkOutcome(0, len(pending), stopped=True)
    finally:
        progress.flush()
    if report.not_started:
        return ChunkOutcome(progress.pushed, progress.failed, stopped=True)
    if progress.again:
        retry_in = _countdown(progress.again, attempt, max_countdown)
        return ChunkOutcome(progress.pushed, progress.failed, retry_in=retry_in)
    return ChunkOutcome(progress.pushed, progress.failed)


def refresh_owner(store: Store, client: BackpackClient, owner: str) -> int:
    """Read a learner's backpacks again into the badge cache; return the badges found."""
    return external_badges(store, owner, refresh=True, client=client).total_badges


def owners_to_refresh(store: Store) -> list[str]:
    """Every learner with a connected backpack account (not the site's own accounts)."""
    with store.transaction() as tx:
        accounts = tx.accounts.list()
    return sorted({a.owner for a in accounts if a.owner != SITE_OWNER})
