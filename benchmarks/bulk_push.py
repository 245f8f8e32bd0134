"""bulk_push: a term's awards pushed to a rate-limited Badgr host across the internet.

2,000 awards of one badge class (the issuer and badge class already pushed) go to the site
backpack as Badgr assertions through a 50 ms round trip, to a host that allows 200
requests per second (a token bucket of 20; beyond it 429 with ``Retry-After``). No client
can beat 2,000 / 200 = 10 s.

* openbackpack: the real site push, ``push_awards``, 16 at a time, over one pooled client
  paced by a ``RateLimiter`` at the host's rate.
* baseline, as Moodle works: the same push one award at a time, over a client that keeps no
  connection between requests (a new connection per request), the token cached in the
  store. At two round trips per award it would take minutes, so a sample of 200 awards is
  measured and extrapolated linearly to 2,000.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Final

import httpx2

from benchmarks._processes import host_process, proxy_process
from benchmarks._report import Result, progress, speedup
from benchmarks._seed import (
    ISSUER_EMAIL,
    ISSUER_PASSWORD,
    PNG,
    add_host_users,
    site_store,
    workdir,
)
from openbackpack.client import DEFAULT_TIMEOUT, BackpackClient, RateLimiter
from openbackpack.services import BulkPushReport, push_awards
from openbackpack.store import Store

__all__ = ["run"]

NAME: Final = "bulk_push"
AWARDS: Final = 2000
BASELINE_SAMPLE: Final = 200
ROUND_TRIP: Final = 0.05
RATE: Final = 200
HOST_BURST: Final = 20
CONCURRENCY: Final = 16
ISSUER_BASE: Final = "http://127.0.0.1:9/issuer"  # only names the pushed documents' ids
FLOOR: Final = AWARDS / RATE
MAX_FLOOR_MULTIPLE: Final = 1.2
MIN_SPEEDUP: Final = 10.0
MAX_429_SHARE: Final = 0.01


class StatusCounter:
    """An ``httpx2`` response hook counting answers by status, from any thread."""

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()
        self._lock = threading.Lock()

    def __call__(self, response: httpx2.Response) -> None:
        with self._lock:
            self.counts[response.status_code] += 1

    @property
    def total(self) -> int:
        """Answers counted."""
        return sum(self.counts.values())


def _registry(store: Store, count: int) -> list[str]:
    with store.transaction() as tx:
        issuer = tx.issuers.create("Benchmark University", "https://e.org", ISSUER_EMAIL)
        badge = tx.badge_classes.create(
            issuer.id, "Benchmark", "Seeded.", PNG, criteria_narrative="Be measured."
        )
        return [tx.awards.create(badge.id, f"learner{n}@example.org").hash for n in range(count)]


def _client(counter: StatusCounter, *, keep_alive: bool, rate: float | None) -> BackpackClient:
    # The client's own defaults, plus a hook that counts statuses; Moodle's way keeps no
    # connection, so every request opens a new one.
    limits = httpx2.Limits() if keep_alive else httpx2.Limits(max_keepalive_connections=0)
    http = httpx2.Client(
        timeout=DEFAULT_TIMEOUT,
        follow_redirects=True,
        limits=limits,
        event_hooks={"response": [counter]},
    )
    limiter = RateLimiter(rate) if rate is not None else None
    return BackpackClient(http_client=http, rate_limit=limiter)


def _push(
    store: Store, hashes: Sequence[str], client: BackpackClient, concurrency: int
) -> tuple[float, BulkPushReport]:
    started = time.perf_counter()
    report = push_awards(
        store, None, hashes, issuer_base_url=ISSUER_BASE, client=client, concurrency=concurrency
    )
    return time.perf_counter() - started, report


def _check(report: BulkPushReport, who: str) -> None:
    if not report.complete:
        raise RuntimeError(f"{who}: {len(report.failures)} failed: {report.failures[0].error}")


def run() -> list[Result]:
    """Measure the baseline's sample, then openbackpack's 2,000; one result."""
    with workdir() as directory:
        db = f"sqlite:///{directory / 'host.sqlite3'}"
        add_host_users(db, (ISSUER_EMAIL, ISSUER_PASSWORD))
        faults = ("--rate-limit", str(RATE), "--burst", str(HOST_BURST), "--retry-after", "1")
        with (
            host_process(db, directory / "host.log", *faults) as host,
            proxy_process(host.base_url, ROUND_TRIP) as proxied,
        ):
            store = site_store(directory / "store.sqlite3", proxied + "/v2")
            hashes = _registry(store, 1 + BASELINE_SAMPLE + AWARDS)
            progress(f"{NAME}: pushing the issuer and badge class (and caching the token)")
            with BackpackClient() as client:
                _check(_push(store, hashes[:1], client, 1)[1], "warm-up")
            progress(f"{NAME}: baseline, {BASELINE_SAMPLE} awards one at a time")
            moodle = StatusCounter()
            with _client(moodle, keep_alive=False, rate=None) as client:
                sample_seconds, report = _push(store, hashes[1 : 1 + BASELINE_SAMPLE], client, 1)
            _check(report, "baseline")
            progress(f"{NAME}: openbackpack, {AWARDS} awards")
            ours = StatusCounter()
            cpu = (time.process_time(), host.cpu_seconds())
            with _client(ours, keep_alive=True, rate=RATE) as client:
                seconds, report = _push(store, hashes[1 + BASELINE_SAMPLE :], client, CONCURRENCY)
            cpu = (time.process_time() - cpu[0], host.cpu_seconds() - cpu[1])
            _check(report, "openbackpack")
            store.close()
    return [_result(seconds, sample_seconds, ours, moodle, cpu)]


def _result(
    seconds: float,
    sample_seconds: float,
    ours: StatusCounter,
    moodle: StatusCounter,
    cpu: tuple[float, float],
) -> Result:
    baseline = sample_seconds * AWARDS / BASELINE_SAMPLE
    ratio = speedup(baseline, seconds)
    throttled = ours.counts[429]
    share = throttled / ours.total
    met = seconds <= MAX_FLOOR_MULTIPLE * FLOOR and ratio >= MIN_SPEEDUP and share < MAX_429_SHARE
    return Result(
        name=NAME,
        openbackpack=seconds,
        baseline=baseline,
        unit="s",
        ratio=ratio,
        target=(
            f"openbackpack <= {MAX_FLOOR_MULTIPLE} x floor, >= {MIN_SPEEDUP:g}x faster than "
            f"the baseline, 429s < {MAX_429_SHARE:.0%} of requests"
        ),
        met=met,
        extra={
            "awards": AWARDS,
            "floor_s": FLOOR,
            "of_floor": seconds / FLOOR,
            "awards_per_s": AWARDS / seconds,
            "requests": ours.total,
            "http_429": throttled,
            "http_429_share": share,
            "round_trip_s": ROUND_TRIP,
            "host_rate_limit": RATE,
            "host_burst": HOST_BURST,
            "concurrency": CONCURRENCY,
            "client_cpu_ms_per_award": 1000 * cpu[0] / AWARDS,
            "host_cpu_ms_per_award": 1000 * cpu[1] / AWARDS,
            "client_rate_limit": RATE,
            "baseline_measured_awards": BASELINE_SAMPLE,
            "baseline_measured_s": sample_seconds,
            "baseline_extrapolated": True,
            "baseline_requests": moodle.total,
        },
    )
