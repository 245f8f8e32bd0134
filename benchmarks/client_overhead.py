"""client_overhead: what openbackpack's async client costs beyond bare httpx2, in CPU.

The same 5,000 GETs, 16 at a time, of the host's static route (``--static-path``: a fixed
empty envelope), with no added latency: once through ``AsyncBackpackClient.fetch`` (request
built from an endpoint record, retry policy, status check, answer frozen) and once through
a bare ``httpx2.AsyncClient.get``. The host runs in its own process, so
``time.process_time`` here is the client's CPU alone. Each side runs three times, after a
warm-up, alternating; the median counts.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Final

import httpx2

from benchmarks._processes import host_process
from benchmarks._report import Result, progress
from benchmarks._seed import add_host_users, workdir
from openbackpack.client import DEFAULT_TIMEOUT, AsyncBackpackClient
from openbackpack.protocols import Base, Endpoint, Shape

__all__ = ["run"]

NAME: Final = "client_overhead"
REQUESTS: Final = 5000
WARM_UP: Final = 500
CONCURRENCY: Final = 16
ROUNDS: Final = 3
MAX_RATIO: Final = 1.25
STATIC_PATH: Final = "/benchmark/static"
STATIC: Final = Endpoint(
    "benchmark.static", "GET", STATIC_PATH, base=Base.ROOT, auth=False, shape=Shape.ENVELOPE
)
_TIME_LIMIT: Final = 120.0

Send = Callable[[], Awaitable[None]]


async def _drive(send: Send, count: int) -> tuple[float, float]:
    """Send ``count`` requests, CONCURRENCY at a time; return (CPU s, wall s)."""
    remaining = count
    deadline = time.perf_counter() + _TIME_LIMIT

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            await send()

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    if remaining > 0:
        raise RuntimeError(f"{remaining} requests not sent within {_TIME_LIMIT} s")
    return time.process_time() - cpu, time.perf_counter() - wall


async def _openbackpack(api_url: str, rounds: list[float]) -> None:
    async with AsyncBackpackClient() as client:

        async def send() -> None:
            await client.fetch(STATIC, api_url)

        await _drive(send, WARM_UP)
        rounds.append((await _drive(send, REQUESTS))[0])


async def _bare(url: str, rounds: list[float]) -> None:
    # The same timeout and redirect settings as openbackpack's client, nothing else.
    async with httpx2.AsyncClient(timeout=DEFAULT_TIMEOUT, follow_redirects=True) as client:

        async def send() -> None:
            response = await client.get(url)
            response.raise_for_status()

        await _drive(send, WARM_UP)
        rounds.append((await _drive(send, REQUESTS))[0])


def run() -> list[Result]:
    """Alternate the two clients ROUNDS times each; one result from the medians."""
    ours: list[float] = []
    bare: list[float] = []
    with workdir() as directory:
        db = f"sqlite:///{directory / 'host.sqlite3'}"
        add_host_users(db)
        with host_process(db, directory / "host.log", "--static-path", STATIC_PATH) as host:
            for round_number in range(ROUNDS):
                progress(f"{NAME}: round {round_number + 1} of {ROUNDS}")
                asyncio.run(_openbackpack(host.api_url, ours))
                asyncio.run(_bare(host.base_url + STATIC_PATH, bare))
    return [_result(statistics.median(ours), statistics.median(bare), ours, bare)]


def _result(ours: float, bare: float, ours_rounds: list[float], bare_rounds: list[float]) -> Result:
    per_request = 1e6 / REQUESTS
    ratio = ours / bare
    return Result(
        name=NAME,
        openbackpack=ours * per_request,
        baseline=bare * per_request,
        unit="client CPU us/request",
        ratio=ratio,
        target=f"openbackpack <= {MAX_RATIO} x bare httpx2",
        met=ratio <= MAX_RATIO,
        extra={
            "requests": REQUESTS,
            "concurrency": CONCURRENCY,
            "rounds": ROUNDS,
            "openbackpack_rounds_us": [r * per_request for r in ours_rounds],
            "baseline_rounds_us": [r * per_request for r in bare_rounds],
            "baseline_is": "httpx2.AsyncClient.get, same timeout and redirects",
        },
    )
