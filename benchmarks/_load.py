"""A small HTTP/1.1 load generator: keep-alive connections on asyncio streams, nothing else.

An ``httpx2`` client spends about as much CPU on a request as the host's static route
does, so it could not keep the host busy on a 2-core machine. This one sends prepared
bytes and reads just the status line and ``Content-Length`` of each answer, which is all a
throughput measurement needs. Every run is bounded by a request count and a deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["LoadRequest", "LoadResult", "read_response", "run_load"]


@dataclass(frozen=True, slots=True)
class LoadRequest:
    """One request, sent again and again."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def encode(self, authority: str) -> bytes:
        """The request's bytes on the wire."""
        lines = [
            f"{self.method} {self.path} HTTP/1.1",
            f"Host: {authority}",
            f"Content-Length: {len(self.body)}",
            *(f"{name}: {value}" for name, value in self.headers.items()),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


@dataclass(frozen=True, slots=True)
class LoadResult:
    """How many answers came back in how long, by status."""

    requests: int
    seconds: float
    statuses: Mapping[int, int]

    @property
    def per_second(self) -> float:
        """Answers per second."""
        return self.requests / self.seconds if self.seconds > 0 else 0.0


class _Budget:
    """Hands out at most ``count`` requests, and none after ``deadline``."""

    def __init__(self, count: int, deadline: float) -> None:
        self.left = count
        self.deadline = deadline

    def take(self) -> bool:
        if self.left <= 0 or time.perf_counter() >= self.deadline:
            return False
        self.left -= 1
        return True


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one answer (headers and a ``Content-Length`` body); return its status.

    Raises:
        ValueError: a chunked answer (the host never sends one for these routes).
    """
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            raise ValueError("chunked answers are not supported")
    if length:
        await reader.readexactly(length)
    return status


async def _connection(
    host: str, port: int, payload: bytes, budget: _Budget, statuses: Counter[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while budget.take():
            writer.write(payload)
            statuses[await read_response(reader)] += 1
    finally:
        writer.close()
        await writer.wait_closed()


async def _load(
    base_url: str, request: LoadRequest, connections: int, count: int, seconds: float
) -> LoadResult:
    parts = urlsplit(base_url)
    assert parts.hostname is not None
    assert parts.port is not None
    payload = request.encode(parts.netloc)
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    budget = _Budget(count, started + seconds)
    await asyncio.gather(
        *(
            _connection(parts.hostname, parts.port, payload, budget, statuses)
            for _ in range(connections)
        )
    )
    elapsed = time.perf_counter() - started
    return LoadResult(sum(statuses.values()), elapsed, dict(statuses))


def run_load(
    base_url: str,
    request: LoadRequest,
    *,
    connections: int,
    max_requests: int,
    max_seconds: float,
) -> LoadResult:
    """Send ``request`` over ``connections`` keep-alive connections until either bound is hit.

    At most ``max_requests`` are sent, and none is started after ``max_seconds``.
    """
    if connections < 1 or max_requests < 1 or max_seconds <= 0:
        raise ValueError("connections, max_requests and max_seconds must be positive")
    return asyncio.run(_load(base_url, request, connections, max_requests, max_seconds))
