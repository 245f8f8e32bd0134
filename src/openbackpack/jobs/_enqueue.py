"""Putting work on the queue: a job row first, then one message per chunk (or per move).

The broker is asked before anything is written, so a broker that is down costs a clear
error and no job row. Should it go away between that check and the last chunk, the row is
marked ``failed`` with the reason, and any chunk that did reach the queue finds its job
finished and does nothing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from celery import Celery
from kombu.exceptions import KombuError, OperationalError

from openbackpack._exceptions import BackpackError, InvalidInputError
from openbackpack.jobs._app import MOVE, PUSH_AWARD, PUSH_CHUNK, REFRESH_BADGES
from openbackpack.jobs._move import MoveOptions, check_move
from openbackpack.jobs._settings import JobSettings, store_key
from openbackpack.services.move._model import DEFAULT_MOVE_CONCURRENCY, DEFAULT_RESEND
from openbackpack.store import Job, Store

__all__ = [
    "BrokerUnavailableError",
    "cancel_job",
    "check_broker",
    "enqueue_move",
    "enqueue_push",
    "enqueue_refresh",
    "wait_for_job",
]

_BROKER_ERRORS = (OperationalError, KombuError, OSError, ConnectionError, TimeoutError)


class BrokerUnavailableError(BackpackError):
    """The broker did not answer: nothing was queued (and no job was left half-written)."""


def _where(settings: JobSettings) -> str:
    # The broker URL without its password, to say which one failed.
    from kombu.utils.url import maybe_sanitize_url

    return str(maybe_sanitize_url(settings.broker_url))


def check_broker(app: Celery, settings: JobSettings) -> None:
    """Connect to the broker once.

    Raises:
        BrokerUnavailableError: it did not answer.
    """
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=5)
    except _BROKER_ERRORS as exc:
        raise BrokerUnavailableError(
            f"the broker at {_where(settings)} is not reachable ({type(exc).__name__}); "
            "nothing was queued"
        ) from None


def _broker_gone(store: Store, job_id: str, reason: str) -> BrokerUnavailableError:
    """Mark the job failed (its row was written, its messages were not all queued)."""
    with store.transaction() as tx:
        tx.jobs.fail(job_id, reason)
    return BrokerUnavailableError(f"{reason}; job {job_id} is marked failed")


def _chunks(hashes: Sequence[str], size: int) -> list[list[str]]:
    return [list(hashes[start : start + size]) for start in range(0, len(hashes), size)]


def enqueue_push(
    app: Celery,
    settings: JobSettings,
    store: Store,
    owner: str | None,
    award_hashes: Iterable[str],
    *,
    issuer_base_url: str,
    provider_id: int | None = None,
    refresh: bool = False,
    queue: str | None = None,
    store_url: str | None = None,
) -> Job:
    """Queue a push of ``award_hashes`` (into ``owner``'s backpack, or site-only) as a job.

    ``store`` is the store at ``store_url`` (by default the first of ``settings.db_urls``):
    the workers find the job there.

    Raises:
        InvalidInputError: no awards.
        BrokerUnavailableError: the broker is down (no job row is written), or went away
            while the chunks were queued (the row is marked failed).
    """
    hashes = list(dict.fromkeys(award_hashes))
    if not hashes:
        raise InvalidInputError("give at least one award to push")
    target = queue or settings.queue
    check_broker(app, settings)
    job_id = uuid.uuid4().hex
    chunks = _chunks(hashes, settings.chunk_size)
    with store.transaction() as tx:
        job = tx.jobs.create(
            job_id, owner=owner, provider_id=provider_id, issuer_base_url=issuer_base_url,
            refresh=refresh, chunks=chunks,
        )  # fmt: skip
    key = store_key(store_url or settings.db_urls[0])
    sent = 0
    try:
        with app.producer_or_acquire() as producer:
            if len(hashes) == 1:
                app.send_task(
                    PUSH_AWARD, (key, job_id, target), queue=target, producer=producer,
                    retry=False,
                )  # fmt: skip
                sent = 1
            for number in range(len(chunks) if len(hashes) > 1 else 0):
                app.send_task(
                    PUSH_CHUNK, (key, job_id, number, target), queue=target,
                    producer=producer, retry=False,
                )  # fmt: skip
                sent += 1
    except _BROKER_ERRORS as exc:
        reason = (
            f"the broker at {_where(settings)} went away after {sent} of {len(chunks)} "
            f"chunk(s) were queued ({type(exc).__name__})"
        )
        raise _broker_gone(store, job_id, reason) from None
    return job


def enqueue_move(
    app: Celery,
    settings: JobSettings,
    store: Store,
    owner: str,
    source_id: int,
    target_id: int,
    *,
    delete_source: bool = False,
    emails: Sequence[str] = (),
    rate: float | None = None,
    concurrency: int | None = None,
    resend: int | None = None,
    reissue_base_url: str | None = None,
    reissue_did_method: Literal["web", "key"] = "web",
    queue: str | None = None,
    store_url: str | None = None,
) -> Job:
    """Queue a move of ``owner``'s badges from one connected backpack to another as a job.

    ``source_id`` and ``target_id`` are the site backpacks (providers) of the learner's two
    accounts; the options are :func:`~openbackpack.services.move.move_badges`'s (``rate``:
    requests per second to each backpack, on top of the hosts' shared limits). A worker runs
    the whole move as one task (``openbackpack.move``): the job's items are its badges,
    known once the worker has read the source, each with its outcome and proof. Badges in
    files cannot be queued (a worker cannot read this machine's files), nor can a dry run.

    .. versionadded:: 0.1

    Raises:
        InvalidInputError: an option a move cannot take.
        NotConnectedError: ``owner`` has no account a move can use on one of the backpacks.
        SourceDeletionUnsupportedError: ``delete_source`` and the source cannot delete.
        BrokerUnavailableError: the broker is down (no job row is written), or went away
            while the task was queued (the row is marked failed).
    """
    options = MoveOptions(
        delete_source=delete_source, emails=tuple(emails), rate=rate,
        concurrency=DEFAULT_MOVE_CONCURRENCY if concurrency is None else concurrency,
        resend=DEFAULT_RESEND if resend is None else resend,
        reissue_base_url=reissue_base_url, reissue_did_method=reissue_did_method,
    )  # fmt: skip
    check_move(store, owner, source_id, target_id, options)
    target = queue or settings.queue
    check_broker(app, settings)
    job_id = uuid.uuid4().hex
    with store.transaction() as tx:
        job = tx.jobs.create_move(
            job_id, owner=owner, source_provider_id=source_id, target_provider_id=target_id,
            options=options.to_json(), issuer_base_url=reissue_base_url or "",
        )  # fmt: skip
    key = store_key(store_url or settings.db_urls[0])
    try:
        app.send_task(MOVE, (key, job_id, target), queue=target, retry=False)
    except _BROKER_ERRORS as exc:
        reason = f"the broker at {_where(settings)} went away ({type(exc).__name__})"
        raise _broker_gone(store, job_id, reason) from None
    return job


def enqueue_refresh(
    app: Celery, settings: JobSettings, owner: str, *, store_url: str | None = None
) -> None:
    """Queue a refresh of one learner's external badges.

    Raises:
        BrokerUnavailableError: the broker is down.
    """
    check_broker(app, settings)
    key = store_key(store_url or settings.db_urls[0])
    try:
        app.send_task(REFRESH_BADGES, (key, owner), queue=settings.queue, retry=False)
    except _BROKER_ERRORS as exc:
        raise BrokerUnavailableError(
            f"the broker at {_where(settings)} is not reachable ({type(exc).__name__})"
        ) from None


def cancel_job(store: Store, job_id: str) -> Job:
    """Cancel a job: no further award is started; those in flight still finish.

    Raises:
        RecordNotFoundError: there is no such job.
    """
    with store.transaction() as tx:
        return tx.jobs.cancel(job_id)


def wait_for_job(
    store: Store,
    job_id: str,
    *,
    on_progress: Callable[[Job], None] | None = None,
    poll: float = 0.5,
    timeout: float | None = None,
) -> Job:
    """Read the job every ``poll`` seconds until it finishes (or ``timeout`` passes).

    Raises:
        RecordNotFoundError: there is no such job.
    """
    started = time.monotonic()
    while True:
        with store.transaction() as tx:
            job = tx.jobs.get(job_id)
        if on_progress is not None:
            on_progress(job)
        if job.finished or (timeout is not None and time.monotonic() - started >= timeout):
            return job
        time.sleep(poll)
