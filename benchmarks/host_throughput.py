"""host_throughput: requests per second the reference host sustains, route by route.

The host runs as ``openbackpack host serve`` in its own process; the load comes from this
process, over 32 keep-alive connections of the small load generator in ``_load``. Each of
the token (password grant), create assertion and get assertion routes is measured against
the same host's static route (``--static-path``), which goes through the same middleware
and worker threads but does no work: its rate is the ceiling, and the ratio says how much
of it a route's own work leaves. The host's CPU per request is reported beside, since it
does not depend on the load generator (which shares the machine's two cores).

One result line per route.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode

from benchmarks._load import LoadRequest, LoadResult, run_load
from benchmarks._processes import HostProcess, host_process
from benchmarks._report import Result, progress
from benchmarks._seed import (
    ISSUER_EMAIL,
    ISSUER_PASSWORD,
    RemoteBadge,
    add_host_users,
    award_many,
    create_issuer_and_badge,
    workdir,
)
from openbackpack.client import BackpackClient

__all__ = ["run"]

NAME: Final = "host_throughput"
CONNECTIONS: Final = 32
STATIC_PATH: Final = "/benchmark/static"


@dataclass(frozen=True, slots=True)
class Route:
    """A route under load: its request and its bounds."""

    name: str
    request: LoadRequest
    max_requests: int
    max_seconds: float
    bounded_by: str


def _routes(remote: RemoteBadge, award_id: str) -> Iterator[Route]:
    bearer = {"Authorization": f"Bearer {remote.token}"}
    form = urlencode({"username": ISSUER_EMAIL, "password": ISSUER_PASSWORD}).encode()
    award = json.dumps({"recipient": {"identity": "load@example.org", "type": "email"}}).encode()
    yield Route(
        "static", LoadRequest("GET", STATIC_PATH), 40_000, 8.0, "the HTTP stack and load generator"
    )
    yield Route(
        "token",
        LoadRequest(
            "POST",
            "/o/token",
            {"Content-Type": "application/x-www-form-urlencoded"},
            form,
        ),
        600,
        8.0,
        "argon2id password hashing (and a token written per login)",
    )
    yield Route(
        "create_assertion",
        LoadRequest(
            "POST",
            f"/v2/badgeclasses/{remote.badgeclass_id}/assertions",
            {**bearer, "Content-Type": "application/json"},
            award,
        ),
        8_000,
        8.0,
        "database writes (one award inserted per request) and the token check",
    )
    yield Route(
        "get_assertion",
        LoadRequest("GET", f"/v2/assertions/{award_id}", bearer),
        10_000,
        8.0,
        "database reads (token, award joined with badge class and issuer)",
    )


def _measure(host: HostProcess, route: Route) -> tuple[LoadResult, float]:
    """Warm up, then load the route; return the result and the host's CPU s per request."""
    run_load(host.base_url, route.request, connections=CONNECTIONS, max_requests=200, max_seconds=2)
    cpu = host.cpu_seconds()
    result = run_load(
        host.base_url,
        route.request,
        connections=CONNECTIONS,
        max_requests=route.max_requests,
        max_seconds=route.max_seconds,
    )
    return result, (host.cpu_seconds() - cpu) / max(1, result.requests)


def _seed(api_url: str) -> tuple[RemoteBadge, str]:
    with BackpackClient() as client:
        remote = create_issuer_and_badge(client, api_url)
        return remote, award_many(client, api_url, remote, ["seeded@example.org"])[0]


def run() -> list[Result]:
    """Measure the static ceiling, then each route; one result per route."""
    with workdir() as directory:
        db = f"sqlite:///{directory / 'host.sqlite3'}"
        add_host_users(db, (ISSUER_EMAIL, ISSUER_PASSWORD))
        with host_process(db, directory / "host.log", "--static-path", STATIC_PATH) as host:
            remote, award_id = _seed(host.api_url)
            measured: dict[str, tuple[Route, LoadResult, float]] = {}
            for route in _routes(remote, award_id):
                progress(f"{NAME}: {route.name}")
                result, cpu = _measure(host, route)
                bad = {s: n for s, n in result.statuses.items() if not 200 <= s < 300}
                if bad:
                    raise RuntimeError(f"{route.name}: unexpected answers {bad}")
                measured[route.name] = (route, result, cpu)
                time.sleep(0.5)  # let the host settle between routes
    static = measured.pop("static")
    return [_result(route, result, cpu, static) for route, result, cpu in measured.values()]


def _result(
    route: Route, result: LoadResult, cpu: float, static: tuple[Route, LoadResult, float]
) -> Result:
    _, ceiling, ceiling_cpu = static
    return Result(
        name=NAME,
        openbackpack=result.per_second,
        baseline=ceiling.per_second,
        unit="requests/s",
        ratio=result.per_second / ceiling.per_second,
        target="none: the ratio to the static ceiling is reported (see benchmarks/README.md)",
        met=None,
        extra={
            "route": route.name,
            "requests": result.requests,
            "seconds": result.seconds,
            "connections": CONNECTIONS,
            "host_cpu_ms_per_request": 1000 * cpu,
            "static_host_cpu_ms_per_request": 1000 * ceiling_cpu,
            "bounded_by": route.bounded_by,
        },
    )
