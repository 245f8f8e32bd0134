"""serve_in_thread: a real loopback server on a free port, stopped on exit."""

from __future__ import annotations

import socket

import httpx2
import pytest
from fastapi import FastAPI

from openbackpack.serve import base_url_of, bind_socket, serve_in_thread


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    return app


def test_serves_on_a_free_loopback_port_and_stops() -> None:
    """The yielded URL answers while the block runs, and the port is closed afterwards."""
    with serve_in_thread(_app()) as url:
        assert url.startswith("http://127.0.0.1:")
        assert not url.endswith(":0")
        assert httpx2.get(url + "/ping", timeout=10).json() == {"pong": "yes"}
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(url + "/ping", timeout=2)


def test_a_socket_bound_first_gives_the_url_before_the_app_exists() -> None:
    """bind_socket + base_url_of tell the URL up front, and serve_in_thread uses that socket."""
    sock = bind_socket()
    expected = base_url_of(sock)
    with serve_in_thread(_app(), sock=sock) as url:
        assert url == expected
        assert httpx2.get(url + "/ping", timeout=10).status_code == 200


def test_bound_socket_disables_nagle() -> None:
    """The listening socket has TCP_NODELAY, so answers are not held for a delayed ACK."""
    sock = bind_socket()
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        sock.close()
