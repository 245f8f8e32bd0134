"""Fixtures of the host tests: one running host per database backend, shared by the tests.

Tests create their own users (unique e-mails), so sharing a host keeps the suite fast
without tests seeing each other's data.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import pytest
from fastapi import FastAPI
from starlette.responses import Response

from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.serve import serve_in_thread
from tests.conftest import POSTGRES_ENV, _backends, _postgres_schema_url
from tests.host._helpers import Account, create_badgeclass, create_issuer, new_account


@pytest.fixture(scope="session", params=_backends())
def host_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database URL for a host: an SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('host') / 'host.sqlite3'}"
        return
    yield from _postgres_schema_url(os.environ[POSTGRES_ENV])


@pytest.fixture(scope="session")
def host(host_db_url: str) -> Iterator[RunningHost]:
    """A running host that may fetch loopback URLs and does not throttle logins."""
    settings = HostSettings(db_url=host_db_url, allow_private_fetch=True, login_backoff_max=0)
    with run_host_in_thread(settings) as running:
        yield running


@pytest.fixture(scope="session")
def http() -> Iterator[httpx2.Client]:
    """A plain HTTP client."""
    with httpx2.Client(timeout=10) as client:
        yield client


@pytest.fixture
def account(http: httpx2.Client, host: RunningHost) -> Account:
    """A fresh, verified, logged-in user."""
    return new_account(http, host)


@pytest.fixture
def issuer(http: httpx2.Client, host: RunningHost, account: Account) -> Any:
    """An issuer of ``account``."""
    return create_issuer(http, host, account)


@pytest.fixture
def badgeclass(http: httpx2.Client, host: RunningHost, account: Account, issuer: Any) -> Any:
    """A badge class of ``issuer``."""
    return create_badgeclass(http, host, account, issuer)


@contextlib.contextmanager
def second_host(host_db_url: str, **settings: Any) -> Iterator[RunningHost]:
    """Another host on the shared (already migrated) database, with other settings."""
    configured = HostSettings(
        db_url=host_db_url, allow_private_fetch=True, migrate=False, **settings
    )
    with run_host_in_thread(configured) as running:
        yield running


class Documents:
    """A tiny web server's contents: path -> (status, body, media type, delay seconds)."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, bytes, str, float]] = {}
        self.hits: Counter[str] = Counter()
        self.base_url = ""

    def put(
        self,
        path: str,
        body: Any,
        *,
        status: int = 200,
        media_type: str = "application/json",
        delay: float = 0.0,
    ) -> str:
        """Serve ``body`` (JSON-encoded unless bytes) at ``path``; return its URL."""
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.pages[path] = (status, content, media_type, delay)
        return self.base_url + path


@pytest.fixture(scope="session")
def documents() -> Iterator[Documents]:
    """A loopback web server serving whatever a test puts in it (an outside issuer)."""
    pages = Documents()
    app = FastAPI()

    @app.get("/{path:path}")
    async def page(path: str) -> Response:
        pages.hits["/" + path] += 1
        status, content, media_type, delay = pages.pages.get(
            "/" + path, (404, b"{}", "application/json", 0.0)
        )
        if delay:
            await anyio.sleep(delay)
        headers = {"Location": content.decode()} if status in (301, 302) else None
        return Response(content, status_code=status, media_type=media_type, headers=headers)

    with serve_in_thread(app) as base_url:
        pages.base_url = base_url
        yield pages
