"""How workers and enqueuers are configured: a typed record, read from the environment."""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from openbackpack._exceptions import ConfigurationError
from openbackpack._settings import default_database_url, parse_database_url

__all__ = [
    "BROKER_ENV",
    "LIMIT_REDIS_ENV",
    "REFRESH_EVERY_ENV",
    "JobSettings",
    "broker_configured",
    "store_key",
]

BROKER_ENV: Final = "OPENBACKPACK_BROKER"
"""The broker URL (``redis://...`` or ``amqp://...``); unset: everything runs in-process."""
LIMIT_REDIS_ENV: Final = "OPENBACKPACK_LIMIT_REDIS"
"""Where the shared rate limits live when the broker is not Redis (a ``redis://`` URL)."""
_PREFIX_ENV: Final = "OPENBACKPACK_JOBS_PREFIX"
_QUEUE_ENV: Final = "OPENBACKPACK_QUEUE"
_VISIBILITY_ENV: Final = "OPENBACKPACK_VISIBILITY_TIMEOUT"
REFRESH_EVERY_ENV: Final = "OPENBACKPACK_REFRESH_EVERY"
"""Seconds between two refreshes of every learner's badge cache by the beat (default 3600)."""
_SCHEMES: Final = ("redis", "rediss", "amqp", "amqps", "pyamqp")


def broker_configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``OPENBACKPACK_BROKER`` names a broker (else the in-process default holds)."""
    return bool((environ if environ is not None else os.environ).get(BROKER_ENV, "").strip())


def store_key(db_url: str) -> str:
    """A short name for a store, the same in every process: which store a task belongs to."""
    rendered = parse_database_url(db_url).render_as_string(hide_password=True)
    return hashlib.sha256(rendered.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class JobSettings:
    """Everything the Celery app, its workers and the enqueuers need.

    Attributes:
        broker_url: ``redis://HOST:PORT/DB`` or ``amqp://USER:PASSWORD@HOST:PORT/VHOST``.
        db_urls: the stores the jobs live in; the first is where new jobs are written. A
            worker serves every store listed (one worker pool for several sites).
        limit_url: the Redis that holds the rate limit shared by all workers; by default the
            broker when it is Redis. None: no shared limit (the providers' limits are then
            not applied, and ``openbackpack worker`` says so).
        prefix: prefixes every Redis key (broker and limits) and the default queue name, so
            that several deployments (or test runs) share one Redis without meeting.
        queue: the queue new jobs go to unless another is named.
        chunk_size: awards per task: a lost worker costs the redelivery of one chunk.
        threads: awards pushed at once by one task (the push's own concurrency).
        max_retries: how often a chunk whose awards met 429 or 5xx is tried again.
        max_countdown: the longest wait, in seconds, before such a retry.
        visibility_timeout: seconds after which a Redis broker gives a task a lost worker
            had taken to another worker (RabbitMQ does so as soon as the connection drops).
        refresh_interval: seconds between two refreshes of every learner's badge cache
            (the beat schedule; ``OPENBACKPACK_REFRESH_EVERY``).
        limit_refresh: seconds a worker keeps the providers' limits before reading them again.
    """

    broker_url: str
    db_urls: tuple[str, ...]
    limit_url: str | None = None
    prefix: str = "openbackpack"
    queue: str = "openbackpack"
    chunk_size: int = 50
    threads: int = 8
    max_retries: int = 5
    max_countdown: float = 60.0
    visibility_timeout: float = 300.0
    refresh_interval: float = 3600.0
    limit_refresh: float = 10.0

    def __post_init__(self) -> None:
        scheme = urlsplit(self.broker_url).scheme
        if scheme not in _SCHEMES:
            raise ConfigurationError(
                f"the broker URL must start with redis:// or amqp:// (got {scheme or 'none'}://)"
            )
        if not self.db_urls:
            raise ConfigurationError("the jobs need a store URL")
        if self.limit_url is not None and urlsplit(self.limit_url).scheme not in _SCHEMES[:2]:
            raise ConfigurationError(f"{LIMIT_REDIS_ENV} must be a redis:// URL")
        if self.chunk_size < 1 or self.threads < 1 or self.max_retries < 0:
            raise ConfigurationError("chunk size and threads must be at least 1, retries >= 0")
        waits = (self.visibility_timeout, self.refresh_interval)
        if not all(math.isfinite(wait) and wait > 0 for wait in waits):
            raise ConfigurationError("timeouts and intervals must be positive numbers of seconds")

    @property
    def broker_is_redis(self) -> bool:
        """Whether the broker is Redis (it then also holds the shared limits by default)."""
        return urlsplit(self.broker_url).scheme in _SCHEMES[:2]

    @property
    def stores(self) -> dict[str, str]:
        """The stores by :func:`store_key`."""
        return {store_key(url): url for url in self.db_urls}

    @classmethod
    def from_environment(
        cls,
        *,
        db_urls: tuple[str, ...] = (),
        environ: Mapping[str, str] | None = None,
        **overrides: object,
    ) -> JobSettings:
        """Read the settings from the environment (``OPENBACKPACK_BROKER`` is required).

        Also ``OPENBACKPACK_LIMIT_REDIS``, ``OPENBACKPACK_JOBS_PREFIX``, ``OPENBACKPACK_QUEUE``,
        ``OPENBACKPACK_VISIBILITY_TIMEOUT`` and ``OPENBACKPACK_REFRESH_EVERY`` (seconds between
        the beat's refreshes); the store is ``db_urls`` or ``OPENBACKPACK_DB``.

        Raises:
            ConfigurationError: no broker is configured, or a value is unusable.
        """
        env = environ if environ is not None else os.environ
        broker = env.get(BROKER_ENV, "").strip()
        if not broker:
            raise ConfigurationError(
                f"no broker is configured: set {BROKER_ENV} to a redis:// or amqp:// URL"
            )
        limit = env.get(LIMIT_REDIS_ENV, "").strip() or None
        if limit is None and urlsplit(broker).scheme in _SCHEMES[:2]:
            limit = broker
        prefix = env.get(_PREFIX_ENV, "").strip() or "openbackpack"
        values: dict[str, object] = {
            "broker_url": broker,
            "db_urls": db_urls or (default_database_url(),),
            "limit_url": limit,
            "prefix": prefix,
            "queue": env.get(_QUEUE_ENV, "").strip() or prefix,
        }
        visibility = env.get(_VISIBILITY_ENV, "").strip()
        if visibility:
            values["visibility_timeout"] = _seconds(_VISIBILITY_ENV, visibility)
        refresh_every = env.get(REFRESH_EVERY_ENV, "").strip()
        if refresh_every:
            values["refresh_interval"] = _seconds(REFRESH_EVERY_ENV, refresh_every)
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def _seconds(name: str, text: str) -> float:
    """``text`` as a positive, finite number of seconds, or an error naming the variable."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    # float() also takes "nan" and "inf": neither is a wait a scheduler can keep.
    if not math.isfinite(value) or value <= 0:
        raise ConfigurationError(
            f"{name} must be a positive number of seconds (such as 3600), not {text!r}"
        )
    return value
