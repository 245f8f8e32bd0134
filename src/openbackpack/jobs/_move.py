"""A learner's move as a job: what the task does, as plain functions over a store and clients.

The task runs :func:`~openbackpack.services.move.move_badges` for the job's owner, source and
target, with the job's options. When it reads the source, each badge becomes an item of the
job and ``total`` is set; each badge's item is marked as the move handles it (the progress
``jobs show --wait`` follows), and the proof settles every item and finishes the job.

Run twice (a worker lost mid-move, a broker that delivers again, a retry), the move reads,
verifies and proves again, but every send goes through the move's claims in the store: a
badge sent by the first run is found at the target, never sent twice. A cancelled job is
seen before each badge starts: the move stops after the badges under way, proving and
deleting nothing. Badges whose send met a 429 or a 5xx stay pending and the task is retried
after the host's ``Retry-After``, until the retries run out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from openbackpack._exceptions import BackpackError, InvalidInputError
from openbackpack.client import BackpackClient
from openbackpack.jobs._run import _countdown, _retryable
from openbackpack.services._claiming import in_transaction
from openbackpack.services.move._model import DEFAULT_MOVE_CONCURRENCY, DEFAULT_RESEND
from openbackpack.store import Job, Store
from openbackpack.store._jobs import BadgeOutcome, ItemStatus

if TYPE_CHECKING:
    from openbackpack.services.move import MoveItem, MoveReport, Source, SourceBadge

__all__ = ["MoveClients", "MoveOptions", "MoveOutcome", "check_move", "run_move"]

MoveClients = Callable[
    [float | None], AbstractContextManager[tuple[BackpackClient, BackpackClient]]
]
"""Given a job's ``rate``, the clients for its source and its target (paced as the worker's)."""

_GONE: Final = (
    "no longer at the source when the move ran again: not moved by this job (deleted "
    "there by an earlier run of it, or by the learner)"
)


@dataclass(frozen=True, slots=True)
class MoveOptions:
    """What a queued move was asked to do (the options of ``openbackpack move``).

    Raises:
        InvalidInputError: a value a move cannot take.
    """

    delete_source: bool = False
    emails: tuple[str, ...] = ()
    rate: float | None = None
    concurrency: int = DEFAULT_MOVE_CONCURRENCY
    resend: int = DEFAULT_RESEND
    reissue_base_url: str | None = None
    reissue_did_method: Literal["web", "key"] = "web"

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise InvalidInputError("concurrency must be at least 1")
        if self.resend < 0:
            raise InvalidInputError("resend must be at least 0")
        if self.rate is not None and not self.rate > 0:
            raise InvalidInputError("the rate must be more than 0 requests per second")
        if self.reissue_did_method not in ("web", "key"):
            raise InvalidInputError("the DID method must be web or key")

    def to_json(self) -> dict[str, Any]:
        """The options as the job row keeps them (the re-issue URL has its own column)."""
        return {
            "delete_source": self.delete_source, "emails": list(self.emails),
            "rate": self.rate, "concurrency": self.concurrency, "resend": self.resend,
            "reissue_did_method": self.reissue_did_method,
        }  # fmt: skip

    @classmethod
    def of(cls, job: Job) -> MoveOptions:
        """The options a move job was queued with."""
        kept: Mapping[str, Any] = job.options or {}
        return cls(
            delete_source=bool(kept.get("delete_source", False)),
            emails=tuple(kept.get("emails", ())),
            rate=kept.get("rate"),
            concurrency=int(kept.get("concurrency", DEFAULT_MOVE_CONCURRENCY)),
            resend=int(kept.get("resend", DEFAULT_RESEND)),
            reissue_base_url=job.issuer_base_url or None,
            reissue_did_method=kept.get("reissue_did_method", "web"),
        )


@dataclass(frozen=True, slots=True)
class MoveOutcome:
    """How a run of a move job ended: ``retry_in`` seconds when badges are left to retry."""

    done: int = 0
    failed: int = 0
    retry_in: float | None = None
    stopped: bool = False
    """The job was cancelled or had finished (or could not run): nothing more to do."""


def check_move(
    store: Store, owner: str, source_id: int, target_id: int, options: MoveOptions
) -> None:
    """Refuse, before anything is queued, a move the workers could not run.

    Raises:
        NotConnectedError: ``owner`` has no movable account on one of the backpacks.
        SourceDeletionUnsupportedError: ``delete_source`` and the source cannot delete.
        InvalidInputError: the re-issue base URL is unusable.
    """
    from openbackpack.issuer import IssuerUrls
    from openbackpack.services.move import SourceDeletionUnsupportedError, connected_backpack

    if options.reissue_base_url is not None:
        IssuerUrls(options.reissue_base_url)
    # Nothing is sent: the client only lets the accounts be looked up as a move would.
    with BackpackClient() as client:
        source = connected_backpack(store, owner, source_id, client)
        connected_backpack(store, owner, target_id, client)
    if options.delete_source and source.deletion is not None:
        raise SourceDeletionUnsupportedError(f"cannot delete at {source.label}: {source.deletion}")


def _line(item: MoveItem) -> str:
    """The badge's outcome in one line, as ``jobs show`` prints it."""
    from openbackpack.services.move import Action, Proof

    if item.action in (Action.CANNOT, Action.LEAVE):
        return f"{item.action.value}: {item.why}" if item.why else item.action.value
    text = item.error or item.done
    if item.proof is not Proof.NOT_CHECKED:
        text += f"; {item.proof.value}" + (f": {item.proof_reason}" if item.proof_reason else "")
    return text


