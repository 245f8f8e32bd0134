"""Closing connections that hold a worker without finishing a request.

uvicorn has a keep-alive timeout (idle *after* an answer) and a concurrency limit, but
nothing bounds a connection that never sends a request, sends its headers a byte at a time
(slow loris), or stops halfway through a body. This protocol adds two timers:

* a **header timeout**, from the moment a request may begin (the connection opens, or the
  previous answer is complete) until its request line and headers have all arrived;
* a **body timeout**: the longest silence allowed while a body is being received.

Either expiring closes the connection; a handler waiting on the body then sees a client
disconnect (logged at debug level, see ``_app``). A request line and headers longer than
:data:`MAX_HEAD_BYTES` are answered 400 and the connection closed, as uvicorn's h11
protocol did (h11 buffers at most 16 KiB of an incomplete head; llhttp has no such bound).

The protocol is uvicorn's httptools one (llhttp, a C parser) rather than its pure-Python
h11 one: parsing and writing the HTTP/1.1 framing was a large share of the host's CPU per
request, and the host runs on uvloop where it is installed (``loop="auto"``).
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from openbackpack.host._settings import HostSettings

__all__ = ["MAX_HEAD_BYTES", "guarded_protocol", "uvicorn_options"]

MAX_HEAD_BYTES: Final = 16 * 1024
"""The most bytes of request line and headers one request may send (h11's default bound)."""


class _HeadTooLargeError(Exception):
    """Raised from a parser callback: the parser stops and uvicorn answers 400, closing."""


class _GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header timeout and a body-silence timeout."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._guard: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        super().connection_made(transport)
        self._arm(self.header_timeout)

    def on_message_begin(self) -> None:
        self._head_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            raise _HeadTooLargeError

    # The parser's callbacks: headers done (a body may follow), a piece of body, all of it.
    # Until the headers are complete the header timer keeps running, however the bytes come.
    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.body_timeout)

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm(self.body_timeout)  # every chunk of body restarts the silence timer

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def on_response_complete(self) -> None:
        # A request already queued behind this one (pipelined) has sent its headers.
        pipelined = bool(self.pipeline)
        super().on_response_complete()
        if not pipelined and not self.transport.is_closing():
            # A kept-alive connection must send its next headers in time too (uvicorn's
            # keep-alive timer stops at the first byte, which a slow loris sends).
            self._arm(self.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, delay: float) -> None:
        self._disarm()
        self._guard = self.loop.call_later(delay, self._expire)

    def _disarm(self) -> None:
        if self._guard is not None:
            self._guard.cancel()
            self._guard = None

    def _expire(self) -> None:
        self._guard = None
        if not self.transport.is_closing():
            self.transport.close()


def guarded_protocol(header_timeout: float, body_timeout: float) -> type[HttpToolsProtocol]:
    """An HTTP protocol class for uvicorn closing connections past these timeouts (seconds)."""
    return type(
        "GuardedHttpToolsProtocol",
        (_GuardedHttpToolsProtocol,),
        {"header_timeout": header_timeout, "body_timeout": body_timeout},
    )


def uvicorn_options(settings: HostSettings) -> dict[str, Any]:
    """The ``uvicorn.Config`` options enforcing a host's connection limits."""
    return {
        "http": guarded_protocol(settings.header_timeout, settings.body_timeout),
        "timeout_keep_alive": settings.keep_alive_timeout,
        "limit_concurrency": settings.limit_concurrency or None,
    }
