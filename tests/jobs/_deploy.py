"""Real deployments for the jobs tests: a reference host, a site store, worker processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from benchmarks._seed import ISSUER_EMAIL, ISSUER_PASSWORD, PNG
from sqlalchemy import select

from openbackpack.host import HostDatabase
from openbackpack.host import _schema as host_tables
from openbackpack.jobs import JobSettings, create_celery_app, enqueue_push
from openbackpack.services import add_backpack
from openbackpack.store import Job, Store

REDIS = "redis://127.0.0.1:6379/0"
RABBIT = "amqp://guest:guest@127.0.0.1:5672//"
ISSUER_BASE = "http://127.0.0.1:9/issuer"


def unique_prefix() -> str:
    """A prefix for Redis keys and queue names no other run uses."""
    return f"obtest-{uuid.uuid4().hex[:10]}"


def site(store: Store, api_url: str, count: int, tag: str) -> list[str]:
    """Make ``api_url`` the store's primary backpack and issue ``count`` awards; their hashes.

    The recipients are ``{tag}-learner{n}@example.org``, so that tests sharing a host tell
    their assertions apart.
    """
    add_backpack(store, api_url, api_url.rsplit("/", 1)[0], "2", email=ISSUER_EMAIL,
                 password=ISSUER_PASSWORD)  # fmt: skip
    with store.transaction() as tx:
        issuer = tx.issuers.create("Jobs University", "https://e.org", ISSUER_EMAIL)
        badge = tx.badge_classes.create(
            issuer.id, "Jobs", "Seeded.", PNG, criteria_narrative="Be queued."
        )
        return [tx.awards.create(badge.id, recipient(tag, n)).hash for n in range(count)]


def recipient(tag: str, n: int) -> str:
    """The address of a test's ``n``-th learner."""
    return f"{tag}-learner{n}@example.org"


def host_assertions(db_url: str, tag: str) -> list[tuple[str, datetime]]:
    """The assertions of a test's learners the host holds: recipient, when it was created."""
    database = HostDatabase.open(db_url)
    try:
        with database.begin() as connection:
            rows = connection.execute(
                select(
                    host_tables.assertions.c.recipient_identity,
                    host_tables.assertions.c.created_at,
                )
            ).all()
    finally:
        database.close()
    return [(row[0], row[1]) for row in rows if str(row[0]).startswith(f"{tag}-")]


def per_recipient(db_url: str, tag: str) -> Counter[str]:
    """How many assertions the host holds for each of a test's learners."""
    return Counter(address for address, _ in host_assertions(db_url, tag))


@dataclass
class Workers:
    """Worker processes (``openbackpack worker``) of one deployment."""

    db_url: str
    secret_key: str
    broker: str
    prefix: str
    logs: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _files: list[BinaryIO] = field(default_factory=list)

    @property
    def environment(self) -> dict[str, str]:
        """What a worker (and an enqueuer) of this deployment is told."""
        return {
            **os.environ,
            "OPENBACKPACK_BROKER": self.broker,
            "OPENBACKPACK_JOBS_PREFIX": self.prefix,
            "OPENBACKPACK_LIMIT_REDIS": REDIS,
            "OPENBACKPACK_SECRET_KEY": self.secret_key,
            "OPENBACKPACK_VISIBILITY_TIMEOUT": "6",
            "PYTHONUNBUFFERED": "1",
        }

    @property
    def settings(self) -> JobSettings:
        """The settings an enqueuer of this deployment uses."""
        return JobSettings.from_environment(db_urls=(self.db_url,), environ=self.environment)

    @property
    def cwd(self) -> Path:
        """The workers' working directory: nothing should be written there."""
        return self.logs / "cwd"

    def start(
        self,
        count: int,
        *,
        concurrency: int = 2,
        beat: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        """Start ``count`` more workers (with ``--beat``, and ``env`` added), each its own group."""
        self.cwd.mkdir(exist_ok=True)
        for _ in range(count):
            number = len(self.processes)
            log = open(self.logs / f"worker{number}.log", "wb")  # noqa: SIM115
            self._files.append(log)
            command = [sys.executable, "-m", "openbackpack", "--db", self.db_url, "worker",
                       "--concurrency", str(concurrency), "--local"]  # fmt: skip
            self.processes.append(
                subprocess.Popen(
                    [*command, "--beat"] if beat else command,
                    env={**self.environment, **(env or {})},
                    cwd=self.cwd,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    def log_of(self, number: int) -> str:
        """Everything worker ``number`` wrote so far (its stdout and stderr)."""
        return (self.logs / f"worker{number}.log").read_text(errors="replace")

    def kill(self, number: int) -> None:
        """SIGKILL a worker and its pool processes at once, as when its machine is lost."""
        process = self.processes[number]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        """Kill every worker still running, with its pool: the test is over.

        A warm shutdown (SIGTERM) costs Celery about 3 s per worker and proves nothing here;
        the test of a clean stop sends SIGTERM itself (``test_beat.py``).
        """
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        for process in self.processes:
            process.wait(20)
        for log in self._files:
            log.close()

    def log_tail(self) -> str:
        """The end of every worker's log, to explain a failure."""
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.logs.glob("*.log"))

    def push(self, store: Store, hashes: Sequence[str], *, owner: str | None = None) -> Job:
        """Enqueue a push job of ``hashes`` for these workers."""
        settings = self.settings
        return enqueue_push(
            create_celery_app(settings), settings, store, owner, hashes,
            issuer_base_url=ISSUER_BASE,
        )  # fmt: skip


@contextlib.contextmanager
def workers(db_url: str, secret_key: str, logs: Path, *, broker: str = REDIS) -> Iterator[Workers]:
    """A deployment's workers, all stopped when the block ends."""
    deployment = Workers(db_url, secret_key, broker, unique_prefix(), logs)
    try:
        yield deployment
    finally:
        deployment.stop()


def wait_until(store: Store, job_id: str, timeout: float, *, at_least: int | None = None) -> Job:
    """Poll the job until it finishes (or has ``at_least`` awards done); fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        with store.transaction() as tx:
            job = tx.jobs.get(job_id)
        if job.finished or (at_least is not None and job.done >= at_least):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} stuck: {job}")
        time.sleep(0.2)
