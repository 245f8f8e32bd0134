"""One lock around every call into pyld.

pyld keeps module-wide caches (resolved contexts, inverse contexts, each resolved context's
processed forms) in ``cachetools`` LRU caches, which are not safe to share between threads: two
canonicalisations at once in a threaded server (the issuer app, the reference host, a move
verifying many credentials) raised ``KeyError`` from inside those caches, and good credentials
were refused. pyld is pure Python, so under the GIL the lock costs little throughput; it only
makes the calls take turns.
"""

from __future__ import annotations

import threading
from typing import Final

__all__ = ["JSONLD_LOCK"]

JSONLD_LOCK: Final = threading.RLock()
"""Held around every pyld call (expand, normalize, from_rdf); re-entrant for nested loaders."""
