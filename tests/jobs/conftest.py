"""The jobs tests run their workers against one store: PostgreSQL when configured, else SQLite.

Several machines' workers share a PostgreSQL store, so that is the deployment tested when
``OPENBACKPACK_TEST_POSTGRES`` is set; otherwise an SQLite file with ``--local`` workers.
Each deployment costs worker processes, so it is not repeated on both.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_ENV, _postgres_schema_url


@pytest.fixture
def store_url(tmp_path: Path) -> Iterator[str]:
    """The deployment's store: a fresh PostgreSQL schema, or an SQLite file."""
    base = os.environ.get(POSTGRES_ENV)
    if base:
        yield from _postgres_schema_url(base)
    else:
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
