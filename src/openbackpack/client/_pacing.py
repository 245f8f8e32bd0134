"""Client-side pacing: send no faster than a backpack allows, instead of collecting 429s.

A :class:`RateLimiter` hands out send times on a fixed grid (the generic cell rate
algorithm, a token bucket seen from the sender's side): at most ``burst`` requests at once,
then one every ``1 / requests_per_second`` seconds. It is shared by every thread and task
that sends through one client, and it is pure bookkeeping: :meth:`RateLimiter.reserve`
returns how long to wait, and the client does the sleeping.

When a backpack still answers 429, :meth:`RateLimiter.pause` holds back every request that
has not yet been given a time, so that one ``Retry-After`` slows the whole client down
rather than each request discovering it on its own.

Anything with ``reserve_for(url)`` and ``pause_for(url, seconds)`` (the :class:`Pacing`
protocol) can pace a client instead, for instance a limit per host kept in Redis and shared
by every worker (``openbackpack.jobs``): the client asks it before every attempt.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["Pacing", "RateLimiter"]


@runtime_checkable
class Pacing(Protocol):
    """What paces a client: a send time per request, and a pause after a 429.

    .. versionadded:: 0.1
    """

    def reserve_for(self, url: str) -> float:
        """Take a send time for a request to ``url``; return the seconds to wait first."""
        ...

    def pause_for(self, url: str, seconds: float) -> None:
        """Hold back requests to ``url``'s host for ``seconds`` (it answered 429)."""
        ...


class RateLimiter:
    """Paces requests to at most ``requests_per_second``, ``burst`` of them at once.

    Thread-safe; one limiter may also serve several clients that share a backpack's quota.
    Set it to the rate the backpack publishes (or a little under): requests then leave
    evenly spaced, and a host that throttles with a token bucket of the same rate never
    needs to refuse one.

    Args:
        requests_per_second: the sustained rate, greater than 0.
        burst: how many requests may leave at once after a quiet spell (at least 1).
        clock: seconds from a monotonic clock (``time.monotonic``; tests pass a fake one).

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        requests_per_second: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if requests_per_second <= 0:
            raise ValueError("requests_per_second must be greater than 0")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.requests_per_second = requests_per_second
        self.burst = burst
        self._interval = 1.0 / requests_per_second
        # How far ahead of the grid a request may leave: the burst, in time.
        self._tolerance = (burst - 1) * self._interval
        self._clock = clock
        self._lock = threading.Lock()
        # The theoretical time the next request would leave at the sustained rate.
        self._next = clock()

    def reserve(self) -> float:
        """Take the next send time; return the seconds to wait before sending (0 or more).

        The time is taken even if the caller then gives up, so the rate is never exceeded.
        """
        with self._lock:
            now = self._clock()
            start = max(now, self._next - self._tolerance)
            self._next = max(self._next, start) + self._interval
            return start - now

    def pause(self, seconds: float) -> None:
        """Give no send time earlier than ``seconds`` from now (a 429's ``Retry-After``)."""
        if seconds <= 0:
            return
        with self._lock:
            resume = self._clock() + seconds
            # Past the pause the burst starts empty: the backpack just said it was full.
            self._next = max(self._next, resume + self._tolerance)

    def reserve_for(self, url: str) -> float:
        """:meth:`reserve`, whatever the URL: one limiter paces every request of a client."""
        return self.reserve()

    def pause_for(self, url: str, seconds: float) -> None:
        """:meth:`pause`, whatever the URL."""
        self.pause(seconds)

    def __repr__(self) -> str:
        return f"RateLimiter({self.requests_per_second!r}, burst={self.burst!r})"
