"""Running an ASGI app under uvicorn on a socket bound here (port 0 = any free port).

Binding the socket ourselves, rather than passing uvicorn a port, is what lets a caller learn
the real port of ``--port 0`` before the first request, and keeps tests off fixed ports.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import uvicorn

from openbackpack._exceptions import ListenError

__all__ = ["base_url_of", "bind_socket", "serve_forever", "serve_in_thread"]

_MAX_PORT = 65535


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """Return a listening TCP socket on ``host``; port 0 picks a free port.

    Raises:
        ListenError: the port is out of range or taken, or the host is not an address of
            this machine or cannot be resolved (it is also an ``OSError``).
    """
    if not 0 <= port <= _MAX_PORT:
        raise ListenError(host, port, f"the port must be between 0 and {_MAX_PORT}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this. Without it, a response written as headers then
        # body waits for the client's delayed ACK (Nagle): about 40 ms per request on loopback.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except socket.gaierror as exc:
        sock.close()
        raise ListenError(host, port, f"unknown host ({exc.strerror})") from None
    except OSError as exc:
        sock.close()
        reason = "the port is already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise ListenError(host, port, reason or str(exc)) from None
    return sock


def base_url_of(sock: socket.socket) -> str:
    """Return ``http://HOST:PORT`` for a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _server(app: Any, log_level: str, options: Mapping[str, Any] | None) -> uvicorn.Server:
    # No websockets: the apps served here need none, and leaving them out keeps uvicorn from
    # importing optional libraries. Lifespan runs when an app defines one.
    config = uvicorn.Config(
        app, log_level=log_level, lifespan="auto", ws="none", **dict(options or {})
    )
    return uvicorn.Server(config)


def serve_forever(
    app: Any,
    sock: socket.socket,
    *,
    log_level: str = "info",
    options: Mapping[str, Any] | None = None,
) -> None:
    """Serve ``app`` on ``sock`` in this thread until interrupted (Ctrl-C, SIGTERM).

    ``options`` are more ``uvicorn.Config`` arguments (timeouts, limits).
    """
    _server(app, log_level, options).run(sockets=[sock])


@contextmanager
def serve_in_thread(
    app: Any,
    *,
    sock: socket.socket | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    timeout: float = 10.0,
    options: Mapping[str, Any] | None = None,
) -> Iterator[str]:
    """Serve ``app`` in a background thread; yield its base URL, stop it on exit.

    Pass ``sock`` (from :func:`bind_socket`) when the app must know its own URL before it
    is built; otherwise a socket is bound on ``host``/``port``. The socket is closed on exit.
    ``options`` are more ``uvicorn.Config`` arguments (timeouts, limits).
    Meant for tests and tools that need a real loopback server::

        sock = bind_socket()
        app = create_issuer_app(store, base_url_of(sock))
        with serve_in_thread(app, sock=sock) as url:
            httpx2.get(url + "/ob/issuers/1")
    """
    sock = sock if sock is not None else bind_socket(host, port)
    server = _server(app, "warning", options)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="openbackpack-serve", daemon=True
    )
    thread.start()
    try:
        _wait_until_started(server, thread, timeout)
        yield base_url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server thread stopped before it started serving")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start within {timeout} seconds")
        time.sleep(0.01)
