"""Creating a database engine for the store and the reference host alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DatabaseError

from openbackpack._exceptions import ConfigurationError
from openbackpack._settings import create_private_file

__all__ = ["connect_engine", "schema_revision"]


def connect_engine(
    url: URL, *, pool_size: int | None = None, busy_timeout_ms: int = 5000, wal: bool = False
) -> Engine:
    """Create an engine for ``url``, check that it connects, and set SQLite's pragmas.

    Raises:
        ConfigurationError: the database cannot be created, reached or read (a file that is
            not SQLite, a directory that cannot be written); the message hides any password.
    """
    shown = url.render_as_string(hide_password=True)
    if url.drivername == "sqlite" and url.database and url.database != ":memory:":
        # SQLite would create the file 0644 (the umask's default); it holds sealed secrets
        # and everything else, so it is made 0600 first. Its journals inherit the mode.
        try:
            create_private_file(Path(url.database))
        except OSError as exc:
            raise ConfigurationError(
                f"cannot create the database file {url.database}: {exc.strerror or exc}"
            ) from None
    options: dict[str, Any] = {} if pool_size is None else {"pool_size": pool_size}
    engine = create_engine(url, **options)
    if url.drivername == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_ms, wal))
    try:
        with engine.connect() as connection:
            if url.drivername == "sqlite":
                # Reading the schema is what tells a file that is not SQLite from an empty one.
                connection.exec_driver_sql("SELECT count(*) FROM sqlite_master")
    except DatabaseError as exc:
        engine.dispose()
        raise ConfigurationError(f"cannot use the database {shown}: {exc.orig}") from None
    return engine


def _sqlite_pragmas(busy_timeout_ms: int, wal: bool) -> Any:
    def apply(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        # Cascades are declared on every foreign key; SQLite only honours them when asked.
        cursor.execute("PRAGMA foreign_keys=ON")
        # Concurrent writers wait for the lock instead of failing at once.
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if wal:
            # WAL lets readers run beside a writer; NORMAL sync is durable across process
            # crashes and keeps a commit from waiting on an fsync.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return apply


def schema_revision(connection: Connection, version_table: str) -> str | None:
    """The Alembic revision a database is at (``None`` before its first migration).

    Read straight from the version table: loading Alembic and its migration scripts to ask
    the same question cost about a quarter of a second on every open, in every process.
    The migrations are one linear chain, so the table holds at most one row.
    """
    if not inspect(connection).has_table(version_table):
        return None
    quoted = connection.dialect.identifier_preparer.quote(version_table)
    revision = connection.scalar(text(f"SELECT version_num FROM {quoted}"))  # noqa: S608
    return str(revision) if revision is not None else None
