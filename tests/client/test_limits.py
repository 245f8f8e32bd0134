"""Answer size caps and the call deadline, against real loopback servers."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from typing import Any

import httpx2
import pytest
from fastapi import Response

from openbackpack import AnswerTooLargeError, RequestTimeoutError, ServerError
from openbackpack.client import (
    DEFAULT_MAX_ANSWER_BYTES,
    AsyncBackpackClient,
    BackpackClient,
    RetryPolicy,
)
from openbackpack.protocols import Endpoint, Shape
from openbackpack.serve import serve_in_thread
from tests.client._servers import streaming_app

STREAM = Endpoint("stream", "GET", "/stream", auth=False, shape=Shape.DOCUMENT)
KINDS = ["sync", "async"]
MIB = 1024 * 1024


def fetch(kind: str, url: str, route: Endpoint = STREAM, **options: Any) -> Any:
    """Fetch ``route`` (``/v2/stream``) with a fresh client of ``kind`` built with ``options``."""
    if kind == "sync":
        with BackpackClient(**options) as client:
            return client.fetch(route, url + "/v2")

    async def go() -> Any:
        async with AsyncBackpackClient(**options) as client:
            return await client.fetch(route, url + "/v2")

    return asyncio.run(go())


@pytest.mark.parametrize("kind", KINDS)
def test_answer_past_the_cap_is_refused_in_bounded_memory(kind: str) -> None:
    """A 1 GiB streamed answer raises AnswerTooLargeError at a 256 KiB cap, holding ~no memory."""
    app = streaming_app(b"[" * (64 * 1024), 16 * 1024, 0.0)
    with serve_in_thread(app) as url:
        tracemalloc.start()
        started = time.monotonic()
        try:
            with pytest.raises(AnswerTooLargeError) as caught:
                fetch(kind, url, max_answer_bytes=256 * 1024, retry=RetryPolicy.never())
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert caught.value.limit == 256 * 1024
    assert caught.value.url == url + "/v2/stream"
    assert "262144 bytes" in str(caught.value)
    assert peak < 8 * MIB
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("kind", KINDS)
def test_declared_length_past_the_cap_is_refused_unread(kind: str) -> None:
    """An answer whose Content-Length passes the cap is refused before its body is read."""
    app = streaming_app(b"x" * 1024, 1024, 0.0, sized=True)
    with serve_in_thread(app) as url, pytest.raises(AnswerTooLargeError):
        fetch(kind, url, max_answer_bytes=1000, retry=RetryPolicy.never())


@pytest.mark.parametrize("kind", KINDS)
def test_answer_within_the_cap_is_read_whole(kind: str) -> None:
    """An answer of exactly the cap is read whole."""
    app = streaming_app(b"1" * 1000, 4, 0.0)
    with serve_in_thread(app) as url:
        answer = fetch(kind, url, max_answer_bytes=4000)
    assert answer.content == b"1" * 4000


def test_default_cap_is_16_mib() -> None:
    """Both clients cap answers at 16 MiB unless told otherwise."""
    assert DEFAULT_MAX_ANSWER_BYTES == 16 * MIB
    assert BackpackClient().max_answer_bytes == 16 * MIB
    assert AsyncBackpackClient().max_answer_bytes == 16 * MIB


@pytest.mark.parametrize("kind", KINDS)
def test_dripping_host_cannot_outlast_the_deadline(kind: str) -> None:
    """A host dripping a byte every 0.2 s ends a 2 s-timeout call at its 1 s deadline, not later."""
    app = streaming_app(b" ", 200, 0.2)
    retry = RetryPolicy(attempts=3, wait_scale=0)
    with serve_in_thread(app) as url:
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError, match="deadline of 1 s"):
            fetch(kind, url, timeout=2.0, deadline=1.0, retry=retry)
        elapsed = time.monotonic() - started
    assert elapsed < 10


def test_default_deadline_is_the_timeout_times_the_attempts() -> None:
    """Without a deadline, a call may take its largest timeout times its attempts."""
    assert BackpackClient(timeout=2.0).call_deadline() == 6.0
    assert BackpackClient().call_deadline() == 30.0
    assert BackpackClient(timeout=httpx2.Timeout(None)).call_deadline() is None
    assert AsyncBackpackClient(timeout=2.0, deadline=0.5).call_deadline() == 0.5
    with pytest.raises(ValueError, match="deadline"):
        BackpackClient(deadline=0)


@pytest.mark.parametrize("kind", KINDS)
def test_retries_stop_at_the_deadline(kind: str) -> None:
    """Retries whose backoff would pass the deadline are not waited for: the 503 is raised."""
    app = streaming_app(b"", 0, 0.0)

    @app.get("/v2/busy")
    async def busy() -> Response:
        return Response(status_code=503)

    busy_route = Endpoint("busy", "GET", "/busy", auth=False, shape=Shape.DOCUMENT)
    retry = RetryPolicy(attempts=50, initial_delay=0.3, max_delay=0.3, jitter=0)
    with serve_in_thread(app) as url:
        started = time.monotonic()
        with pytest.raises(ServerError):
            fetch(kind, url, busy_route, deadline=1.0, retry=retry)
        elapsed = time.monotonic() - started
    assert elapsed < 5
