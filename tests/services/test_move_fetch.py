"""``client_fetch``: documents for verification through a client, one request per URL in flight."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from openbackpack._exceptions import DocumentUnavailableError
from openbackpack.client import BackpackClient
from openbackpack.serve import base_url_of, bind_socket, serve_in_thread
from openbackpack.services.move import client_fetch

pytestmark = pytest.mark.usefixtures("loopback_allowed")


@pytest.fixture
def served() -> Iterator[tuple[str, list[str]]]:
    """A slow document server that records every request's path."""
    hits: list[str] = []
    lock = threading.Lock()
    app = FastAPI()

    @app.get("/doc")
    def doc() -> JSONResponse:
        with lock:
            hits.append("/doc")
        time.sleep(0.3)
        return JSONResponse({"id": "doc"})

    @app.get("/gone")
    def gone() -> JSONResponse:
        return JSONResponse({"revoked": True}, status_code=410)

    sock = bind_socket()
    with serve_in_thread(app, sock=sock):
        yield base_url_of(sock), hits


def test_concurrent_fetches_of_one_url_share_one_request(served: tuple[str, list[str]]) -> None:
    """Eight threads asking at once send one request; a later call sends another."""
    base, hits = served
    with BackpackClient() as client:
        fetch = client_fetch(client)
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda _: fetch(base + "/doc"), range(8)))
        assert answers == [{"id": "doc"}] * 8
        assert hits == ["/doc"]
        fetch(base + "/doc")
        assert hits == ["/doc", "/doc"]


def test_a_410_is_read_and_other_failures_are_unavailable(served: tuple[str, list[str]]) -> None:
    """A revoked assertion's 410 body is returned; a 404 or a non-http URL is unavailable."""
    base, _ = served
    with BackpackClient() as client:
        fetch = client_fetch(client)
        assert fetch(base + "/gone") == {"revoked": True}
        with pytest.raises(DocumentUnavailableError, match="404"):
            fetch(base + "/missing")
        with pytest.raises(DocumentUnavailableError, match="not an http"):
            fetch("ftp://example.org/x")
