"""Running many calls at once, a bounded number at a time, keeping their order.

A failing call does not sink the others: each slot of the result holds either the value or the
:class:`~openbackpack.BackpackError` it raised. Anything else (a bug) still propagates.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import anyio

from openbackpack._exceptions import BackpackError

__all__ = ["DEFAULT_CONCURRENCY", "amap_bounded", "map_bounded"]

DEFAULT_CONCURRENCY = 8
"""How many requests a bulk read keeps in flight by default."""

A = TypeVar("A")
T = TypeVar("T")


def _check(limit: int) -> None:
    if limit < 1:
        raise ValueError("the concurrency limit must be at least 1")


def map_bounded(
    fn: Callable[[A], T], items: Sequence[A], limit: int = DEFAULT_CONCURRENCY
) -> list[T | BackpackError]:
    """Call ``fn`` on every item in at most ``limit`` threads; results in the items' order."""
    _check(limit)

    def guarded(item: A) -> T | BackpackError:
        try:
            return fn(item)
        except BackpackError as exc:
            return exc

    if len(items) <= 1:
        return [guarded(item) for item in items]
    # Threads, because the sync client blocks; httpx2.Client is safe to share between them.
    with ThreadPoolExecutor(max_workers=min(limit, len(items))) as pool:
        return list(pool.map(guarded, items))


async def amap_bounded(
    fn: Callable[[A], Awaitable[T]], items: Sequence[A], limit: int = DEFAULT_CONCURRENCY
) -> list[T | BackpackError]:
    """Await ``fn`` on every item, at most ``limit`` at a time; results in the items' order."""
    _check(limit)
    results: list[T | BackpackError | None] = [None] * len(items)
    limiter = anyio.CapacityLimiter(limit)

    async def run(index: int, item: A) -> None:
        async with limiter:
            try:
                results[index] = await fn(item)
            except BackpackError as exc:
                results[index] = exc

    async with anyio.create_task_group() as group:
        for index, item in enumerate(items):
            group.start_soon(run, index, item)
    return [result for result in results]  # type: ignore[misc]
