"""When to try a request again, and how long to wait first; plus the testing switch.

The policy is pure: it looks at what happened (an answer's status and headers, or a transport
error) and returns a wait in seconds, or None to stop. The clients do the sleeping.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx2

from openbackpack.protocols import retry_after_from

__all__ = ["RetryPolicy", "is_testing", "set_testing"]

_RATE_LIMITED = 429
_UNAVAILABLE = 503


@dataclass(frozen=True, slots=True)
class _Testing:
    enabled: bool = False
    attempts: int | None = None


_testing = _Testing()
_testing_lock = threading.Lock()


def set_testing(enabled: bool, *, attempts: int | None = None) -> None:
    """Switch every client into (or out of) testing mode.

    In testing mode no client ever sleeps between attempts (waits, including the ones a
    ``Retry-After`` asks for, become 0) and, when ``attempts`` is given, no request is tried
    more than that many times. Use it in a test suite's fixtures so that retries stay
    observable but instant; switch it off again afterwards.
    """
    global _testing
    if attempts is not None and attempts < 1:
        raise ValueError("attempts must be at least 1")
    with _testing_lock:
        _testing = _Testing(enabled, attempts if enabled else None)


def is_testing() -> bool:
    """Whether :func:`set_testing` switched testing mode on."""
    return _testing.enabled


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a client retries: bounded, backed off with jitter, honouring ``Retry-After``.

    What is retried:

    * a connection that could not be made (nothing reached the server): any request;
    * another transport failure (a timeout, a connection closed mid-answer) or a 502, 503 or
      504: only requests whose endpoint is idempotent (GET, PUT, DELETE), since a POST may
      have been carried out already;
    * a 429: any request (the server refused it without acting), after the wait it asks for.

    A ``Retry-After`` (or Badgr's ``expires``) longer than ``max_retry_after`` is not waited
    for: the client gives up at once with the :class:`~openbackpack.RateLimitError`, whose
    ``retry_after`` tells the caller when to come back.

    Attributes:
        attempts: tries in all, the first included (1 means never retry).
        initial_delay: the first backoff, in seconds; it doubles with each retry.
        max_delay: the longest backoff.
        max_retry_after: the longest server-requested wait the client will sit through.
        jitter: a random share (0 to 1) added to each backoff, so that clients that failed
            together do not all come back at the same instant.
        wait_scale: multiplies every wait; 0 never sleeps (tests), 1 is real time.
    """

    attempts: int = 3
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0
    jitter: float = 0.1
    wait_scale: float = 1.0
    retry_statuses: frozenset[int] = field(default=frozenset({502, 503, 504}))

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if min(self.initial_delay, self.max_delay, self.max_retry_after, self.wait_scale) < 0:
            raise ValueError("delays and scales cannot be negative")

    @classmethod
    def never(cls) -> RetryPolicy:
        """A policy that tries every request exactly once."""
        return cls(attempts=1)

    def max_attempts(self) -> int:
        """The attempts allowed now, after the testing switch's cap."""
        cap = _testing.attempts
        return min(self.attempts, cap) if cap is not None else self.attempts

    def backoff(self, retry_number: int) -> float:
        """The exponential wait before retry number ``retry_number`` (0 for the first retry)."""
        delay = min(self.max_delay, self.initial_delay * (2**retry_number))
        return _with_jitter(delay, self.jitter)

    def after_answer(
        self,
        retry_number: int,
        status_code: int,
        headers: Mapping[str, str],
        content: bytes,
        *,
        idempotent: bool,
    ) -> float | None:
        """The wait before trying again after an answer, or None to keep this answer."""
        if retry_number + 1 >= self.max_attempts():
            return None
        if status_code == _RATE_LIMITED or (status_code == _UNAVAILABLE and idempotent):
            asked = retry_after_from(headers, content)
            if asked is not None:
                return self._scaled(asked) if asked <= self.max_retry_after else None
        if status_code == _RATE_LIMITED or (status_code in self.retry_statuses and idempotent):
            return self._scaled(self.backoff(retry_number))
        return None

    def after_error(
        self, retry_number: int, error: httpx2.HTTPError, *, idempotent: bool
    ) -> float | None:
        """The wait before trying again after a transport error, or None to give up."""
        if retry_number + 1 >= self.max_attempts():
            return None
        never_sent = isinstance(error, httpx2.ConnectError | httpx2.ConnectTimeout)
        if never_sent or (idempotent and isinstance(error, httpx2.TransportError)):
            return self._scaled(self.backoff(retry_number))
        return None

    def _scaled(self, seconds: float) -> float:
        return 0.0 if _testing.enabled else seconds * self.wait_scale


def _with_jitter(delay: float, share: float) -> float:
    # Isolated so the randomness is in one place; random, not secrets: nothing to guess here.
    return delay + delay * share * random.random()  # noqa: S311
