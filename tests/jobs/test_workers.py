"""Pushes as jobs run by real worker processes over a real broker, store and host."""

from __future__ import annotations

import itertools
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks._processes import HostProcess, host_process
from benchmarks._seed import ISSUER_EMAIL, ISSUER_PASSWORD, PNG, add_host_users
from typer.testing import CliRunner

from openbackpack.cli import app
from openbackpack.store import Store
from tests.jobs._deploy import (
    RABBIT,
    host_assertions,
    per_recipient,
    recipient,
    site,
    wait_until,
    workers,
)

pytestmark = pytest.mark.usefixtures("loopback_allowed")

runner = CliRunner()


@pytest.fixture(scope="module")
def host_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The reference host's database, with the site's issuer account."""
    db = f"sqlite:///{tmp_path_factory.mktemp('host') / 'host.sqlite3'}"
    add_host_users(db, (ISSUER_EMAIL, ISSUER_PASSWORD))
    return db


@pytest.fixture(scope="module")
def host(host_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    """A reference host in its own process, on a free loopback port, shared by the tests."""
    with host_process(host_db, tmp_path_factory.mktemp("host-log") / "host.log") as running:
        yield running


@pytest.fixture
def tag() -> str:
    """This test's learners' tag: the shared host holds every test's assertions."""
    return uuid.uuid4().hex[:8]


def _every_award_once(store: Store, job_id: str, host_db: str, count: int, tag: str) -> None:
    with store.transaction() as tx:
        job = tx.jobs.get(job_id)
        items = tx.jobs.items(job_id)
    assert (job.state, job.done, job.failed, job.total) == ("done", count, 0, count)
    assert [i.status for i in items] == ["done"] * count
    held = per_recipient(host_db, tag)
    # One assertion per award on the host: none lost, none duplicated.
    assert held == Counter({recipient(tag, n): 1 for n in range(count)})


def test_a_job_of_500_awards_across_three_workers_puts_each_award_once(
    store: Store,
    store_url: str,
    secret_key: str,
    host: HostProcess,
    host_db: str,
    tmp_path: Path,
    tag: str,
) -> None:
    """500 awards queued as one job, taken by 3 workers: done, one assertion per award."""
    hashes = site(store, host.api_url, 500, tag)
    with workers(store_url, secret_key, tmp_path) as deployment:
        deployment.start(3)
        job = deployment.push(store, hashes)
        assert (job.state, job.total) == ("queued", 500)
        finished = wait_until(store, job.id, 120)
        assert finished.state == "done", deployment.log_tail()
        shown = runner.invoke(app, ["--db", store_url, "jobs", "show", job.id, "--wait"],
                              env=deployment.environment)  # fmt: skip
        listed = runner.invoke(app, ["--db", store_url, "jobs", "list", "--json"],
                               env=deployment.environment)  # fmt: skip
    _every_award_once(store, job.id, host_db, 500, tag)
    assert shown.exit_code == 0
    assert f"job {job.id}: done, 500 of 500 done, 0 failed" in shown.output
    assert job.id in listed.output


def test_a_worker_killed_mid_job_loses_and_duplicates_nothing(
    store: Store,
    store_url: str,
    secret_key: str,
    host: HostProcess,
    host_db: str,
    tmp_path: Path,
    tag: str,
) -> None:
    """SIGKILL one of 3 workers mid-job: the others finish it, 0 duplicates and 0 lost."""
    hashes = site(store, host.api_url, 200, tag)
    with workers(store_url, secret_key, tmp_path) as deployment:
        deployment.start(3)
        job = deployment.push(store, hashes)
        wait_until(store, job.id, 90, at_least=40)
        deployment.kill(0)
        finished = wait_until(store, job.id, 120)
        assert finished.state == "done", deployment.log_tail()
    _every_award_once(store, job.id, host_db, 200, tag)


def _busiest_second(moments: list[float]) -> int:
    moments.sort()
    most = start = 0
    for end, moment in enumerate(moments):
        while moment - moments[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_three_workers_share_one_rate_limit_per_host(
    store: Store,
    store_url: str,
    secret_key: str,
    host: HostProcess,
    host_db: str,
    tmp_path: Path,
    tag: str,
) -> None:
    """With 10 requests/s and a burst of 2, the host never sees more than 12 in any second."""
    count, rate, burst = 70, 10, 2
    hashes = site(store, host.api_url, count, tag)
    with store.transaction() as tx:
        provider = tx.providers.primary()
        assert provider is not None
        tx.providers.set_rate_limit(provider.id, rate, burst)
    with workers(store_url, secret_key, tmp_path) as deployment:
        deployment.start(3)
        started = time.monotonic()
        job = deployment.push(store, hashes)
        finished = wait_until(store, job.id, 120)
        seconds = time.monotonic() - started
        assert finished.state == "done", deployment.log_tail()
    created = sorted(moment.timestamp() for _, moment in host_assertions(host_db, tag))
    assert len(created) == count
    # Measured by the host: when it stored what each request created (one per request).
    busiest = _busiest_second(created)
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(created)]
    assert busiest <= rate + burst, f"{busiest} in one second; gaps {gaps}"
    # And the limit did hold the 3 workers back: 70 requests at 10/s take 6.8 s at least.
    assert seconds >= (count - burst) / rate


