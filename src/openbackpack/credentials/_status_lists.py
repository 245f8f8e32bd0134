"""Verified status lists kept between verifications, for as long as each list allows.

A verifier taking many credentials of one issuer (a host receiving a term's pushes, a worker
refreshing caches) would otherwise fetch the same status list and check its proof again for
every credential. A list states how long it may be relied on: its ``ttl``, in milliseconds
(Bitstring Status List v1.0, the ``BitstringStatusList`` subject). A list is kept only when
its own verification passed and it states a ttl, for that long, never longer than the
cache's ``max_age`` and never past the list's ``validUntil``. A list without a ttl is
fetched afresh for every credential, as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from cachetools import LRUCache

from openbackpack._exceptions import InvalidInputError
from openbackpack.credentials._report import Outcome, VerificationReport

__all__ = ["StatusListCache", "list_ttl_seconds"]

_DEFAULT_MAX_AGE: Final = 300.0


def list_ttl_seconds(signed_list: Mapping[str, Any]) -> float | None:
    """The ``ttl`` a verified status list credential states, in seconds; None if none or bad."""
    subject = signed_list.get("credentialSubject")
    ttl = subject.get("ttl") if isinstance(subject, Mapping) else None
    if isinstance(ttl, str) and ttl.isdigit():
        ttl = int(ttl)
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0:
        return None
    return float(ttl) / 1000.0


def _seconds_left(signed_list: Mapping[str, Any]) -> float | None:
    until = signed_list.get("validUntil")
    if not isinstance(until, str):
        return None
    try:
        ends = datetime.fromisoformat(until)
    except ValueError:
        return 0.0  # an unreadable end: not kept (the list's own check reports it)
    if ends.tzinfo is None:
        ends = ends.replace(tzinfo=UTC)
    return (ends - datetime.now(UTC)).total_seconds()


class StatusListCache:
    """Status lists whose verification passed, each kept while its ``ttl`` allows.

    Share one between verifications (pass it to :class:`DocumentLoader` as
    ``status_lists``); it is safe to use from many threads. ``max_age`` (seconds) caps how
    long any list is kept whatever its ttl says: a revocation reaches this verifier within
    that time. ``max_age=0`` keeps nothing.

    Raises:
        InvalidInputError: a negative ``max_age`` or a ``max_entries`` below 1.
    """

    def __init__(
        self,
        *,
        max_age: float = _DEFAULT_MAX_AGE,
        max_entries: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_age < 0:
            raise InvalidInputError(f"max_age must be >= 0 seconds, not {max_age}")
        if max_entries < 1:
            raise InvalidInputError(f"max_entries must be >= 1, not {max_entries}")
        self.max_age = max_age
        self._clock = clock
        self._lists: LRUCache[str, tuple[float, VerificationReport]] = LRUCache(max_entries)
        self._lock = threading.Lock()

    def get(self, url: str) -> VerificationReport | None:
        """The kept verification of the list at ``url``, if it is still within its time."""
        with self._lock:
            kept = self._lists.get(url)
            if kept is None:
                return None
            if kept[0] <= self._clock():
                del self._lists[url]
                return None
            return kept[1]

    def keep(self, url: str, report: VerificationReport) -> bool:
        """Keep the list's verification if it passed and states a ttl; whether it was kept."""
        signed = report.credential
        if report.outcome is not Outcome.VALID or not isinstance(signed, Mapping):
            return False
        ttl = list_ttl_seconds(signed)
        if ttl is None:
            return False
        lifetime = min(ttl, self.max_age)
        left = _seconds_left(signed)
        if left is not None:
            lifetime = min(lifetime, left)
        if lifetime <= 0:
            return False
        with self._lock:
            self._lists[url] = (self._clock() + lifetime, report)
        return True

    def clear(self) -> None:
        """Forget every kept list (the next credential of each issuer fetches its list)."""
        with self._lock:
            self._lists.clear()
