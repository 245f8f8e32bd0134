"""The "Add all" button: a learner's awards pushed in the background, with a progress page.

With a broker configured (``OPENBACKPACK_BROKER``), the push is a job for the workers
(:mod:`openbackpack.jobs`) and its progress is read from the store, so it survives a
restart of the pages. Without one, the work runs in a thread of this process, so a restart
forgets the progress; what was pushed stays pushed, and a new "Add all" resumes (the
services skip what the mappings record as done). A job is seen only by the learner who
started it.
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from openbackpack._exceptions import BackpackError, RecordNotFoundError
from openbackpack.services import PushFailure, PushResult, push_awards
from openbackpack.store import Store
from openbackpack.web._context import Web, web_of
from openbackpack.web._learner import own_awards
from openbackpack.web._render import redirect, render
from openbackpack.web._security import check_csrf, require_user

__all__ = ["BulkJobs", "routes"]


@dataclass
class BulkJob:
    """One "Add all": how many awards, the result of each so far, and whether it ended."""

    owner: str
    total: int
    outcomes: dict[str, str] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    finished: bool = False
    error: str | None = None


class BulkJobs:
    """The app's running and finished "Add all" jobs, by id."""

    def __init__(self) -> None:
        self._jobs: dict[str, BulkJob] = {}
        self._lock = threading.Lock()
        self._store: Store | None = None

    def start(self, web: Web, owner: str, hashes: list[str]) -> str:
        """Start pushing ``hashes`` for ``owner`` (a worker job, or a thread); the job's id."""
        if broker_configured() and hashes:
            return _queued(web, owner, hashes)
        job_id = secrets.token_urlsafe(16)
        job = BulkJob(owner, len(hashes))
        with self._lock:
            self._jobs[job_id] = job

        def done(outcome: PushResult | PushFailure) -> None:
            with self._lock:
                if isinstance(outcome, PushFailure):
                    job.outcomes[outcome.award_hash] = str(outcome.error)
                    job.failed.add(outcome.award_hash)
                else:
                    job.outcomes[outcome.award_hash] = outcome.status

        def run() -> None:
            try:
                push_awards(
                    web.store, owner, hashes, issuer_base_url=web.settings.issuer_base_url,
                    client=web.settings.client, on_done=done,
                )  # fmt: skip
            except BackpackError as error:
                job.error = str(error)
            finally:
                with self._lock:
                    job.finished = True

        threading.Thread(target=run, name="openbackpack-add-all", daemon=True).start()
        return job_id

    def get(self, job_id: str, owner: str) -> BulkJob:
        """Return a copy of the job if ``owner`` started it; 404 otherwise."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None and broker_configured():
                job = _from_store(self._store, job_id)
            if job is None or job.owner != owner:
                raise HTTPException(404)
            return BulkJob(
                job.owner, job.total, dict(job.outcomes), set(job.failed), job.finished, job.error
            )


def _jobs(request: Request) -> BulkJobs:
    jobs = request.app.state.bulk_jobs
    assert isinstance(jobs, BulkJobs)
    jobs._store = web_of(request).store  # where queued jobs are read from
    return jobs


def broker_configured() -> bool:
    """Whether a broker is configured (the jobs package is imported only then)."""
    return bool(os.environ.get("OPENBACKPACK_BROKER", "").strip())


def _queued(web: Web, owner: str, hashes: list[str]) -> str:
    """Hand the push to the workers; the job's id (in the store)."""
    from openbackpack.jobs import JobSettings, create_celery_app, enqueue_push

    url = web.store.engine.url.render_as_string(hide_password=False)
    settings = JobSettings.from_environment(db_urls=(url,))
    job = enqueue_push(
        create_celery_app(settings), settings, web.store, owner, hashes,
        issuer_base_url=web.settings.issuer_base_url,
    )  # fmt: skip
    return job.id


def _from_store(store: Store | None, job_id: str) -> BulkJob | None:
    if store is None:
        return None
    with store.transaction() as tx:
        try:
            job = tx.jobs.get(job_id)
        except RecordNotFoundError:
            return None
        items = tx.jobs.items(job_id)
    finished = [i for i in items if i.status != "pending"]
    return BulkJob(
        job.owner or "", job.total, {i.award_hash: i.result or i.status for i in finished},
        {i.award_hash for i in finished if i.status == "failed"}, job.finished, job.error,
    )  # fmt: skip


async def add_all(request: Request) -> Response:
    """Start adding every award of the learner; then the progress page."""
    user = require_user(request)
    await check_csrf(request)
    web = web_of(request)
    mine = await run_in_threadpool(own_awards, web.store, user.id, user.email)
    job_id = _jobs(request).start(web, user.id, [item.award.hash for item in mine])
    return redirect(request, "add_all_progress", job_id=job_id)


async def progress(request: Request) -> Response:
    """How far an "Add all" has got, award by award; refreshes itself until it ends."""
    user = require_user(request)
    job = _jobs(request).get(request.path_params["job_id"], user.id)
    mine = await run_in_threadpool(own_awards, web_of(request).store, user.id, user.email)
    return render(request, "add_all.html", job=job, awards=mine)


def routes() -> list[BaseRoute]:
    """The "Add all" routes."""
    return [
        Route("/awards/add-all", add_all, methods=["POST"], name="add_all"),
        Route("/awards/add-all/{job_id}", progress, name="add_all_progress"),
    ]
