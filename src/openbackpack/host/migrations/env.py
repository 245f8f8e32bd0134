"""Alembic environment of the host: its own tables and its own version table."""

from typing import Any

from alembic import context

from openbackpack.host._schema import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable through the alembic command line
    raise RuntimeError("run host migrations through openbackpack.host")


def _only_host_tables(obj: Any, name: str | None, type_: str, reflected: bool, _: Any) -> bool:
    # A host may share its database with a store; never look at (or drop) the store's tables.
    if type_ == "table":
        return bool(name and name.startswith("host_"))
    return True


context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    include_object=_only_host_tables,
    # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
