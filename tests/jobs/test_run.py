"""What the tasks do, run in this process against a real host, store and Redis."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from openbackpack.client import BackpackClient, RateLimiter, RetryPolicy
from openbackpack.host import FaultSettings, HostSettings, RunningHost, run_host_in_thread
from openbackpack.jobs import SharedRateLimit, origin_of
from openbackpack.jobs._run import owners_to_refresh, refresh_owner, run_chunk
from openbackpack.store import IdentifierKind, Store
from openbackpack.store._jobs import ItemStatus
from tests.jobs._deploy import REDIS, site
from tests.services.conftest import collection

pytestmark = pytest.mark.usefixtures("loopback_allowed")

FAST = RetryPolicy(attempts=2, initial_delay=0.001, max_delay=0.005, wait_scale=0.01)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """A reference host in a thread whose 429s ask for 7 seconds."""
    db = f"sqlite:///{tmp_path_factory.mktemp('host') / 'host.sqlite3'}"
    settings = HostSettings(
        db_url=db, login_backoff_max=0, allow_private_fetch=True,
        faults=FaultSettings(retry_after=7),
    )  # fmt: skip
    with run_host_in_thread(settings) as running:
        running.add_user("issuer@example.org", "issuer-password")
        yield running


@pytest.fixture
def client() -> Iterator[BackpackClient]:
    """A client with two quick attempts."""
    with BackpackClient(retry=FAST) as shared:
        yield shared


def _job(store: Store, hashes: list[str]) -> str:
    job_id = uuid.uuid4().hex
    with store.transaction() as tx:
        tx.jobs.create(job_id, owner=None, provider_id=None, refresh=False, chunks=[hashes],
                       issuer_base_url="http://127.0.0.1:9/issuer")  # fmt: skip
    return job_id


def test_awards_that_meet_429_stay_pending_and_the_retry_waits_the_hosts_retry_after(
    store: Store, host: RunningHost, client: BackpackClient
) -> None:
    """A chunk whose host answers 429 leaves its awards pending, to retry in Retry-After s."""
    hashes = site(store, host.api_url, 3, uuid.uuid4().hex[:8])
    job_id = _job(store, hashes)
    run_chunk(store, client, job_id, 0, threads=3, final=False)  # the issuer, badge and token
    with store.transaction() as tx:
        assert tx.jobs.get(job_id).done == 3
    more = site_awards(store, 3)
    second = _job(store, more)
    host.faults.fail_next(100, 429)
    try:
        outcome = run_chunk(store, client, second, 0, threads=3, final=False)
    finally:
        host.faults.fail_next(0)
    assert outcome.retry_in == 7
    with store.transaction() as tx:
        job = tx.jobs.get(second)
        assert (job.state, job.done, job.failed) == ("running", 0, 0)
        assert tx.jobs.pending(second, 0) == sorted(more)
    retried = run_chunk(store, client, second, 0, threads=3, attempt=1, final=False)
    assert (retried.pushed, retried.retry_in) == (3, None)
    with store.transaction() as tx:
        assert tx.jobs.get(second).state == "done"


def site_awards(store: Store, count: int) -> list[str]:
    """More awards of the store's one badge class."""
    with store.transaction() as tx:
        badge = tx.badge_classes.list()[0]
        return [tx.awards.create(badge.id, f"more{n}-{uuid.uuid4().hex[:6]}@example.org").hash
                for n in range(count)]  # fmt: skip


def test_the_final_attempt_records_5xx_as_failed(
    store: Store, host: RunningHost, client: BackpackClient
) -> None:
    """On the last attempt, awards that met 503 are failed with the reason; the job ends."""
    hashes = site(store, host.api_url, 2, uuid.uuid4().hex[:8])
    job_id = _job(store, hashes)
    host.faults.fail_next(100, 503)
    try:
        outcome = run_chunk(store, client, job_id, 0, threads=2, final=True)
    finally:
        host.faults.fail_next(0)
    assert (outcome.failed, outcome.retry_in) == (2, None)
    with store.transaction() as tx:
        job = tx.jobs.get(job_id)
        items = tx.jobs.items(job_id)
    assert (job.state, job.failed) == ("failed", 2)
    assert all(i.status == "failed" and i.result for i in items)


def test_a_chunk_of_a_cancelled_job_does_nothing(
    store: Store, host: RunningHost, client: BackpackClient
) -> None:
    """A chunk that starts after its job was cancelled pushes nothing."""
    hashes = site(store, host.api_url, 2, uuid.uuid4().hex[:8])
    job_id = _job(store, hashes)
    with store.transaction() as tx:
        tx.jobs.cancel(job_id)
    outcome = run_chunk(store, client, job_id, 0, threads=2)
    assert outcome.stopped
    with store.transaction() as tx:
        assert tx.jobs.pending(job_id, 0) == sorted(hashes)


