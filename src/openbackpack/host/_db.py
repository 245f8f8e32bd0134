"""Opening the host's database and migrating it with the host's own Alembic scripts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Connection, Engine, Insert

from openbackpack._database import connect_engine, schema_revision
from openbackpack._exceptions import SchemaVersionError
from openbackpack._settings import parse_database_url
from openbackpack.host._schema import VERSION_TABLE

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["HostDatabase", "insert_id"]

_MIGRATIONS: Final = Path(__file__).parent / "migrations"
SCHEMA_HEAD: Final = "0003"
"""The newest host migration; a test checks it against the migration scripts' head."""
# Request handlers run in anyio's worker threads (40 by default), each holding at most one
# connection at a time. A pool that keeps that many open saves reconnecting (and, on SQLite,
# re-running the pragmas) under load: SQLAlchemy's default keeps 5 and closes the rest.
_POOL_SIZE: Final = 40


class HostDatabase:
    """The host's tables in an SQLite file or a PostgreSQL database.

    The tables are prefixed ``host_`` and versioned in ``host_alembic_version``, so the same
    database may also hold an openbackpack store.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> HostDatabase:
        """Connect to ``url``; create and upgrade the host tables when ``migrate`` is true.

        Raises:
            ConfigurationError: the URL is unusable or the database does not answer.
            SchemaVersionError: ``migrate`` is false and the tables are not current.
        """
        database = cls(
            connect_engine(
                parse_database_url(url), pool_size=_POOL_SIZE, busy_timeout_ms=10000, wal=True
            )
        )
        try:
            database._ensure_current(migrate=migrate)
        except BaseException:
            database.close()
            raise
        return database

    @classmethod
    def from_engine(cls, engine: Engine, *, migrate: bool = True) -> HostDatabase:
        """Use an existing engine (e.g. a store's); upgrade the host tables when asked."""
        database = cls(engine)
        database._ensure_current(migrate=migrate)
        return database

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self.engine.begin() as connection:
            yield connection

    def revision(self) -> str | None:
        """The revision the host tables are at (``None`` before the first migration)."""
        with self.engine.connect() as connection:
            return schema_revision(connection, VERSION_TABLE)

    def upgrade(self) -> None:
        """Apply every pending host migration."""
        # Alembic is loaded only when a migration may run, not on every open.
        from alembic import command

        with self.engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "head")

    def check_schema(self) -> None:
        """Raise :class:`SchemaVersionError` unless the host tables are at the newest revision."""
        self._require_head(self.revision())

    def _ensure_current(self, *, migrate: bool) -> None:
        # The version table is read once; again only after a migration ran.
        current = self.revision()
        if migrate and current != SCHEMA_HEAD:
            self.upgrade()
            current = self.revision()
        self._require_head(current)

    @staticmethod
    def _require_head(current: str | None) -> None:
        if current != SCHEMA_HEAD:
            raise SchemaVersionError(
                f"the host tables are at revision {current or 'none'}, "
                f"this release needs {SCHEMA_HEAD}"
            )

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()


def _alembic_config(connection: Connection | None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def insert_id(
    connection: Connection, statement: Insert, values: Mapping[str, Any] | None = None
) -> int:
    """Run an INSERT of one row (with ``values`` as its parameters) and return its id."""
    key = connection.execute(statement, values).inserted_primary_key
    assert key is not None
    return int(key[0])
