"""Fixtures of the host tests: one running host per database backend, shared by the tests.

Tests create their own users (unique e-mails), so sharing a host keeps the suite fast
without tests seeing each other's data.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
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
