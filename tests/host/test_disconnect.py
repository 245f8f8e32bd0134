"""A client that hangs up mid-body is not a server error: one debug line, no traceback."""

from __future__ import annotations

import logging
import socket
import time
from urllib.parse import urlsplit

import pytest

from openbackpack.host import RunningHost


def _hang_up_mid_body(host: RunningHost, path: str) -> None:
    url = urlsplit(host.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"name": "cut')


@pytest.mark.parametrize("path", ["/o/token", "/displayer/convert/email", "/o/register"])
def test_client_disconnect_mid_body_logs_debug_without_traceback(
    host: RunningHost, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    """Closing the socket halfway through a body logs one debug line and no error or traceback."""
    caplog.set_level(logging.DEBUG, logger="openbackpack.host")
    caplog.set_level(logging.DEBUG, logger="uvicorn.error")
    _hang_up_mid_body(host, path)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if any("disconnected" in r.getMessage() for r in caplog.records):
            break
        time.sleep(0.02)
    time.sleep(0.1)
    disconnects = [r for r in caplog.records if "disconnected during" in r.getMessage()]
    assert [r.levelno for r in disconnects] == [logging.DEBUG]
    assert all(r.exc_info is None for r in disconnects)
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert loud == [], [r.getMessage() for r in loud]
