"""Connections that hold the server without finishing a request are closed in time.

Real sockets against a host with short limits: silent connections, half-sent headers, a slow
loris dripping header bytes, a body that stops halfway, and more connections than allowed.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from openbackpack.host import HostSettings, RunningHost, run_host_in_thread

TIMEOUT = 0.5


@pytest.fixture(scope="module")
def guarded_host(host_db_url: str, host: RunningHost) -> Iterator[RunningHost]:
    """A host whose header, body and keep-alive timeouts are half a second."""
    settings = HostSettings(
        db_url=host_db_url,
        migrate=False,
        header_timeout=TIMEOUT,
        body_timeout=TIMEOUT,
        keep_alive_timeout=TIMEOUT,
    )
    with run_host_in_thread(settings) as running:
        yield running


def _open(host: RunningHost) -> socket.socket:
    url = urlsplit(host.base_url)
    assert url.hostname is not None
    assert url.port is not None
    return socket.create_connection((url.hostname, url.port), timeout=5)


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes ``sock`` within ``seconds`` (answers are read and skipped)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if sock.recv(65536) == b"":
                return True
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
    return False


def _all_closed_within(socks: list[socket.socket], seconds: float) -> list[bool]:
    """Whether the server closes each of ``socks``, all within one deadline ``seconds`` away.

    One deadline for all rather than one per socket: on a loaded machine the host's loop may
    stall for a while, and the sockets checked first must not pay for that alone.
    """
    deadline = time.monotonic() + seconds
    return [_closed_within(sock, max(0.01, deadline - time.monotonic())) for sock in socks]


def _head(host: RunningHost) -> bytes:
    return f"GET /v2/issuers HTTP/1.1\r\nHost: {urlsplit(host.base_url).netloc}\r\n".encode()


def test_idle_half_sent_and_slow_loris_connections_are_closed(guarded_host: RunningHost) -> None:
    """50 silent, 50 half-sent (headers or body) and 20 slow-loris connections all get closed."""
    silent = [_open(guarded_host) for _ in range(50)]
    half_headers = [_open(guarded_host) for _ in range(25)]
    for sock in half_headers:
        sock.sendall(_head(guarded_host))
    half_body = [_open(guarded_host) for _ in range(25)]
    for sock in half_body:
        sock.sendall(
            b"POST /o/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"a": '
        )
    loris = [_open(guarded_host) for _ in range(20)]
    stop = threading.Event()

    def drip() -> None:
        # One header byte every 0.1 s: never silent for long, never finished.
        while not stop.is_set():
            for sock in loris:
                with contextlib.suppress(OSError):
                    sock.send(b"X")
            time.sleep(0.1)

    for sock in loris:
        sock.sendall(_head(guarded_host))
    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        everyone = silent + half_headers + half_body + loris
        # Generous: without the timers none of these would ever close, so the margin weakens
        # nothing (that they do not cut a connection early is proven by the tests below).
        closed = _all_closed_within(everyone, TIMEOUT * 30)
    finally:
        stop.set()
        dripper.join()
        for sock in silent + half_headers + half_body + loris:
            sock.close()
    assert closed == [True] * len(closed)


def test_kept_alive_connection_closes_after_the_keep_alive_timeout(
    guarded_host: RunningHost,
) -> None:
    """A connection idle after a complete answer is closed after the keep-alive timeout."""
    with _open(guarded_host) as sock:
        sock.sendall(_head(guarded_host) + b"\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 401")
        assert _closed_within(sock, TIMEOUT * 30)  # generous: without the timer, never


def test_a_slow_but_steady_body_is_not_cut_off(guarded_host: RunningHost) -> None:
    """A body arriving in pieces, each within the body timeout, is answered normally."""
    body = b'{"grant_type": "password", "username": "nobody@example.org", "password": "x"}'
    with _open(guarded_host) as sock:
        sock.sendall(
            b"POST /o/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        for start in range(0, len(body), 20):
            time.sleep(TIMEOUT / 3)
            sock.sendall(body[start : start + 20])
        assert sock.recv(65536).startswith(b"HTTP/1.1 400")


def test_pipelined_requests_are_all_answered_on_one_connection(guarded_host: RunningHost) -> None:
    """Three requests sent in one write each get an answer on that same connection."""
    with _open(guarded_host) as sock:
        sock.sendall((_head(guarded_host) + b"\r\n") * 3)
        received = b""
        deadline = time.monotonic() + 5
        while received.count(b"HTTP/1.1 401") < 3 and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        assert received.count(b"HTTP/1.1 401") == 3


def test_a_request_head_past_16_kib_is_refused_and_one_below_is_served(
    guarded_host: RunningHost,
) -> None:
    """Headers of 64 KiB get a 400 and a closed connection; 8 KiB of them are answered."""
    with _open(guarded_host) as sock:
        sock.sendall(_head(guarded_host) + b"X-Filler: " + b"a" * 8192 + b"\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 401")
    with _open(guarded_host) as sock:
        with contextlib.suppress(ConnectionError):
            sock.sendall(_head(guarded_host) + b"X-Filler: " + b"a" * 65536 + b"\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 400")
        assert _closed_within(sock, 2)


def test_connections_beyond_the_limit_get_503(host_db_url: str, host: RunningHost) -> None:
    """With limit_concurrency 3, a request on a fourth open connection is answered 503."""
    settings = HostSettings(db_url=host_db_url, migrate=False, limit_concurrency=3)
    with run_host_in_thread(settings) as limited:
        held = [_open(limited) for _ in range(3)]
        try:
            time.sleep(0.1)
            with _open(limited) as extra:
                extra.sendall(_head(limited) + b"\r\n")
                assert extra.recv(65536).startswith(b"HTTP/1.1 503")
        finally:
            for sock in held:
                sock.close()
