"""The benchmarks' latency proxy delays connections and exchanges by the chosen round trip."""

from __future__ import annotations

import time

import httpx2
from benchmarks._proxy import latency_proxy
from fastapi import FastAPI

from openbackpack.serve import serve_in_thread


def test_a_new_connection_costs_two_round_trips_and_a_reused_one_one() -> None:
    """Through a 0.2 s proxy a fresh connection's exchange waits two round trips, a reused one."""
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    with (
        serve_in_thread(app) as url,
        latency_proxy(url, 0.2) as proxied,
        httpx2.Client(base_url=proxied) as client,
    ):
        started = time.perf_counter()
        assert client.get("/ping").json() == {"pong": "yes"}
        first = time.perf_counter() - started
        started = time.perf_counter()
        client.get("/ping")
        second = time.perf_counter() - started
    # Lower bounds only: the proxy must add at least its delay; how much slower the machine
    # is beyond that is not this test's business.
    assert first >= 0.4
    assert second >= 0.2
