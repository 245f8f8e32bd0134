"""Faults only a real socket shows: pooling, timeouts, a connection closed mid-answer, refusal."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from fastapi import FastAPI, Request

from openbackpack import RequestTimeoutError, TransportError
from openbackpack.client import AsyncBackpackClient, BackpackClient, RetryPolicy
from openbackpack.protocols import Endpoint, Shape
from openbackpack.serve import base_url_of, bind_socket, serve_in_thread

PEER = Endpoint("peer", "GET", "/peer", auth=False, shape=Shape.DOCUMENT)
NEVER = RetryPolicy.never()


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


@contextmanager
def raw_server(behaviour: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A loopback socket server whose connections get ``behaviour``; yields its base URL."""
    listener = bind_socket()
    listener.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                _read_request(conn)
                behaviour(conn, stop)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield base_url_of(listener)
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()


def _truncated(conn: socket.socket, _stop: threading.Event) -> None:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        b'{"status": {"succ'
    )


def _silent(_conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(1.0)


@pytest.fixture(scope="module")
def peer_server() -> Iterator[str]:
    """A real HTTP server that reports which client port each request came from."""
    app = FastAPI()

    @app.get("/peer")
    def peer(request: Request) -> dict[str, int]:
        assert request.client is not None
        return {"port": request.client.port}

    with serve_in_thread(app) as url:
        yield url


def test_sync_client_reuses_one_pooled_connection(peer_server: str) -> None:
    """Consecutive requests of one client travel on the same connection (Moodle opened one each)."""
    with BackpackClient() as client:
        ports = {client.fetch(PEER, peer_server).json()["port"] for _ in range(4)}
    assert len(ports) == 1


@pytest.mark.anyio
async def test_async_client_reuses_one_pooled_connection(peer_server: str) -> None:
    """The async client pools its connection too."""
    async with AsyncBackpackClient() as client:
        ports = {(await client.fetch(PEER, peer_server)).json()["port"] for _ in range(4)}
    assert len(ports) == 1


def test_connection_closed_mid_answer_is_a_transport_error() -> None:
    """An answer cut short (fewer bytes than Content-Length) raises TransportError, not a crash."""
    with (
        raw_server(_truncated) as url,
        BackpackClient(retry=NEVER) as client,
        pytest.raises(TransportError) as caught,
    ):
        client.fetch(PEER, url)
    assert not isinstance(caught.value, RequestTimeoutError)
    assert caught.value.__cause__ is not None


@pytest.mark.anyio
async def test_async_connection_closed_mid_answer_is_a_transport_error() -> None:
    """The async client reports a cut-short answer the same way."""
    with raw_server(_truncated) as url:
        async with AsyncBackpackClient(retry=NEVER) as client:
            with pytest.raises(TransportError):
                await client.fetch(PEER, url)


def test_read_timeout() -> None:
    """A server that never answers raises RequestTimeoutError after the read timeout."""
    with (
        raw_server(_silent) as url,
        BackpackClient(timeout=0.2, retry=NEVER) as client,
        pytest.raises(RequestTimeoutError, match="ReadTimeout"),
    ):
        client.fetch(PEER, url)


@pytest.mark.anyio
async def test_async_read_timeout() -> None:
    """The async client times out the same way."""
    with raw_server(_silent) as url:
        async with AsyncBackpackClient(timeout=0.2, retry=NEVER) as client:
            with pytest.raises(RequestTimeoutError):
                await client.fetch(PEER, url)


def test_connection_refused_is_retried_then_reported() -> None:
    """Nobody listening: each attempt is refused, then a TransportError names the request."""
    closed = bind_socket()
    url = base_url_of(closed)
    closed.close()
    policy = RetryPolicy(attempts=2, wait_scale=0)
    with (
        BackpackClient(retry=policy) as client,
        pytest.raises(TransportError, match="could not reach the backpack") as caught,
    ):
        client.fetch(PEER, url)
    assert caught.value.action == "peer"
