"""Helpers for store tests."""

from __future__ import annotations

from typing import Any

from openbackpack.store import Store
from openbackpack.store._schema import metadata


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for asserting that a failed call changed nothing."""
    with store.engine.connect() as conn:
        return {
            table.name: sorted(
                (tuple(row) for row in conn.execute(table.select())),
                key=repr,
            )
            for table in metadata.sorted_tables
        }
