"""The rate limiter: send times on a grid, a burst, pauses; and how the clients use it."""

from __future__ import annotations

import threading

import pytest

from openbackpack import RateLimitError
from openbackpack.client import RateLimiter, RetryPolicy, set_testing
from openbackpack.protocols import badgr
from tests.client.conftest import MakeClient, Script, envelope, respond

API = "http://127.0.0.1:8123/v2"


class Clock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_requests_are_spaced_at_the_rate() -> None:
    """Without a burst, each request waits one interval more than the one before."""
    limiter = RateLimiter(10, clock=Clock())
    assert [limiter.reserve() for _ in range(4)] == pytest.approx([0.0, 0.1, 0.2, 0.3])


def test_a_burst_leaves_at_once_then_the_rate_applies() -> None:
    """burst=3 lets three requests go at once; the fourth waits one interval."""
    limiter = RateLimiter(10, burst=3, clock=Clock())
    assert [limiter.reserve() for _ in range(5)] == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2])


def test_a_quiet_spell_refills_the_burst_but_no_more() -> None:
    """After a long pause the burst is available again, and it is not exceeded."""
    clock = Clock()
    limiter = RateLimiter(10, burst=2, clock=clock)
    for _ in range(4):
        limiter.reserve()
    clock.now += 60
    assert [limiter.reserve() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.1])


def test_waiting_callers_keep_the_rate_as_time_passes() -> None:
    """A caller that arrives after its slot waits nothing; early ones wait for theirs."""
    clock = Clock()
    limiter = RateLimiter(4, clock=clock)
    assert limiter.reserve() == pytest.approx(0.0)
    clock.now += 0.1
    assert limiter.reserve() == pytest.approx(0.15)
    clock.now += 1.0
    assert limiter.reserve() == pytest.approx(0.0)


def test_pause_holds_back_every_later_request() -> None:
    """pause(2) gives no send time before two seconds from now; the burst starts empty."""
    clock = Clock()
    limiter = RateLimiter(10, burst=5, clock=clock)
    limiter.pause(2.0)
    assert [limiter.reserve() for _ in range(3)] == pytest.approx([2.0, 2.1, 2.2])
    limiter.pause(0.0)
    assert limiter.reserve() == pytest.approx(2.3)


def test_threads_get_distinct_send_times() -> None:
    """Many threads reserving at once all get different times, one interval apart."""
    limiter = RateLimiter(1000, clock=Clock())
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(50):
            wait = limiter.reserve()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == pytest.approx([n / 1000 for n in range(400)])


@pytest.mark.parametrize(
    ("rate", "burst"), [pytest.param(0, 1, id="no-rate"), pytest.param(5, 0, id="no-burst")]
)
def test_bad_settings_are_refused(rate: float, burst: int) -> None:
    """A rate of 0 or a burst under 1 is a ValueError."""
    with pytest.raises(ValueError, match="must be"):
        RateLimiter(rate, burst=burst)


@pytest.mark.anyio
async def test_clients_take_a_send_time_for_every_attempt(make_client: MakeClient) -> None:
    """Each request, and each retry, takes a send time from the client's limiter."""
    clock = Clock()
    limiter = RateLimiter(10, clock=clock)
    set_testing(True)  # the limiter's waits are taken, not slept
    script = Script(respond(503), respond(200, envelope()))
    client = make_client(script, rate_limit=limiter)
    await client.call("fetch", badgr.route("issuers.list"), API, token="AT")
    await client.call("fetch", badgr.route("issuers.list"), API, token="AT")
    assert len(script.requests) == 3
    assert limiter.reserve() == pytest.approx(0.3)


@pytest.mark.anyio
async def test_a_429_pauses_the_limiter_for_the_asked_wait(make_client: MakeClient) -> None:
    """A 429 with Retry-After: 7 keeps every later request back for seven seconds."""
    clock = Clock()
    limiter = RateLimiter(10, clock=clock)
    script = Script(respond(429, {}, {"Retry-After": "7"}))
    client = make_client(script, rate_limit=limiter, retry=RetryPolicy.never())
    with pytest.raises(RateLimitError):
        await client.call("fetch", badgr.route("issuers.list"), API, token="AT")
    assert limiter.reserve() == pytest.approx(7.0)


@pytest.mark.anyio
async def test_the_pause_follows_the_retry_wait_when_the_client_retries(
    make_client: MakeClient,
) -> None:
    """When the 429 is retried, the limiter pauses for the (scaled) wait the retry sleeps."""
    clock = Clock()
    limiter = RateLimiter(1000, clock=clock)
    script = Script(respond(429, {}, {"Retry-After": "5"}), respond(200, envelope()))
    retry = RetryPolicy(attempts=2, wait_scale=0.001)
    client = make_client(script, rate_limit=limiter, retry=retry)
    await client.call("fetch", badgr.route("issuers.list"), API, token="AT")
    # Paused 5 ms (the scaled Retry-After), the retry took 5 ms, so the next is 6 ms away:
    # without the pause it would be 2 ms.
    assert limiter.reserve() == pytest.approx(0.006)
