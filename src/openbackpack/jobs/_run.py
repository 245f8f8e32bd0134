"""What the tasks do, as plain functions over a store and a client (Celery is in ``_app``).

A chunk pushes its pending awards in waves of ``threads`` through :func:`push_awards`, so
every create goes through the push claims: a chunk run twice, or taken over from a worker
that died mid-wave, creates nothing twice. Between waves it looks at the job: a cancelled
job stops there, after the awards in flight. Awards that met a 429 or a 5xx stay pending
and the chunk is retried later (the host's ``Retry-After``), until the retries run out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from openbackpack._exceptions import (
    BackpackError,
    RateLimitError,
    ServerError,
    TransportError,
)
from openbackpack.client import BackpackClient
from openbackpack.services import BulkPushReport, external_badges, push_awards
from openbackpack.services._claiming import StoreBusyError, in_transaction
from openbackpack.store import SITE_OWNER, Job, Store
from openbackpack.store._jobs import ItemStatus

__all__ = ["ChunkOutcome", "owners_to_refresh", "refresh_owner", "run_chunk"]


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


def _outcomes(
    report: BulkPushReport, *, final: bool
) -> tuple[list[tuple[str, ItemStatus, str]], list[BackpackError]]:
    rows: list[tuple[str, ItemStatus, str]] = [
        (r.award_hash, "done", r.status) for r in report.results
    ]
    again: list[BackpackError] = []
    for failure in report.failures:
        if _retryable(failure.error) and not final:
            again.append(failure.error)  # stays pending for the retry
        else:
            rows.append((failure.award_hash, "failed", str(failure.error)))
    return rows, again


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
    pushed = failed = 0
    again: list[BackpackError] = []
    for start in range(0, len(pending), threads):
        if start and _live(store, job_id).finished:
            return ChunkOutcome(pushed, failed, stopped=True)
        wave = pending[start : start + threads]
        try:
            report = push_awards(
                store, job.owner, wave, issuer_base_url=job.issuer_base_url,
                provider_id=job.provider_id, client=client, concurrency=len(wave),
                refresh=job.refresh,
            )  # fmt: skip
        except BackpackError as exc:
            # Not one award's failure but the whole push's (external backpacks switched
            # off, ...): the job cannot go on.
            _fail(store, job_id, str(exc))
            return ChunkOutcome(pushed, failed + len(pending) - start, stopped=True)
        rows, retry = _outcomes(report, final=final)
        again += retry
        _record(store, job_id, rows)
        pushed += len(report.results)
        failed += sum(1 for _, status, _ in rows if status == "failed")
    if again:
        return ChunkOutcome(pushed, failed, retry_in=_countdown(again, attempt, max_countdown))
    return ChunkOutcome(pushed, failed)


def refresh_owner(store: Store, client: BackpackClient, owner: str) -> int:
    """Read a learner's backpacks again into the badge cache; return the badges found."""
    return external_badges(store, owner, refresh=True, client=client).total_badges


def owners_to_refresh(store: Store) -> list[str]:
    """Every learner with a connected backpack account (not the site's own accounts)."""
    with store.transaction() as tx:
        accounts = tx.accounts.list()
    return sorted({a.owner for a in accounts if a.owner != SITE_OWNER})