def test_a_cancelled_job_stops_after_the_awards_in_flight(
    store: Store,
    store_url: str,
    secret_key: str,
    host: HostProcess,
    host_db: str,
    tmp_path: Path,
    tag: str,
) -> None:
    """Cancel mid-run: the state says so, no award starts afterwards, the rest stay pending."""
    hashes = site(store, host.api_url, 100, tag)
    with store.transaction() as tx:
        provider = tx.providers.primary()
        assert provider is not None
        tx.providers.set_rate_limit(provider.id, 10, 1)
    with workers(store_url, secret_key, tmp_path) as deployment:
        deployment.start(2)
        job = deployment.push(store, hashes)
        wait_until(store, job.id, 60, at_least=10)
        cancelled = runner.invoke(app, ["--db", store_url, "jobs", "cancel", job.id],
                                  env=deployment.environment)  # fmt: skip
        assert cancelled.exit_code == 0, cancelled.output
        time.sleep(3)  # the awards in flight (8 at most) end within a second at 10/s
        with store.transaction() as tx:
            settled = tx.jobs.get(job.id)
        time.sleep(2)
        with store.transaction() as tx:
            later = tx.jobs.get(job.id)
            items = tx.jobs.items(job.id)
    assert f"job {job.id}: cancelled" in cancelled.output
    assert later.state == "cancelled"
    assert later.done == settled.done < 100
    assert sum(1 for i in items if i.status == "pending") == 100 - later.done
    # What the host holds is exactly what the job recorded as done.
    assert len(host_assertions(host_db, tag)) == later.done


def test_push_queue_prints_the_job_id_over_rabbitmq(
    store: Store,
    store_url: str,
    secret_key: str,
    host: HostProcess,
    host_db: str,
    tmp_path: Path,
    tag: str,
) -> None:
    """push --queue through RabbitMQ prints a job id; a worker on that queue completes it."""
    hashes = site(store, host.api_url, 20, tag)
    with workers(store_url, secret_key, tmp_path, broker=RABBIT) as deployment:
        deployment.start(1)
        pushed = runner.invoke(
            app,
            ["--db", store_url, "push", *hashes, "--base-url", "http://127.0.0.1:9/issuer",
             "--queue", deployment.prefix],
            env={**deployment.environment, "OPENBACKPACK_QUEUE": deployment.prefix},
        )  # fmt: skip
        assert pushed.exit_code == 0, pushed.output
        job_id = pushed.output.strip()
        finished = wait_until(store, job_id, 90)
        assert finished.state == "done", deployment.log_tail()
    _every_award_once(store, job_id, host_db, 20, tag)


@pytest.mark.parametrize(
    "broker", ["redis://127.0.0.1:1/0", "amqp://guest:guest@127.0.0.1:1//"], ids=["redis", "amqp"]
)
def test_a_broker_that_is_down_is_an_error_and_writes_no_job(
    store: Store, store_url: str, secret_key: str, broker: str
) -> None:
    """push --queue with no broker listening: one error line, exit 1, no job row."""
    with store.transaction() as tx:
        issuer = tx.issuers.create("U", "https://e.org", ISSUER_EMAIL)
        badge = tx.badge_classes.create(issuer.id, "B", "D.", PNG, criteria_narrative="C.")
        award = tx.awards.create(badge.id, "a@example.org").hash
    result = runner.invoke(
        app,
        ["--db", store_url, "push", award, "--base-url", "http://127.0.0.1:9/i", "--queue", "q"],
        env={"OPENBACKPACK_BROKER": broker, "OPENBACKPACK_SECRET_KEY": secret_key},
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.output.startswith("error: the broker at ")
    assert "is not reachable" in result.output
    assert "Traceback" not in result.output
    with store.transaction() as tx:
        assert tx.jobs.recent() == []


def test_a_worker_refuses_an_sqlite_store_unless_local(tmp_path: Path) -> None:
    """openbackpack worker on SQLite without --local: a clear error naming PostgreSQL."""
    result = runner.invoke(
        app,
        ["--db", f"sqlite:///{tmp_path / 's.sqlite3'}", "worker"],
        env={"OPENBACKPACK_BROKER": "redis://127.0.0.1:6379/0"},
    )
    assert result.exit_code == 1
    assert result.output.startswith("error: the store is an SQLite file")
    assert "use PostgreSQL, or pass --local" in result.output
