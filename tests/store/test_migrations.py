"""The migrations create exactly the tables the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from openbackpack.store import Store
from openbackpack.store._schema import metadata


def test_migrated_schema_matches_the_declared_tables(store: Store) -> None:
    """Alembic finds no difference between the migrated database and the table definitions."""
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_upgrade_is_idempotent(store: Store) -> None:
    """Running the migrations on a current store changes nothing and succeeds."""
    store.upgrade()
    store.check_schema()
