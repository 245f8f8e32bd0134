"""The HTTP layer: ``BackpackClient`` and ``AsyncBackpackClient`` on ``httpx2``.

Both have the same verbs (``send``, ``fetch``, ``perform``, ``iter_pages``, ``iter_items``,
``password_grant``, ``refresh_grant``) over one pure core that builds requests from the
protocol tables and turns answers into typed results or typed errors. Each client keeps one
pool of connections and, when given a :class:`RateLimiter`, paces its requests.
"""

from openbackpack.client._addresses import AddressPolicy
from openbackpack.client._async import AsyncBackpackClient
from openbackpack.client._concurrency import DEFAULT_CONCURRENCY, amap_bounded, map_bounded
from openbackpack.client._core import (
    DEFAULT_MAX_ANSWER_BYTES,
    DEFAULT_PAGE_SIZE,
    DEFAULT_TIMEOUT,
    Answer,
    Outgoing,
)
from openbackpack.client._pacing import Pacing, RateLimiter
from openbackpack.client._retry import RetryPolicy, is_testing, set_testing
from openbackpack.client._sync import BackpackClient

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_ANSWER_BYTES",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_TIMEOUT",
    "AddressPolicy",
    "Answer",
    "AsyncBackpackClient",
    "BackpackClient",
    "Outgoing",
    "Pacing",
    "RateLimiter",
    "RetryPolicy",
    "amap_bounded",
    "is_testing",
    "map_bounded",
    "set_testing",
]
