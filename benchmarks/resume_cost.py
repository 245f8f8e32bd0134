"""resume_cost: a resume after all 2,000 awards were pushed.

The awards go to the site backpack through a 50 ms round trip and a host at 200 requests
per second (as ``bulk_push``); then the same call runs again. Target: the resume sends no
request (everything is recorded as pushed and unchanged), and its wall time is reported.
"""

from __future__ import annotations

import time
from typing import Final

from benchmarks._processes import host_process, proxy_process
from benchmarks._report import Result, progress
from benchmarks._seed import ISSUER_EMAIL, ISSUER_PASSWORD, add_host_users, site_store, workdir
from benchmarks.bulk_push import (
    CONCURRENCY,
    HOST_BURST,
    RATE,
    ROUND_TRIP,
    StatusCounter,
    _check,
    _client,
    _push,
    _registry,
)

__all__ = ["run"]

NAME: Final = "resume_cost"
AWARDS: Final = 2000


def run() -> list[Result]:
    """Push 2,000 awards, then resume; one result (requests of the resume, its time)."""
    with workdir() as directory:
        db = f"sqlite:///{directory / 'host.sqlite3'}"
        add_host_users(db, (ISSUER_EMAIL, ISSUER_PASSWORD))
        faults = ("--rate-limit", str(RATE), "--burst", str(HOST_BURST), "--retry-after", "1")
        with (
            host_process(db, directory / "host.log", *faults) as host,
            proxy_process(host.base_url, ROUND_TRIP) as proxied,
        ):
            store = site_store(directory / "store.sqlite3", proxied + "/v2")
            hashes = _registry(store, AWARDS)
            progress(f"{NAME}: pushing {AWARDS} awards")
            first = StatusCounter()
            with _client(first, keep_alive=True, rate=RATE) as client:
                push_seconds, report = _push(store, hashes, client, CONCURRENCY)
            _check(report, "first push")
            progress(f"{NAME}: resuming")
            again = StatusCounter()
            with _client(again, keep_alive=True, rate=RATE) as client:
                started = time.perf_counter()
                seconds, resumed = _push(store, hashes, client, CONCURRENCY)
                seconds = time.perf_counter() - started
            _check(resumed, "resume")
            store.close()
    return [
        Result(
            name=NAME,
            openbackpack=float(again.total),
            baseline=float(first.total),
            unit="requests",
            ratio=float(again.total) / first.total,
            target="the resume sends 0 requests",
            met=again.total == 0 and resumed.skipped == AWARDS,
            extra={
                "awards": AWARDS,
                "resume_s": seconds,
                "first_push_s": push_seconds,
                "first_push_requests": first.total,
                "skipped": resumed.skipped,
                "round_trip_s": ROUND_TRIP,
                "host_rate_limit": RATE,
            },
        )
    ]
