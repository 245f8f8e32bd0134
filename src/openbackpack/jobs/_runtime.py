"""What one worker process keeps between tasks: its stores and one paced client.

Opened lazily in the process that runs the tasks (a prefork child, after the fork), never
shared across a fork: a database connection or a socket inherited from the parent would be
used by two processes at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from openbackpack._exceptions import ConfigurationError
from openbackpack.client import BackpackClient, Pacing, RateLimiter
from openbackpack.jobs._limit import HostLimit, SharedRateLimit, origin_of
from openbackpack.jobs._settings import JobSettings
from openbackpack.store import Store

__all__ = ["Runtime"]


class _Both:
    """Paces by two limits at once: the host's, shared by every worker, and a job's own rate."""

    def __init__(self, shared: Pacing, own: Pacing) -> None:
        self._pacings = (shared, own)

    def reserve_for(self, url: str) -> float:
        """A send time from each; wait for the later."""
        return max(pacing.reserve_for(url) for pacing in self._pacings)

    def pause_for(self, url: str, seconds: float) -> None:
        """A 429 pauses both."""
        for pacing in self._pacings:
            pacing.pause_for(url, seconds)


class Runtime:
    """The stores (by key) and the client of the current process, opened on first use."""

    def __init__(self, settings: JobSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._stores: dict[str, Store] = {}
        self._client: BackpackClient | None = None
        self._limit: SharedRateLimit | None = None

    def store(self, key: str) -> Store:
        """The store a task names, opened once per process.

        Raises:
            ConfigurationError: this worker does not serve that store.
        """
        with self._lock:
            self._forget_after_fork()
            opened = self._stores.get(key)
            if opened is None:
                url = self.settings.stores.get(key)
                if url is None:
                    raise ConfigurationError(
                        f"this worker does not serve store {key}; start it with that --db"
                    )
                opened = Store.open(url, migrate=False)
                self._stores[key] = opened
            return opened

    def client(self) -> BackpackClient:
        """The process's client, paced by the shared limit when one is configured."""
        with self._lock:
            self._forget_after_fork()
            if self._client is None:
                limit_url = self.settings.limit_url
                if limit_url is not None:
                    self._limit = SharedRateLimit(
                        limit_url,
                        prefix=self.settings.prefix,
                        limits=self._limits,
                        refresh=self.settings.limit_refresh,
                    )
                self._client = BackpackClient(rate_limit=self._limit)
            return self._client

    @contextmanager
    def move_clients(self, rate: float | None) -> Iterator[tuple[BackpackClient, BackpackClient]]:
        """The clients of one move: its source's and its target's.

        Without a ``rate`` both are the process's client. With one, each side gets a client
        of its own paced at ``rate`` (as ``openbackpack move --rate`` paces each backpack)
        and by the shared limit too; they are closed when the move ends.
        """
        shared = self.client()
        if rate is None:
            yield shared, shared
            return

        def paced() -> BackpackClient:
            own = RateLimiter(rate)
            return BackpackClient(
                rate_limit=own if self._limit is None else _Both(self._limit, own)
            )

        with paced() as source, paced() as target:
            yield source, target

    def _limits(self) -> dict[str, HostLimit]:
        found: dict[str, HostLimit] = {}
        for key in self.settings.stores:
            with self.store(key).transaction() as tx:
                providers = tx.providers.list()
            for provider in providers:
                if provider.rate_limit is None:
                    continue
                origin = origin_of(provider.api_url)
                limit = (provider.rate_limit, provider.burst or 1)
                # Two stores that name one host: the stricter limit holds.
                found[origin] = min(found.get(origin, limit), limit)
        return found

    def _forget_after_fork(self) -> None:
        pid = os.getpid()
        if self._pid != pid:
            # Inherited from the parent: not ours to use (nor to close).
            self._stores, self._client, self._limit = {}, None, None
            self._pid = pid

    def close(self) -> None:
        """Close what this process opened."""
        with self._lock:
            if self._client is not None:
                self._client.close()
            if self._limit is not None:
                self._limit.close()
            for store in self._stores.values():
                store.close()
            self._stores, self._client, self._limit = {}, None, None
