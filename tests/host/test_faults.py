"""Fault injection: deterministic failures, throttling, latency and cut-off answers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from openbackpack.host import (
    FaultInjector,
    FaultSettings,
    HostSettings,
    RunningHost,
    run_host_in_thread,
)
from openbackpack.host._faults import Decision


def _host(tmp_path: Path, **faults: Any) -> HostSettings:
    return HostSettings(
        db_url=f"sqlite:///{tmp_path / 'f.sqlite3'}", faults=FaultSettings(**faults)
    )


@pytest.fixture
def quiet_host(tmp_path: Path) -> Iterator[RunningHost]:
    """A host with no configured faults (only the live controls)."""
    with run_host_in_thread(_host(tmp_path)) as running:
        yield running


def test_fail_next_fails_exactly_that_many_requests_in_the_protocols_shape(
    http: httpx2.Client, quiet_host: RunningHost
) -> None:
    """fail_next(2, 503) fails the next two requests, with Retry-After, then serves normally."""
    quiet_host.faults.fail_next(2, status=503)
    first = http.get(f"{quiet_host.api_url}/issuers")
    second = http.post(f"{quiet_host.base_url}/o/token", data={})
    third = http.get(f"{quiet_host.api_url}/issuers")
    assert first.status_code == 503
    assert first.headers["retry-after"] == "1"
    assert first.json()["status"]["success"] is False
    assert second.status_code == 503
    assert second.json()["error"] == "temporarily_unavailable"
    assert third.status_code == 401


def test_injected_429_carries_retry_after(http: httpx2.Client, quiet_host: RunningHost) -> None:
    """An injected 429 has Retry-After and Badgr's throttle message; Displayer paths get theirs."""
    quiet_host.faults.fail_next(2, status=429)
    api = http.get(f"{quiet_host.api_url}/backpack/assertions")
    displayer = http.get(f"{quiet_host.base_url}/displayer/1/groups.json")
    assert api.status_code == 429
    assert api.headers["retry-after"] == "1"
    assert api.json()["fieldErrors"].startswith("Request was throttled.")
    assert (displayer.status_code, displayer.json()["status"]) == (429, "error")


def test_configured_failures_are_reproducible_with_a_seed(
    http: httpx2.Client, tmp_path: Path
) -> None:
    """The same seed and rate fail the same requests, with statuses drawn from the list."""
    runs = []
    for name in ("a", "b"):
        settings = _host(tmp_path / name, failure_rate=0.5, failure_statuses=(500, 503), seed=7)
        with run_host_in_thread(settings) as running:
            runs.append(
                [http.get(f"{running.base_url}/public/issuers/x").status_code for _ in range(12)]
            )
    assert runs[0] == runs[1]
    assert set(runs[0]) <= {404, 500, 503}
    assert len(set(runs[0])) > 1


def test_fail_first_and_latency_settings(http: httpx2.Client, tmp_path: Path) -> None:
    """fail_first fails the first requests; latency delays every answer."""
    with run_host_in_thread(_host(tmp_path, fail_first=1, latency=0.2)) as running:
        started = time.perf_counter()
        first = http.get(f"{running.base_url}/public/issuers/x")
        second = http.get(f"{running.base_url}/public/issuers/x")
        elapsed = time.perf_counter() - started
    assert (first.status_code, second.status_code) == (503, 404)
    assert elapsed >= 0.4


def test_cut_off_answers_break_the_connection(http: httpx2.Client, quiet_host: RunningHost) -> None:
    """drop_next makes the answer stop mid-body, so the client sees a protocol error."""
    quiet_host.faults.drop_next(1)
    with pytest.raises(httpx2.RemoteProtocolError):
        http.get(f"{quiet_host.api_url}/issuers")
    assert http.get(f"{quiet_host.api_url}/issuers").status_code == 401


def test_token_bucket_limits_the_rate(http: httpx2.Client, tmp_path: Path) -> None:
    """Beyond the burst, requests get 429 with a Retry-After over real HTTP."""
    # One token every 10 s: no refill can happen between these requests however slow the
    # machine is; the refill itself is proven with a fake clock below.
    with run_host_in_thread(_host(tmp_path, rate_limit=0.1, burst=3)) as running:
        statuses = [http.get(f"{running.base_url}/public/issuers/x") for _ in range(4)]
    assert [r.status_code for r in statuses] == [404, 404, 404, 429]
    assert int(statuses[3].headers["retry-after"]) >= 1


def test_token_bucket_refills_at_the_configured_rate() -> None:
    """With a fake clock, the bucket admits exactly rate * elapsed requests after the burst."""
    now = [0.0]
    injector = FaultInjector(FaultSettings(rate_limit=10.0, burst=2), clock=lambda: now[0])
    assert [injector.decide().action for _ in range(3)] == ["pass", "pass", "throttle"]
    now[0] = 0.25
    decisions = [injector.decide() for _ in range(3)]
    assert [d.action for d in decisions] == ["pass", "pass", "throttle"]
    assert decisions[2] == Decision("throttle", 429, 1)


def test_docs_are_never_faulted(http: httpx2.Client, quiet_host: RunningHost) -> None:
    """The OpenAPI document stays reachable while failures are injected."""
    quiet_host.faults.fail_next(5, status=500)
    assert http.get(f"{quiet_host.base_url}/openapi.json").status_code == 200


@pytest.mark.parametrize(
    "options",
    [
        {"failure_rate": 1.5},
        {"failure_statuses": (404,)},
        {"burst": 0},
        {"latency": -1},
        {"rate_limit": 0},
    ],
)
def test_impossible_fault_settings_are_refused(options: dict[str, Any]) -> None:
    """Out-of-range fault settings raise InvalidInputError (a ValueError)."""
    with pytest.raises(ValueError, match="must"):
        FaultSettings(**options)
