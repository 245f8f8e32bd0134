"""The pages' "Add all" hands the push to the workers when a broker is configured."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from openbackpack.client import BackpackClient
from tests.jobs._deploy import Workers, workers
from tests.services.conftest import (  # noqa: F401 (fixtures)
    LEARNER_EMAIL,
    LEARNER_PASSWORD,
    Site,
    client,
    hosts,
    site,
)
from tests.web.conftest import Web, serve_pages
from tests.web.test_learner import _award, _connect

pytestmark = pytest.mark.usefixtures("loopback_allowed")


@pytest.fixture
def deployment(
    store_url: str, secret_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workers]:
    """One worker process, and the broker settings in this (the pages') process too."""
    with workers(store_url, secret_key, tmp_path) as running:
        for name in ("OPENBACKPACK_BROKER", "OPENBACKPACK_JOBS_PREFIX", "OPENBACKPACK_LIMIT_REDIS"):
            monkeypatch.setenv(name, running.environment[name])
        running.start(1, concurrency=1)
        yield running


def test_add_all_is_a_job_for_the_workers_when_a_broker_is_configured(
    site: Site,  # noqa: F811
    client: BackpackClient,  # noqa: F811
    deployment: Workers,
) -> None:
    """Add all queues a job (a row in the store); the worker pushes; the page shows each result."""
    with serve_pages(site, client) as web:
        learner = web.visitor("learner-a")
        _connect(web, learner, LEARNER_EMAIL, LEARNER_PASSWORD)
        names = [f"Queued {n}" for n in range(3)]
        for name in names:
            _award(web, LEARNER_EMAIL, name)
        learner.get("/awards")
        started = learner.post("/awards/add-all")
        assert started.status_code == 303
        progress_url = started.headers["location"]
        job_id = progress_url.rsplit("/", 1)[1]
        page = _until_done(web, learner.get, progress_url)
        stranger = web.visitor("learner-b")
        assert stranger.get(progress_url).status_code == 404
    assert "Done: 3 of 3, 0 failed." in page, deployment.log_tail()
    for name in names:
        assert f"{name}: added" in page
    with site.store.transaction() as tx:
        job = tx.jobs.get(job_id)
    assert (job.owner, job.state, job.done) == ("learner-a", "done", 3)


def _until_done(web: Web, get: object, url: str) -> str:
    assert callable(get)
    text = ""
    for _ in range(300):
        text = get(url).text
        if "Done:" in text:
            break
        time.sleep(0.2)
    return text
