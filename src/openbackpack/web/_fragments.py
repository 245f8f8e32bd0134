"""Rendered page fragments kept by a digest of exactly what they show.

The list of a learner's external badges is most of the external-badges page, and rendering
it (every remote string escaped) costs several times the cached read it shows. The same
badges, links and words give the same HTML, so a fragment is kept under a digest of its whole
input: any change in what is shown (a refreshed cache, a new collection, another image link)
is another key, and a stale fragment is never served.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

from markupsafe import Markup

__all__ = ["RenderedFragments"]


class RenderedFragments:
    """A bounded, thread-safe least-recently-used map from an input digest to its HTML."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[str, Markup] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def digest(*parts: str) -> str:
        """The key of a fragment drawn from ``parts`` (everything its HTML depends on)."""
        hashed = hashlib.sha256()
        for part in parts:
            data = part.encode()
            # Length-prefixed, so that no two different part lists give the same bytes.
            hashed.update(len(data).to_bytes(8, "big"))
            hashed.update(data)
        return hashed.hexdigest()

    def get_or_render(self, key: str, render: Callable[[], str]) -> Markup:
        """The fragment kept under ``key``, or ``render()``'s HTML, kept from now on."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        # Rendered outside the lock: two requests for one new key both render, and agree.
        html = Markup(render())  # noqa: S704 - the template's own output, autoescaped there
        with self._lock:
            self._items[key] = html
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return html

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
