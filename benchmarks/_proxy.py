"""A TCP proxy that delays each direction of every connection, to stand in for a real network.

Every chunk of bytes is held for half the chosen round trip before it is passed on, in both
directions, so opening a connection costs a round trip, and so does each request/response
exchange, as across the internet. Chunks keep their order; the delay is per chunk, not per
byte, so bandwidth is not limited.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

__all__ = ["LatencyProxy", "latency_proxy"]

_CHUNK = 65536


class LatencyProxy:
    """Forwards ``127.0.0.1:<port>`` to a target host and port with a one-way delay."""

    def __init__(self, target_host: str, target_port: int, round_trip: float) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.one_way = round_trip / 2
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=2048)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close the listening socket."""
        if self._server is not None:
            self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._forward(client_r, client_w)
        except asyncio.CancelledError:
            # stop() cancels the connections still open; that ends them, it is no error.
            pass
        finally:
            self._tasks.discard(task)
            client_w.close()

    async def _forward(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        # The TCP handshake itself: the client's SYN reaches the server half a round trip
        # later, and the SYN-ACK comes back after the other half.
        await asyncio.sleep(self.one_way)
        try:
            server_r, server_w = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            return
        try:
            await asyncio.sleep(self.one_way)
            await asyncio.gather(
                self._pipe(client_r, server_w),
                self._pipe(server_r, client_w),
                return_exceptions=True,
            )
        finally:
            server_w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                if not chunk:
                    break
                await asyncio.sleep(max(0.0, due - loop.time()))
                writer.write(chunk)
                await writer.drain()
            with contextlib.suppress(OSError):
                writer.write_eof()

        sender = asyncio.create_task(deliver())
        try:
            while chunk := await reader.read(_CHUNK):
                queue.put_nowait((loop.time() + self.one_way, chunk))
            queue.put_nowait((loop.time() + self.one_way, b""))
            with contextlib.suppress(OSError):
                await sender
        except OSError:
            pass
        finally:
            sender.cancel()
            writer.close()


@contextlib.contextmanager
def latency_proxy(target_url: str, round_trip: float) -> Iterator[str]:
    """Run a proxy in a background thread; yield ``target_url`` rewritten to go through it."""
    parts = urlsplit(target_url)
    if parts.hostname is None or parts.port is None:
        raise ValueError(f"{target_url!r} needs an explicit host and port")
    proxy = LatencyProxy(parts.hostname, parts.port, round_trip)
    loop = asyncio.new_event_loop()
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
