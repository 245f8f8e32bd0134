"""Pushes, moves and badge refreshes as Celery tasks, for workers on one machine or many.

Optional: nothing else in openbackpack imports this package except the command line and
the pages, and only when ``OPENBACKPACK_BROKER`` names a broker. Without one, everything
runs in-process as before.

* :func:`create_celery_app`: the app, its broker (Redis or RabbitMQ), the tasks and the beat
  schedule that refreshes every learner's badge cache.
* :func:`enqueue_push`: a bulk push as a **job**, a row in the store (who, what, total,
  done, failed, state), split into chunks that any worker may take.
* :func:`enqueue_move`: a learner's move between two connected backpacks as a job, run by
  one worker, each badge's outcome and proof kept with the job.
* :class:`SharedRateLimit`: one rate limit per backpack host, kept in Redis and taken by
  every request of every worker (see ``docs/jobs.md``).
"""

from openbackpack.jobs._app import create_celery_app
from openbackpack.jobs._enqueue import (
    BrokerUnavailableError,
    cancel_job,
    check_broker,
    enqueue_move,
    enqueue_push,
    enqueue_refresh,
    wait_for_job,
)
from openbackpack.jobs._limit import SharedRateLimit, origin_of, sender_burst
from openbackpack.jobs._run import ChunkOutcome, run_chunk
from openbackpack.jobs._settings import (
    BROKER_ENV,
    LIMIT_REDIS_ENV,
    REFRESH_EVERY_ENV,
    JobSettings,
    broker_configured,
    store_key,
)
from openbackpack.jobs._workers import SQLiteWorkersError, check_store_for_workers

__all__ = [
    "BROKER_ENV",
    "LIMIT_REDIS_ENV",
    "REFRESH_EVERY_ENV",
    "BrokerUnavailableError",
    "ChunkOutcome",
    "JobSettings",
    "SQLiteWorkersError",
    "SharedRateLimit",
    "broker_configured",
    "cancel_job",
    "check_broker",
    "check_store_for_workers",
    "create_celery_app",
    "enqueue_move",
    "enqueue_push",
    "enqueue_refresh",
    "origin_of",
    "run_chunk",
    "sender_burst",
    "store_key",
    "wait_for_job",
]
