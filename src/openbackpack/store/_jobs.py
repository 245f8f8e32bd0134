"""Jobs: bulk pushes and moves run by workers, their progress and each item's outcome.

A job row says who asked for what (``owner``, provider, awards), how far it got (``done``,
``failed`` of ``total``) and its state. Its items say, award by award, which chunk pushes it
and what became of it. An item leaves ``pending`` once: the counters move in the same
transaction as the item, so a chunk that runs twice (a worker lost mid-task, a broker that
delivers again) never counts an award twice.

A **move** job (``kind="move"``) has no items until its task reads the source: then each
badge becomes an item (:meth:`Jobs.read_badges`) and ``total`` is set. A badge's item is
marked as the move handles it (:meth:`Jobs.mark_badges`), and settled by the proof
(:meth:`Jobs.settle_move`), which may turn a badge that was sent into a failed one (the
target does not show it). Its counters are counted from the items each time, so a move
run twice (redelivered, retried) still counts each badge once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select, update

from openbackpack._exceptions import InvalidInputError, RecordNotFoundError
from openbackpack.store import _schema as t
from openbackpack.store._types import utcnow

__all__ = [
    "FINISHED_STATES",
    "BadgeOutcome",
    "ItemStatus",
    "Job",
    "JobItem",
    "JobKind",
    "JobState",
    "Jobs",
    "badge_key",
]

JobState = Literal["queued", "running", "done", "failed", "cancelled"]
"""``queued`` (no worker started it yet), ``running``, ``done`` (every award pushed),
``failed`` (every award tried, some failed; or the job could not be run at all),
``cancelled`` (stopped on request; awards in flight then still finished)."""

JobKind = Literal["push", "move"]
"""``push``: awards pushed into a backpack; ``move``: a learner's badges moved between two."""
ItemStatus = Literal["pending", "done", "failed"]

BadgeOutcome = tuple[str, ItemStatus, str, Mapping[str, Any]]
"""A move's badge: its source key, status, one-line result and report line (JSON-ready)."""

FINISHED_STATES: Final[frozenset[str]] = frozenset({"done", "failed", "cancelled"})
_INSERT_BATCH: Final = 1000
# Built once: a chunk records every few awards, and building the statement each time cost
# about as much Python as running it. One statement finishes every award of a group that
# shares its status and result (most of a chunk's awards do: "done", "201").
_FINISH_ITEMS: Final = (
    update(t.job_items)
    .where(
        t.job_items.c.job_id == bindparam("b_job"),
        t.job_items.c.award_hash.in_(bindparam("b_awards", expanding=True)),
        t.job_items.c.status == "pending",
    )
    .values(
        status=bindparam("b_status"),
        result=bindparam("b_result"),
        finished_at=bindparam("b_finished"),
    )
)


@dataclass(frozen=True, slots=True)
class Job:
    """One job and its progress."""

    id: str
    kind: JobKind
    owner: str | None
    provider_id: int | None
    issuer_base_url: str
    refresh: bool
    total: int
    done: int
    failed: int
    state: JobState
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    source_provider_id: int | None = None
    """A move's source backpack (its ``provider_id`` is the target)."""
    options: Mapping[str, Any] | None = None
    """A move's options (delete at the source, emails, rate, concurrency, resend, re-issue)."""
    report: Mapping[str, Any] | None = None
    """A move's summary once it ended: source, target, complete, counts, notes."""

    @property
    def finished(self) -> bool:
        """Whether the job has reached a final state."""
        return self.state in FINISHED_STATES


@dataclass(frozen=True, slots=True)
class JobItem:
    """One award of a job and what became of it (``result``: the push's status, or why not).

    In a move job: one badge, ``award_hash`` a digest of its source key
    (:func:`badge_key`), ``chunk`` its place at the source, ``detail`` its report line.
    """

    award_hash: str
    chunk: int
    status: ItemStatus
    result: str | None
    finished_at: datetime | None
    detail: Mapping[str, Any] | None = None


def badge_key(source_key: str) -> str:
    """The item key of a move's badge: a digest of its key at the source (a URL, a path)."""
    return hashlib.sha256(source_key.encode()).hexdigest()


