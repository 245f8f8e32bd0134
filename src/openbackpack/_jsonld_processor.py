"""pyld's JSON-LD processor, with type-scoped contexts processed once per active context.

When pyld expands a node whose ``type`` carries a scoped context (``OpenBadgeCredential``,
``Achievement``, ``DataIntegrityProof`` ... in the shipped contexts), it applies that context
without propagation: it copies the active context into a fresh child, which gets a fresh
identifier, so its cache of processed contexts (keyed by that identifier) never hits. Every
node of every document then processes the scoped context again, term by term, and keys it
by a JCS canonicalisation of the whole context object: most of the CPU of a signature.

:class:`MemoProcessor` remembers the outcome of processing a context *object* against a
frozen active context: the same inputs always give the same (frozen, never mutated) result,
so it is shared. Contexts named by URL go through pyld unchanged, and so does anything the
memo cannot identify for certain (an active context that is still being built, a context that
imports another, a cycle check in progress). Canonicalisation itself is pyld's: the W3C test
vectors and the fixtures check that the canonical forms are the same.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Final

from cachetools import LRUCache
from frozendict import frozendict
from pyld import jsonld

__all__ = ["MemoProcessor"]

# Entries for contexts of one document only (documents fetched per loader) cannot be hit by
# the next document; the bound keeps them from piling up in a long-running worker.
_ENTRIES: Final = 4096

_Key = tuple[str, int, bool, bool, bool, str, bool]


class MemoProcessor(jsonld.JsonLdProcessor):  # type: ignore[misc]  # pyld is untyped
    """A pyld ``JsonLdProcessor`` whose processing of context objects is remembered."""

    _memo: LRUCache[_Key, tuple[Any, Any, Any]] = LRUCache(maxsize=_ENTRIES)
    _memo_lock: Final = threading.Lock()

    def _process_context(
        self,
        active_ctx: Any,
        local_ctx: Any,
        options: dict[str, Any],
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: set[str] | None = None,
    ) -> Any:
        key = _memo_key(active_ctx, local_ctx, options, override_protected, propagate)
        if key is not None and validate_scoped and not cycles:
            with self._memo_lock:
                held = self._memo.get(key)
            # The memo holds both inputs, so an id seen here is still the object it names.
            if held is not None and held[0] is active_ctx and held[1] is local_ctx:
                return held[2]
        processed = super()._process_context(
            active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
        )
        if key is not None and validate_scoped and not cycles and _is_frozen(processed):
            with self._memo_lock:
                self._memo[key] = (active_ctx, local_ctx, processed)
        return processed


def _is_frozen(value: Any) -> bool:
    return isinstance(value, frozendict)


def _memo_key(
    active_ctx: Any,
    local_ctx: Any,
    options: Mapping[str, Any],
    override_protected: bool,
    propagate: bool,
) -> _Key | None:
    """The memo's key, or None when the outcome may depend on more than these inputs."""
    if not _is_frozen(active_ctx) or "_uuid" not in active_ctx:
        return None  # still being built: it may change after this call
    if not isinstance(local_ctx, Mapping) or "@import" in local_ctx:
        return None  # a URL, or a context that fetches another: pyld's own caches apply
    return (
        str(active_ctx["_uuid"]),
        id(local_ctx),
        override_protected,
        propagate,
        bool(options.get("safe")),
        str(options.get("base", "")),
        bool(options.get("extractAllScripts")),
    )
