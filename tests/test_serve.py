"""Serving an ASGI app on loopback in a background thread."""

from __future__ import annotations

import socket

import httpx2
from fastapi import FastAPI

from openbackpack._serve import bind_socket, serve_in_thread


def test_serve_in_thread_answers_on_a_free_loopback_port_and_stops() -> None:
    """The app answers on 127.0.0.1 at a kernel-chosen port, and the port closes afterwards."""
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    with serve_in_thread(app) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        assert httpx2.get(f"{base_url}/ping").json() == {"pong": "yes"}
    try:
        httpx2.get(f"{base_url}/ping", timeout=1)
    except httpx2.TransportError:
        refused = True
    else:
        refused = False
    assert refused


def test_bound_socket_disables_nagle() -> None:
    """The listening socket has TCP_NODELAY, so answers are not held for a delayed ACK."""
    sock = bind_socket()
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        sock.close()