class Jobs:
    """The jobs table and its items; see the module docstring."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def create(
        self,
        job_id: str,
        *,
        owner: str | None,
        provider_id: int | None,
        issuer_base_url: str,
        refresh: bool,
        chunks: Sequence[Sequence[str]],
    ) -> Job:
        """Record a queued push job whose awards are split into ``chunks`` (one task each).

        Raises:
            InvalidInputError: no awards, or an award listed twice.
        """
        hashes = [award for chunk in chunks for award in chunk]
        if not hashes:
            raise InvalidInputError("a job needs at least one award")
        if len(set(hashes)) != len(hashes):
            raise InvalidInputError("an award is listed twice in the job")
        self._conn.execute(
            insert(t.jobs).values(
                id=job_id, kind="push", owner=owner, provider_id=provider_id,
                issuer_base_url=issuer_base_url, refresh=refresh, total=len(hashes), done=0,
                failed=0, state="queued", error=None, created_at=utcnow(),
            )
        )  # fmt: skip
        rows = [
            {"job_id": job_id, "award_hash": award, "owner": owner, "chunk": number,
             "status": "pending", "result": None, "finished_at": None}
            for number, chunk in enumerate(chunks)
            for award in chunk
        ]  # fmt: skip
        for start in range(0, len(rows), _INSERT_BATCH):
            self._conn.execute(insert(t.job_items), rows[start : start + _INSERT_BATCH])
        return self.get(job_id)

    def get(self, job_id: str) -> Job:
        """Return one job. Raises :class:`RecordNotFoundError` if there is none."""
        row = self._conn.execute(select(t.jobs).where(t.jobs.c.id == job_id)).first()
        if row is None:
            raise RecordNotFoundError("job", job_id)
        return _job(row)

    def _locked(self, job_id: str) -> Job:
        """The job, its row locked until the transaction ends.

        Two runs of a move write its items one after the other, so the later one sees what
        the earlier one settled instead of writing over it.
        """
        if self._conn.dialect.name == "sqlite":
            # SQLite ignores FOR UPDATE, and Python's driver begins the transaction only at
            # its first write: write first (a no-op), so the read below waits for the writer.
            self._conn.execute(update(t.jobs).where(t.jobs.c.id == job_id).values(id=t.jobs.c.id))
        row = self._conn.execute(
            select(t.jobs).where(t.jobs.c.id == job_id).with_for_update()
        ).first()
        if row is None:
            raise RecordNotFoundError("job", job_id)
        return _job(row)

    def recent(self, *, owner: str | None = None, limit: int = 50) -> list[Job]:
        """The newest jobs first (only ``owner``'s when given)."""
        query = select(t.jobs).order_by(t.jobs.c.created_at.desc(), t.jobs.c.id).limit(limit)
        if owner is not None:
            query = query.where(t.jobs.c.owner == owner)
        return [_job(row) for row in self._conn.execute(query)]

    def items(self, job_id: str) -> list[JobItem]:
        """Every award of the job with its outcome so far, chunk by chunk."""
        rows = self._conn.execute(
            select(t.job_items)
            .where(t.job_items.c.job_id == job_id)
            .order_by(t.job_items.c.chunk, t.job_items.c.award_hash)
        )
        return [_item(row) for row in rows]

    def chunk_count(self, job_id: str) -> int:
        """How many chunks the job was split into."""
        highest = self._conn.scalar(
            select(func.max(t.job_items.c.chunk)).where(t.job_items.c.job_id == job_id)
        )
        return 0 if highest is None else int(highest) + 1

    def pending(self, job_id: str, chunk: int) -> list[str]:
        """The awards of one chunk not pushed (nor failed for good) yet."""
        rows = self._conn.execute(
            select(t.job_items.c.award_hash).where(
                t.job_items.c.job_id == job_id,
                t.job_items.c.chunk == chunk,
                t.job_items.c.status == "pending",
            )
        )
        return sorted(row.award_hash for row in rows)

    def start(self, job_id: str) -> Job:
        """Mark a queued job running (a job in any other state is left as it is)."""
        self._conn.execute(
            update(t.jobs)
            .where(t.jobs.c.id == job_id, t.jobs.c.state == "queued")
            .values(state="running", started_at=utcnow())
        )
        return self.get(job_id)

    def record(self, job_id: str, outcomes: Iterable[tuple[str, ItemStatus, str]]) -> Job:
        """Record awards as done or failed; each counts once; finish the job after the last."""
        now = utcnow()
        done = failed = 0
        for (status, result), awards in _grouped(outcomes).items():
            values = {"b_job": job_id, "b_awards": awards, "b_status": status,
                      "b_result": result, "b_finished": now}  # fmt: skip
            # Only pending items move, so the rowcount is what this call finished.
            moved = self._conn.execute(_FINISH_ITEMS, values).rowcount
            done += moved if status == "done" else 0
            failed += moved if status == "failed" else 0
        if done or failed:
            self._conn.execute(
                update(t.jobs)
                .where(t.jobs.c.id == job_id)
                .values(done=t.jobs.c.done + done, failed=t.jobs.c.failed + failed)
            )
        job = self.get(job_id)
        if job.done + job.failed >= job.total and job.state in ("queued", "running"):
            self._finish(job_id, "failed" if job.failed else "done", None)
            job = self.get(job_id)
        return job

    def cancel(self, job_id: str) -> Job:
        """Cancel a job that has not finished; a finished one is returned as it is."""
        job = self.get(job_id)
        if not job.finished:
            self._finish(job_id, "cancelled", None)
            job = self.get(job_id)
        return job

    def fail(self, job_id: str, error: str) -> Job:
        """Mark a job that cannot run (or go on) failed, with the reason."""
        self._finish(job_id, "failed", error[:2000])
        return self.get(job_id)

    def create_move(
        self,
        job_id: str,
        *,
        owner: str,
        source_provider_id: int,
        target_provider_id: int,
        options: Mapping[str, Any],
        issuer_base_url: str = "",
    ) -> Job:
        """Record a queued move of ``owner``'s badges; its items come when the source is read.

        ``issuer_base_url`` is the re-issuing site's base URL (empty: nothing is re-issued).
        """
        self._conn.execute(
            insert(t.jobs).values(
                id=job_id, kind="move", owner=owner, provider_id=target_provider_id,
                source_provider_id=source_provider_id, options=json.dumps(dict(options)),
                issuer_base_url=issuer_base_url, refresh=False, total=0, done=0, failed=0,
                state="queued", error=None, created_at=utcnow(),
            )
        )  # fmt: skip
        return self.get(job_id)

    def read_badges(self, job_id: str, badges: Sequence[tuple[str, str]]) -> Job:
        """The move read its source: one item per badge (source key, label), in this order.

        Items of an earlier run (a redelivered or retried task) are kept; a badge read
        again takes its new place. ``total`` is every item the job has.
        """
        owner = self._locked(job_id).owner
        known = {
            row.award_hash
            for row in self._conn.execute(
                select(t.job_items.c.award_hash).where(t.job_items.c.job_id == job_id)
            )
        }
        for place, (source_key, label) in enumerate(badges):
            key = badge_key(source_key)
            if key in known:
                self._conn.execute(
                    update(t.job_items)
                    .where(t.job_items.c.job_id == job_id, t.job_items.c.award_hash == key)
                    .values(chunk=place)
                )
                continue
            known.add(key)
            self._conn.execute(
                insert(t.job_items).values(
                    job_id=job_id, award_hash=key, owner=owner, chunk=place, status="pending",
                    result=None, finished_at=None,
                    detail=json.dumps({"source": label, "key": source_key}),
                )
            )  # fmt: skip
        return self._recount(job_id)

    def mark_badges(self, job_id: str, outcomes: Iterable[BadgeOutcome]) -> Job:
        """Record how the move handled badges, before the proof; the job does not finish.

        A move that has ended ``done`` or ``failed`` keeps what its proof settled: a second
        run still under way (a redelivered task) does not write over it. A cancelled one
        still records the badges that were under way.
        """
        job = self._locked(job_id)
        if job.state in ("done", "failed"):
            return job
        self._write_badges(job_id, outcomes)
        return self._recount(job_id)

    def settle_move(
        self,
        job_id: str,
        outcomes: Iterable[BadgeOutcome],
        report: Mapping[str, Any],
        *,
        gone: str,
    ) -> Job:
        """Record the proof's outcome of every badge and the summary; finish the job.

        Items of an earlier run the source no longer holds keep their outcome; those still
        pending are done with ``gone`` as their result. The job is ``done`` when no badge
        failed, else ``failed``; one cancelled meanwhile stays cancelled.
        """
        self._locked(job_id)
        written = self._write_badges(job_id, outcomes)
        now = utcnow()
        self._conn.execute(
            update(t.job_items)
            .where(
                t.job_items.c.job_id == job_id,
                t.job_items.c.status == "pending",
                t.job_items.c.award_hash.not_in(written),
            )
            .values(status="done", result=gone[:2000], finished_at=now)
        )
        self._conn.execute(
            update(t.jobs).where(t.jobs.c.id == job_id).values(report=json.dumps(dict(report)))
        )
        job = self._recount(job_id)
        self._finish(job_id, "failed" if job.failed else "done", None)
        return self.get(job_id)

    def _write_badges(self, job_id: str, outcomes: Iterable[BadgeOutcome]) -> list[str]:
        now = utcnow()
        written = []
        for source_key, status, result, detail in outcomes:
            key = badge_key(source_key)
            written.append(key)
            self._conn.execute(
                update(t.job_items)
                .where(t.job_items.c.job_id == job_id, t.job_items.c.award_hash == key)
                .values(
                    status=status, result=result[:2000], detail=json.dumps(dict(detail)),
                    finished_at=None if status == "pending" else now,
                )
            )  # fmt: skip
        return written

    def _recount(self, job_id: str) -> Job:
        # Counted, not added: a badge marked by two runs of the move counts once.
        counts: dict[str, int] = dict(
            self._conn.execute(
                select(t.job_items.c.status, func.count())
                .where(t.job_items.c.job_id == job_id)
                .group_by(t.job_items.c.status)
            ).all()
        )
        self._conn.execute(
            update(t.jobs)
            .where(t.jobs.c.id == job_id)
            .values(
                total=sum(counts.values()),
                done=counts.get("done", 0),
                failed=counts.get("failed", 0),
            )
        )
        return self.get(job_id)

    def delete_of(self, owner: str) -> int:
        """Delete every job of ``owner`` with its items; return how many jobs."""
        self._conn.execute(delete(t.job_items).where(t.job_items.c.owner == owner))
        return self._conn.execute(delete(t.jobs).where(t.jobs.c.owner == owner)).rowcount

    def _finish(self, job_id: str, state: JobState, error: str | None) -> None:
        self._conn.execute(
            update(t.jobs)
            .where(t.jobs.c.id == job_id, t.jobs.c.state.in_(("queued", "running")))
            .values(state=state, error=error, finished_at=utcnow())
        )


def _json(text: str | None) -> Mapping[str, Any] | None:
    return None if text is None else json.loads(text)


def _job(row: Row[Any]) -> Job:
    return Job(
        id=row.id, kind=row.kind, owner=row.owner, provider_id=row.provider_id,
        issuer_base_url=row.issuer_base_url, refresh=bool(row.refresh), total=row.total,
        done=row.done, failed=row.failed, state=row.state, error=row.error,
        created_at=row.created_at, started_at=row.started_at, finished_at=row.finished_at,
        source_provider_id=row.source_provider_id, options=_json(row.options),
        report=_json(row.report),
    )  # fmt: skip


def _item(row: Row[Any]) -> JobItem:
    return JobItem(
        row.award_hash, row.chunk, row.status, row.result, row.finished_at, _json(row.detail)
    )


def _grouped(
    outcomes: Iterable[tuple[str, ItemStatus, str]],
) -> dict[tuple[ItemStatus, str], list[str]]:
    """The awards by (status, result), each award once: its first outcome counts, as before."""
    seen: set[str] = set()
    groups: dict[tuple[ItemStatus, str], list[str]] = {}
    for award, status, result in outcomes:
        if award not in seen:
            seen.add(award)
            groups.setdefault((status, result[:2000]), []).append(award)
    return groups
