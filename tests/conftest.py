"""Fixtures shared by the whole suite: stores on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from openbackpack.client import set_testing
from openbackpack.store import SecretBox, Store

POSTGRES_ENV = "OPENBACKPACK_TEST_POSTGRES"


def _backends() -> list[pytest.ParameterSet]:
    backends = [pytest.param("sqlite", id="sqlite")]
    if os.environ.get(POSTGRES_ENV):
        backends.append(pytest.param("postgresql", id="postgresql"))
    return backends


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the real user data directory and the caller's settings."""
    monkeypatch.delenv("OPENBACKPACK_DB", raising=False)
    monkeypatch.delenv("OPENBACKPACK_SECRET_KEY", raising=False)
    monkeypatch.delenv("OPENBACKPACK_ALLOWED_HOSTS", raising=False)
    monkeypatch.delenv("OPENBACKPACK_ALLOWED_PORTS", raising=False)
    monkeypatch.delenv("OPENBACKPACK_DOCUMENT_MAP", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def loopback_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let clients call loopback hosts on any port, as the test hosts announce themselves."""
    monkeypatch.setenv("OPENBACKPACK_ALLOWED_HOSTS", "127.0.0.0/8,::1,localhost")
    monkeypatch.setenv("OPENBACKPACK_ALLOWED_PORTS", "*")


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio only."""
    return "asyncio"


@pytest.fixture(autouse=True)
def _retry_testing_off() -> Iterator[None]:
    """Every test starts and ends with the clients' retry testing switch off."""
    set_testing(False)
    yield
    set_testing(False)


@pytest.fixture(params=_backends())
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: an SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
        return
    yield from _postgres_schema_url(os.environ[POSTGRES_ENV])


def _postgres_schema_url(base: str) -> Iterator[str]:
    # Each test gets its own schema, found through search_path, so tests never see each
    # other's rows and the schema can be dropped whole afterwards.
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def secret_key() -> str:
    """A fresh Fernet key."""
    return SecretBox.generate_key()


@pytest.fixture
def store(store_url: str, secret_key: str) -> Iterator[Store]:
    """A migrated, empty store."""
    with Store.open(store_url, secret_key=secret_key, migrate=True) as opened:
        yield opened
