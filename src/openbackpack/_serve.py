"""Running an ASGI app on a loopback port in a background thread (tests, benchmarks, demo)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

__all__ = ["base_url_of", "bind_socket", "serve_in_thread"]

_START_TIMEOUT = 10.0


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """Bind a listening TCP socket; port 0 lets the kernel pick a free port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this. Without it, a response written as headers then body
    # waits for the client's delayed ACK (Nagle): about 40 ms per request on loopback.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def base_url_of(sock: socket.socket) -> str:
    """Return ``http://host:port`` for a bound socket."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


@contextmanager
def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a daemon thread; yield its base URL; stop it on exit.

    The socket is bound before the server starts, so the URL is known and no other process
    can take the port in between (binding port 0 and reusing the number would race).
    """
    sock = bind_socket(host, port)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_started(server, thread)
        yield base_url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=_START_TIMEOUT)
        sock.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server thread stopped before it started serving")
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start within 10 seconds")
        time.sleep(0.01)
