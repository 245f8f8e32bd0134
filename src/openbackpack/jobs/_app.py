"""The Celery app: broker, task settings that make a lost task safe to run again, the tasks.

Nothing is kept in a result backend: a job's state and each award's outcome live in the
store (the ``jobs`` table), which a worker that dies, a broker that restarts or a result
that expires cannot lose.
"""

from __future__ import annotations

from typing import Any, Final

from celery import Celery, Task

from openbackpack.jobs._move import run_move
from openbackpack.jobs._run import owners_to_refresh, refresh_owner, run_chunk
from openbackpack.jobs._runtime import Runtime
from openbackpack.jobs._settings import JobSettings

__all__ = [
    "MOVE",
    "PUSH_AWARD",
    "PUSH_CHUNK",
    "REFRESH_ALL",
    "REFRESH_BADGES",
    "create_celery_app",
]

MOVE: Final = "openbackpack.move"
PUSH_CHUNK: Final = "openbackpack.push_chunk"
PUSH_AWARD: Final = "openbackpack.push_award"
REFRESH_BADGES: Final = "openbackpack.refresh_badges"
REFRESH_ALL: Final = "openbackpack.refresh_all"

UNACKED_LOCK_SECONDS: Final = 10
"""Seconds at most that a Redis worker killed while giving lost tasks back delays the others."""

# Safe to run twice and to lose: acknowledged only once done, given back to the queue when
# the process running it dies, and every create inside goes through the push (or move) claims.
_TASK_OPTIONS: Final[dict[str, Any]] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
}


def _transport_options(settings: JobSettings) -> dict[str, Any]:
    if not settings.broker_is_redis:
        return {"confirm_publish": True}
    return {
        "visibility_timeout": settings.visibility_timeout,
        "global_keyprefix": f"{settings.prefix}:",
        # Give a lost worker's tasks back soon after their visibility timeout, not a minute+.
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
        # A worker takes a lock while it gives lost tasks back, for a few milliseconds; one
        # killed holding it would have stopped every other from doing so until the lock
        # expired, five minutes by default.
        "unacked_mutex_expire": UNACKED_LOCK_SECONDS,
        "socket_timeout": 10,
        "socket_connect_timeout": 5,
    }


def create_celery_app(settings: JobSettings) -> Celery:
    """A Celery app for ``settings``, with openbackpack's tasks and the beat schedule.

    The broker is ``settings.broker_url`` (Redis or RabbitMQ). Workers take one task at a
    time per process (no prefetch: a task held by a worker that dies waits for nobody).
    """
    app = Celery("openbackpack", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=settings.queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        result_backend=None,
        worker_prefetch_multiplier=1,
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
        broker_transport_options=_transport_options(settings),
        task_serializer="json",
        accept_content=["json"],
        beat_schedule={
            "refresh-badge-caches": {
                "task": REFRESH_ALL,
                "schedule": settings.refresh_interval,
                "options": {"queue": settings.queue},
            }
        },
    )
    runtime = Runtime(settings)
    app.openbackpack_runtime = runtime  # type: ignore[attr-defined]
    _register(app, runtime)
    return app


def _register(app: Celery, runtime: Runtime) -> None:
    settings = runtime.settings

    @app.task(name=PUSH_CHUNK, max_retries=settings.max_retries, **_TASK_OPTIONS)
    def push_chunk(self: Task[Any, Any], store: str, job_id: str, chunk: int, queue: str) -> None:
        """Push one chunk of a job (see :func:`run_chunk`); retry what met 429/5xx."""
        attempt = self.request.retries
        outcome = run_chunk(
            runtime.store(store), runtime.client(), job_id, chunk, threads=settings.threads,
            attempt=attempt, final=attempt >= settings.max_retries,
            max_countdown=settings.max_countdown,
        )  # fmt: skip
        if outcome.retry_in is not None:
            raise self.retry(countdown=outcome.retry_in, queue=queue)

    @app.task(name=PUSH_AWARD, max_retries=settings.max_retries, **_TASK_OPTIONS)
    def push_award(self: Task[Any, Any], store: str, job_id: str, queue: str) -> None:
        """Push the one award of a job (a learner's "Add", a single ``push --queue``)."""
        attempt = self.request.retries
        outcome = run_chunk(
            runtime.store(store), runtime.client(), job_id, 0, threads=1, attempt=attempt,
            final=attempt >= settings.max_retries, max_countdown=settings.max_countdown,
        )  # fmt: skip
        if outcome.retry_in is not None:
            raise self.retry(countdown=outcome.retry_in, queue=queue)

    @app.task(name=MOVE, max_retries=settings.max_retries, **_TASK_OPTIONS)
    def move(self: Task[Any, Any], store: str, job_id: str, queue: str) -> None:
        """Run a learner's move (see :func:`run_move`); retry what met 429/5xx."""
        attempt = self.request.retries
        outcome = run_move(
            runtime.store(store), job_id, runtime.move_clients, attempt=attempt,
            final=attempt >= settings.max_retries, max_countdown=settings.max_countdown,
        )  # fmt: skip
        if outcome.retry_in is not None:
            raise self.retry(countdown=outcome.retry_in, queue=queue)

    @app.task(name=REFRESH_BADGES, max_retries=settings.max_retries, **_TASK_OPTIONS)
    def refresh_badges(self: Task[Any, Any], store: str, owner: str) -> None:
        """Read one learner's backpacks again into their badge cache."""
        refresh_owner(runtime.store(store), runtime.client(), owner)

    @app.task(name=REFRESH_ALL, **_TASK_OPTIONS)
    def refresh_all(self: Task[Any, Any]) -> None:
        """Queue a badge refresh for every learner of every store (the beat's schedule)."""
        for key in settings.stores:
            for owner in owners_to_refresh(runtime.store(key)):
                refresh_badges.apply_async((key, owner), queue=settings.queue)
