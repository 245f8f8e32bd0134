"""One rate limit per backpack host, shared by every worker on every machine, in Redis.

Celery's own ``rate_limit`` counts per worker process, so N workers send N times the rate.
Here every request of every worker takes its send time from one bucket per host (per
origin, ``scheme://host:port``) kept in Redis, as the client's local
:class:`~openbackpack.client.RateLimiter` does in memory: the generic cell rate algorithm,
a token bucket seen from the sender's side. At most half the host's ``burst`` requests leave
at once (:func:`sender_burst`), then one every ``1 / rate`` seconds; a 429's ``Retry-After``
pauses the bucket for everyone.

Why a Lua script and not ``limits``: ``limits`` answers "may I, now?" (``hit``) over fixed or
moving windows, with no burst separate from the rate and no reservation, so a blocking
acquire would poll Redis until a window frees, with every worker racing for the same
instant. The script below reserves the next send time in one atomic call: the caller sleeps
exactly as long as needed, waiters are served in order, and each request costs one round
trip to Redis. Its clock is Redis's own (``TIME``), so the machines' clocks do not matter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Final
from urllib.parse import urlsplit

import redis

from openbackpack._exceptions import TransportError

__all__ = ["HostLimit", "SharedRateLimit", "origin_of", "sender_burst"]

HostLimit = tuple[float, int]
"""Requests per second and burst of one host."""

# KEYS[1]: the bucket. ARGV: interval (s), tolerance (s) = (sent at once - 1) * interval, pause (s).
# The value is the theoretical time the next request would leave at the sustained rate.
_RESERVE: Final = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local pause = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local next_at = tonumber(redis.call('GET', KEYS[1])) or now
local wait = 0
if pause > 0 then
  next_at = math.max(next_at, now + pause + tolerance)
else
  local start = math.max(now, next_at - tolerance)
  next_at = math.max(next_at, start) + interval
  wait = start - now
end
local keep = math.ceil((next_at - now + tolerance) * 1000) + 60000
redis.call('SET', KEYS[1], string.format('%.6f', next_at), 'PX', keep)
return string.format('%.6f', wait)
"""


def sender_burst(host_burst: int) -> int:
    """How many requests the workers send at once to a host whose bucket holds ``host_burst``.

    Half of it, at least one: the host's bucket sees arrivals, not sends, and requests sent
    on time arrive bunched (a sender's thread woken late, a network queue emptying at
    once). Sending the whole burst leaves the host no room for that, and each 429 pauses
    every worker for the host's ``Retry-After``; the sustained rate is the host's either way.
    """
    return max(host_burst // 2, 1)


def origin_of(url: str) -> str:
    """``scheme://host:port`` of a URL, lower case, the port always written out."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


class SharedRateLimit:
    """Paces a client (a :class:`~openbackpack.client.Pacing`) by buckets held in Redis.

    Args:
        redis_url: the Redis that holds the buckets.
        prefix: prefixes the buckets' keys.
        limits: returns the limit of each origin (``origin_of(api_url)`` of each provider);
            called again every ``refresh`` seconds, so an edited limit takes effect without
            restarting the workers. Origins without a limit are not paced.
        refresh: seconds between two calls of ``limits``.
    """

    def __init__(
        self,
        redis_url: str,
        *,
        prefix: str,
        limits: Callable[[], Mapping[str, HostLimit]],
        refresh: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        self._script = self._redis.register_script(_RESERVE)
        self._prefix = prefix
        self._read_limits = limits
        self._refresh = refresh
        self._clock = clock
        self._lock = threading.Lock()
        self._limits: Mapping[str, HostLimit] = {}
        self._read_at: float | None = None

    def limit_of(self, url: str) -> HostLimit | None:
        """The limit in force for ``url``'s host, if any."""
        with self._lock:
            now = self._clock()
            if self._read_at is None or now - self._read_at >= self._refresh:
                self._limits = dict(self._read_limits())
                self._read_at = now
            return self._limits.get(origin_of(url))

    def reserve_for(self, url: str) -> float:
        """Take the next send time of ``url``'s host; the seconds to wait before sending."""
        limit = self.limit_of(url)
        if limit is None:
            return 0.0
        return self._call(url, limit, 0.0)

    def pause_for(self, url: str, seconds: float) -> None:
        """Give no worker a send time to ``url``'s host earlier than ``seconds`` from now."""
        limit = self.limit_of(url)
        if limit is None or seconds <= 0:
            return
        self._call(url, limit, seconds)

    def key_of(self, url: str) -> str:
        """The Redis key of ``url``'s bucket."""
        return f"{self._prefix}:rate:{origin_of(url)}"

    def close(self) -> None:
        """Close the connections to Redis."""
        self._redis.close()

    def _call(self, url: str, limit: HostLimit, pause: float) -> float:
        rate, burst = limit
        interval = 1.0 / rate
        tolerance = (sender_burst(burst) - 1) * interval
        try:
            answer = self._script(keys=[self.key_of(url)], args=[interval, tolerance, pause])
        except redis.RedisError as exc:
            # No send time, no request: sending unpaced would break the host's limit.
            raise TransportError(
                f"the shared rate limit is unavailable (Redis: {type(exc).__name__}); "
                "the request was not sent"
            ) from None
        return max(0.0, float(answer))
