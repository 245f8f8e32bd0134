"""Starting a worker: refuse a store several machines cannot share, then run Celery's worker."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from celery import Celery

from openbackpack._exceptions import ConfigurationError
from openbackpack._settings import data_dir, make_private_dir, parse_database_url
from openbackpack.jobs._settings import JobSettings

__all__ = ["SQLiteWorkersError", "beat_schedule_path", "check_store_for_workers", "run_worker"]


class SQLiteWorkersError(ConfigurationError):
    """An SQLite store was given to a worker not declared to be on the store's machine."""


def check_store_for_workers(db_urls: Sequence[str], *, local: bool) -> None:
    """Refuse SQLite for workers unless every worker runs on this machine (``local``).

    An SQLite file can be shared by processes of one machine only (its locks do not work
    over network file systems, and another machine would not see the file at all).

    Raises:
        SQLiteWorkersError: a store is SQLite and ``local`` is False.
    """
    for url in db_urls:
        if parse_database_url(url).drivername.startswith("sqlite") and not local:
            raise SQLiteWorkersError(
                "the store is an SQLite file, which workers on other machines cannot share: "
                "use PostgreSQL, or pass --local if every worker runs on this machine"
            )


def beat_schedule_path(settings: JobSettings) -> Path:
    """Where the beat keeps its record of when it last ran: the user's data directory.

    The directory is created (mode 0700) if missing: a worker whose store is elsewhere
    may be the first to write there, and Celery's beat would otherwise die on start while
    the worker went on without it.

    Raises:
        ConfigurationError: the directory cannot be created or written.
    """
    directory = data_dir()
    try:
        make_private_dir(directory)
    except OSError as exc:
        raise ConfigurationError(
            f"the beat keeps its schedule in {directory}, which cannot be created "
            f"({exc.strerror or exc}): set XDG_DATA_HOME to a writable directory"
        ) from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ConfigurationError(
            f"the beat keeps its schedule in {directory}, which this user cannot write: "
            "set XDG_DATA_HOME to a writable directory"
        )
    # Celery's shelve adds its own suffixes (.db, or .dat/.dir/.bak) to this name.
    return directory / f"celerybeat-{settings.prefix}"


def run_worker(
    app: Celery,
    settings: JobSettings,
    *,
    concurrency: int,
    queues: Sequence[str],
    beat: bool,
    loglevel: str = "INFO",
) -> None:
    """Run a Celery worker in this process until it is stopped (prefork, ``concurrency``)."""
    argv = [
        "worker",
        f"--concurrency={concurrency}",
        f"--queues={','.join(queues or [settings.queue])}",
        f"--loglevel={loglevel}",
        # Workers of a deployment share nothing but the broker and the store: no chatter.
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
        f"--hostname={settings.prefix}-{os.getpid()}@%h",
    ]
    # The client's own lines (retries, 429s) are worth a worker's log; one line per request
    # from the HTTP library is not.
    for name in ("httpx2", "httpcore2", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if beat:
        argv += ["--beat", f"--schedule={beat_schedule_path(settings)}"]
    app.worker_main(argv)