def test_a_chunk_records_as_it_goes_and_stops_soon_after_its_job_is_cancelled(
    store: Store, host: RunningHost
) -> None:
    """Outcomes reach the job while it runs; a cancel stops it; what is done is what is pushed."""
    hashes = site(store, host.api_url, 40, uuid.uuid4().hex[:8])
    job_id = _job(store, hashes)
    seen_during_run: list[int] = []

    def cancel_once_some_are_recorded() -> None:
        for _ in range(400):
            with store.transaction() as tx:
                done = tx.jobs.get(job_id).done
            if done >= 4:
                seen_during_run.append(done)
                with store.transaction() as tx:
                    tx.jobs.cancel(job_id)
                return
            time.sleep(0.01)

    canceller = threading.Thread(target=cancel_once_some_are_recorded)
    # 10 requests a second: the 40 awards would take 4 s, the cancel comes after about 0.5 s.
    with BackpackClient(retry=FAST, rate_limit=RateLimiter(10, burst=1)) as paced:
        canceller.start()
        outcome = run_chunk(store, paced, job_id, 0, threads=2)
    canceller.join()
    assert seen_during_run
    assert seen_during_run[0] >= 4
    assert outcome.stopped
    assert outcome.pushed < 40
    with store.transaction() as tx:
        job = tx.jobs.get(job_id)
        pending = tx.jobs.pending(job_id, 0)
        primary = tx.providers.primary()
        assert primary is not None
        mapped = tx.identifiers.get_many(primary.id, IdentifierKind.ASSERTION, hashes)
    assert job.state == "cancelled"
    assert job.done == outcome.pushed == len(mapped) == 40 - len(pending)
    assert set(pending) == set(hashes) - set(mapped)


def test_an_award_recorded_twice_counts_once(store: Store, host: RunningHost) -> None:
    """The same outcome recorded by two runs of a chunk moves the counters once."""
    hashes = site(store, host.api_url, 2, uuid.uuid4().hex[:8])
    job_id = _job(store, hashes)
    with store.transaction() as tx:
        tx.jobs.record(job_id, [(hashes[0], "done", "pushed")])
        job = tx.jobs.record(job_id, [(hashes[0], "done", "pushed")])
    assert (job.done, job.failed, job.state) == (1, 0, "queued")


def test_one_record_of_mixed_outcomes_counts_each_award_once_by_its_first(
    store: Store, host: RunningHost
) -> None:
    """Outcomes of several statuses and results in one call land per award, the first winning."""
    hashes = site(store, host.api_url, 4, uuid.uuid4().hex[:8])
    job_id = _job(store, hashes)
    outcomes: list[tuple[str, ItemStatus, str]] = [
        (hashes[0], "done", "201"),
        (hashes[1], "done", "201"),
        (hashes[2], "failed", "HTTP 400"),
        (hashes[0], "failed", "HTTP 500"),  # the same award again: its first outcome stands
        (hashes[3], "done", "200"),
    ]
    with store.transaction() as tx:
        job = tx.jobs.record(job_id, outcomes)
        items = {item.award_hash: (item.status, item.result) for item in tx.jobs.items(job_id)}
    assert (job.done, job.failed, job.state) == (3, 1, "failed")
    assert items == {
        hashes[0]: ("done", "201"),
        hashes[1]: ("done", "201"),
        hashes[2]: ("failed", "HTTP 400"),
        hashes[3]: ("done", "200"),
    }


def test_the_refresh_reads_every_learner_but_not_the_site(
    store: Store, host: RunningHost, client: BackpackClient
) -> None:
    """owners_to_refresh lists learners with accounts; refresh_owner reads their backpacks."""
    site(store, host.api_url, 1, uuid.uuid4().hex[:8])
    host.add_user("learner@example.org", "learner-password")
    with store.transaction() as tx:
        provider = tx.providers.primary()
        assert provider is not None
        account = tx.accounts.create(
            provider.id, "learner-1", "learner@example.org", "learner-password"
        )
    chosen = collection(client, host, "learner@example.org", "learner-password", [])
    with store.transaction() as tx:
        tx.collections.replace(account.id, [chosen])
    assert owners_to_refresh(store) == ["learner-1"]
    assert refresh_owner(store, client, "learner-1") == 0
    with store.transaction() as tx:
        assert tx.badge_cache.get(account.id) is not None


def test_the_shared_limit_gives_half_the_burst_at_once_then_one_per_interval(
    tmp_path: Path,
) -> None:
    """Real Redis: 10/s, a host burst of 6 gives 0, 0, 0, then 0.1 s steps; a pause holds all."""
    prefix = f"obtest-{uuid.uuid4().hex[:10]}"
    url = "http://127.0.0.1:8000/v2/x"
    limits = {origin_of(url): (10.0, 6)}
    first = SharedRateLimit(REDIS, prefix=prefix, limits=lambda: limits)
    second = SharedRateLimit(REDIS, prefix=prefix, limits=lambda: limits)
    try:
        waits = [first.reserve_for(url) if n % 2 else second.reserve_for(url) for n in range(6)]
        assert waits[:3] == [0.0, 0.0, 0.0]
        for n, wait in enumerate(waits[3:], start=1):
            assert 0.1 * n - 0.05 <= wait <= 0.1 * n + 0.01
        assert first.reserve_for("http://127.0.0.1:9999/other") == 0.0
        second.pause_for(url, 5.0)
        assert first.reserve_for(url) >= 4.9
    finally:
        first.close()
        second.close()
