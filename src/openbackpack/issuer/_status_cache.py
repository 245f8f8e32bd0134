"""Signed status lists kept until what they say changes.

Every verifier of every credential an issuer signed fetches the issuer's status list, and
signing one canonicalises it (a few milliseconds of CPU each time). The list changes only when
an award is revoked or the issuer's key is rotated, so a signed list is kept under exactly
what it was made from and signed again only when that changes.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable
from typing import Any, Final

from cachetools import LRUCache

__all__ = ["SignedListCache"]

_DEFAULT_SIZE: Final = 256


class SignedListCache:
    """A bounded, thread-safe map from what a list was made from to the signed list."""

    def __init__(self, size: int = _DEFAULT_SIZE) -> None:
        self._lists: LRUCache[Hashable, dict[str, Any]] = LRUCache(maxsize=size)
        self._lock = threading.Lock()

    def get_or_sign(self, key: Hashable, sign: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The list signed for ``key``; ``sign()`` makes it when there is none yet.

        Each caller gets its own copy, so nothing it does changes the kept list.
        """
        with self._lock:
            kept = self._lists.get(key)
        if kept is not None:
            return copy.deepcopy(kept)
        # Signed outside the lock: two first requests may both sign, and either list is right.
        signed = sign()
        with self._lock:
            self._lists[key] = copy.deepcopy(signed)
        return signed

    def __len__(self) -> int:
        """How many signed lists are kept."""
        return len(self._lists)
