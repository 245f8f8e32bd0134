"""Bounded concurrent maps: order kept, failures kept, limit respected."""

from __future__ import annotations

import threading
import time

import anyio
import pytest

from openbackpack import NotFoundError
from openbackpack.client import amap_bounded, map_bounded


def test_map_bounded_keeps_order_and_failures() -> None:
    """Results come back in the items' order; a BackpackError takes its slot, the rest survive."""

    def work(n: int) -> int:
        time.sleep(0.001 * (5 - n))
        if n == 2:
            raise NotFoundError("missing", status_code=404)
        return n * 10

    results = map_bounded(work, [0, 1, 2, 3, 4], limit=3)
    assert results[:2] == [0, 10]
    assert isinstance(results[2], NotFoundError)
    assert results[3:] == [30, 40]


def test_map_bounded_respects_the_limit() -> None:
    """No more than 'limit' calls run at once, and more than one does."""
    running = peak = 0
    lock = threading.Lock()

    def work(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        return n

    assert map_bounded(work, list(range(12)), limit=3) == list(range(12))
    assert 1 < peak <= 3


def test_other_exceptions_propagate() -> None:
    """A bug (not a BackpackError) is not swallowed."""

    def work(n: int) -> int:
        raise KeyError(n)

    with pytest.raises(KeyError):
        map_bounded(work, [1, 2])


@pytest.mark.anyio
async def test_amap_bounded_keeps_order_failures_and_limit() -> None:
    """The async map keeps order and failures and never exceeds its limit."""
    running = peak = 0

    async def work(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(0.001 * (10 - n))
        running -= 1
        if n == 3:
            raise NotFoundError("missing", status_code=404)
        return n

    results = await amap_bounded(work, list(range(10)), limit=4)
    assert [r for r in results if not isinstance(r, NotFoundError)] == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    assert isinstance(results[3], NotFoundError)
    assert 1 < peak <= 4


def test_limit_must_be_positive() -> None:
    """A limit below 1 is a caller mistake."""
    with pytest.raises(ValueError, match="at least 1"):
        map_bounded(str, [1], limit=0)
