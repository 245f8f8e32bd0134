"""A TCP proxy that delays each direction of every connection, to stand in for a real network.

Every chunk of bytes is held for half the chosen round trip before it is passed on, in both
directions, so opening a connection costs a round trip, and so does each request/response
exchange, as across the internet. Chunks keep their order; the delay is per chunk, not per
byte, so bandwidth is not limited.

The proxy works on asyncio's transports and protocols, with one timer per direction rather
than a task, a queue and a sleep per chunk, and on uvloop where it is installed: a network
costs the machine's cores nothing, so the proxy standing in for one should cost as little as
it can, or it takes CPU from the processes a benchmark measures.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import cast
from urllib.parse import urlsplit, urlunsplit

__all__ = ["LatencyProxy", "latency_proxy"]


class _Direction:
    """The bytes one end of a connection sends, each chunk held until its due time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, one_way: float) -> None:
        self.loop = loop
        self.one_way = one_way
        self.pending: deque[tuple[float, bytes | None]] = deque()  # None: the end is gone
        self.out: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None

    def push(self, chunk: bytes | None) -> None:
        """Hold ``chunk`` (or ``None``: this end closed or went away) for the one-way delay."""
        self.pending.append((self.loop.time() + self.one_way, chunk))
        self._schedule()

    def connect(self, out: asyncio.Transport) -> None:
        """Start delivering to ``out``; what arrived before leaves one way from now."""
        due = self.loop.time() + self.one_way
        self.pending = deque((due, chunk) for _, chunk in self.pending)
        self.out = out
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is None and self.pending and self.out is not None:
            self._timer = self.loop.call_at(self.pending[0][0], self._deliver)

    def _deliver(self) -> None:
        self._timer = None
        out = self.out
        assert out is not None
        now = self.loop.time()
        while self.pending and self.pending[0][0] <= now:
            _, chunk = self.pending.popleft()
            if chunk is None:
                out.close()
            elif not out.is_closing():
                out.write(chunk)
        self._schedule()


class _End(asyncio.Protocol):
    """One end of a proxied connection: the client's, or the target host's."""

    def __init__(self, direction: _Direction, on_lost: Callable[[_End], None]) -> None:
        self.outgoing = direction
        self.other: _End | None = None
        self.transport: asyncio.Transport | None = None
        self._on_lost = on_lost

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCP transports are not asyncio.Transport subclasses, but have its methods.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.outgoing.push(data)

    def eof_received(self) -> bool:
        # An end that is done sending is done: HTTP clients and servers close, not half-close.
        # Its close reaches the other end one way later, whose close then comes back here.
        self.outgoing.push(None)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.outgoing.push(None)
        self._on_lost(self)

    # The other end's transport buffers what this end cannot take yet: stop reading there.
    def pause_writing(self) -> None:
        if self.other is not None and self.other.transport is not None:
            self.other.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.other is not None and self.other.transport is not None:
            self.other.transport.resume_reading()


class LatencyProxy:
    """Forwards ``127.0.0.1:<port>`` to a target host and port with a one-way delay."""

    def __init__(self, target_host: str, target_port: int, round_trip: float) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.one_way = round_trip / 2
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._ends: set[_End] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen on a free loopback port."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._client_end, "127.0.0.1", 0, backlog=2048)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close the connections still open."""
        if self._server is not None:
            self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for end in list(self._ends):
            if end.transport is not None:
                end.transport.close()
        if self._server is not None:
            await self._server.wait_closed()

    def _client_end(self) -> _End:
        loop = asyncio.get_running_loop()
        client = _End(_Direction(loop, self.one_way), self._ends.discard)
        self._ends.add(client)
        self.connections += 1
        task = loop.create_task(self._connect(client))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return client

    async def _connect(self, client: _End) -> None:
        loop = asyncio.get_running_loop()
        # The TCP handshake itself: the client's SYN reaches the server half a round trip
        # later, and the SYN-ACK comes back after the other half.
        await asyncio.sleep(self.one_way)
        target = _End(_Direction(loop, self.one_way), self._ends.discard)
        try:
            await loop.create_connection(lambda: target, self.target_host, self.target_port)
        except OSError:
            if client.transport is not None:
                client.transport.close()
            return
        self._ends.add(target)
        await asyncio.sleep(self.one_way)
        assert client.transport is not None
        assert target.transport is not None
        client.other, target.other = target, client
        target.outgoing.connect(client.transport)
        client.outgoing.connect(target.transport)


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop  # optional: the proxy runs on asyncio's own loop too
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


@contextlib.contextmanager
def latency_proxy(target_url: str, round_trip: float) -> Iterator[str]:
    """Run a proxy in a background thread; yield ``target_url`` rewritten to go through it."""
    parts = urlsplit(target_url)
    if parts.hostname is None or parts.port is None:
        raise ValueError(f"{target_url!r} needs an explicit host and port")
    proxy = LatencyProxy(parts.hostname, parts.port, round_trip)
    loop = _new_loop()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(proxy.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield urlunsplit(parts._replace(netloc=f"127.0.0.1:{proxy.port}"))
    finally:
        asyncio.run_coroutine_threadsafe(proxy.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