def _waits(item: MoveItem, final: bool) -> bool:
    """Whether the badge's send met a 429 or a 5xx that a later run should try again."""
    return not final and isinstance(item.failure, BackpackError) and _retryable(item.failure)


@dataclass
class _Book:
    """Writes what the move does into the job, as it does it."""

    store: Store
    job_id: str
    final: bool
    seen: list[str] = field(default_factory=list)

    def read(self, badges: Sequence[SourceBadge]) -> None:
        rows = [(badge.key, badge.where) for badge in badges]
        in_transaction(self.store, lambda tx: tx.jobs.read_badges(self.job_id, rows))

    def progress(self, item: MoveItem) -> None:
        status: ItemStatus = "failed" if item.error is not None else "done"
        line = _line(item)
        if _waits(item, self.final):
            status, line = "pending", f"to be tried again: {item.error}"
        outcome = [(item.source.key, status, line, item.to_json())]
        in_transaction(self.store, lambda tx: tx.jobs.mark_badges(self.job_id, outcome))

    def stopped(self) -> bool:
        return in_transaction(self.store, lambda tx: tx.jobs.get(self.job_id)).finished


class _Reading:
    """The job's source, telling the job what it read (the move's ``total``)."""

    def __init__(self, source: Source, book: _Book) -> None:
        self._source = source
        self._book = book
        # move_badges checks an account side's owner; a wrapped side must still show it.
        self.account = getattr(source, "account", None)

    @property
    def label(self) -> str:
        """The source's label."""
        return self._source.label

    @property
    def emails(self) -> tuple[str, ...]:
        """The source's emails."""
        return self._source.emails

    @property
    def deletion(self) -> str | None:
        """Whether the source can delete."""
        return self._source.deletion

    def read(self) -> list[SourceBadge]:
        """Read the source, and record its badges as the job's items."""
        badges = self._source.read()
        self._book.read(badges)
        return badges

    def delete(self, badge: SourceBadge) -> None:
        """Delete one badge at the source."""
        self._source.delete(badge)


def _settle(store: Store, job_id: str, report: MoveReport) -> Job:
    failed = {id(item) for item in report.failed}
    outcomes: list[BadgeOutcome] = [
        (item.source.key, "failed" if id(item) in failed else "done", _line(item), item.to_json())
        for item in report.items
    ]
    summary = report.summary()
    return in_transaction(
        store, lambda tx: tx.jobs.settle_move(job_id, outcomes, summary, gone=_GONE)
    )


def run_move(
    store: Store,
    job_id: str,
    clients: MoveClients,
    *,
    attempt: int = 0,
    final: bool = True,
    max_countdown: float = 60.0,
) -> MoveOutcome:
    """Run a move job once: move, record each badge's outcome, finish the job.

    ``final``: the last attempt, so badges whose send met 429/5xx are recorded as failed
    instead of left for a retry.
    """
    from openbackpack.issuer import IssuerUrls
    from openbackpack.services.move import client_fetch, connected_backpack, move_badges

    job = in_transaction(store, lambda tx: tx.jobs.start(job_id))
    if job.finished or job.kind != "move" or job.owner is None:
        return MoveOutcome(stopped=True)
    options = MoveOptions.of(job)
    book = _Book(store, job_id, final)
    reissue = IssuerUrls(options.reissue_base_url) if options.reissue_base_url else None
    try:
        with clients(options.rate) as (source_client, target_client):
            source = connected_backpack(store, job.owner, job.source_provider_id, source_client)
            target = connected_backpack(store, job.owner, job.provider_id, target_client)
            report = move_badges(
                store, job.owner, _Reading(source, book), target,
                delete_source=options.delete_source, emails=options.emails,
                fetch=client_fetch(source_client), concurrency=options.concurrency,
                resend=options.resend, reissue=reissue,
                reissue_did_method=options.reissue_did_method, on_progress=book.progress,
                should_stop=book.stopped,
            )  # fmt: skip
    except BackpackError as exc:
        # Reading a side failed (or the accounts are gone): the move as a whole.
        if _retryable(exc) and not final:
            return MoveOutcome(retry_in=_countdown([exc], attempt, max_countdown))
        reason = str(exc)
        in_transaction(store, lambda tx: tx.jobs.fail(job_id, reason))
        return MoveOutcome(stopped=True)
    if report.stopped:
        return MoveOutcome(stopped=True)
    again = [i.failure for i in report.items if _waits(i, final) and i.failure is not None]
    if again:
        errors = [error for error in again if isinstance(error, BackpackError)]
        return MoveOutcome(retry_in=_countdown(errors, attempt, max_countdown))
    settled = _settle(store, job_id, report)
    return MoveOutcome(settled.done, settled.failed)
