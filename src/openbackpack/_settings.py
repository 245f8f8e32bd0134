"""Where openbackpack keeps its data, and how the secret key is found."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Final

import platformdirs
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from openbackpack._exceptions import ConfigurationError

__all__ = [
    "DB_ENV",
    "SECRET_KEY_ENV",
    "create_private_file",
    "data_dir",
    "default_database_url",
    "key_file_for",
    "make_private_dir",
    "parse_database_url",
]

DB_ENV: Final = "OPENBACKPACK_DB"
"""Environment variable naming the store URL."""

SECRET_KEY_ENV: Final = "OPENBACKPACK_SECRET_KEY"
"""Environment variable holding the Fernet key that seals the store's secrets."""

_SUPPORTED_DRIVERS: Final = ("sqlite", "postgresql+psycopg")


def data_dir() -> Path:
    """Return the per-user data directory (created lazily by whoever writes to it)."""
    return Path(platformdirs.user_data_dir("openbackpack", appauthor=False))


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) if missing, the directory itself mode 0700.

    A directory that already exists is left as its owner made it, except the default data
    directory, which is ours and holds the store and its key: it is tightened to 0700.
    """
    existed = path.is_dir()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not existed or path == data_dir():
        # A directory someone else owns keeps its mode: not ours to change.
        with contextlib.suppress(PermissionError):
            path.chmod(0o700)


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists; its directory as above."""
    make_private_dir(path.parent)
    try:
        # O_EXCL: an existing file (a store in use) is never truncated nor re-permissioned.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def default_database_url() -> str:
    """Return ``$OPENBACKPACK_DB``, or an SQLite file in the user's data directory."""
    configured = os.environ.get(DB_ENV, "").strip()
    if configured:
        return configured
    return f"sqlite:///{data_dir() / 'openbackpack.sqlite3'}"


def parse_database_url(url: str) -> URL:
    """Parse and check a store URL: ``sqlite:///PATH`` or ``postgresql+psycopg://...``.

    Raises:
        ConfigurationError: the URL cannot be parsed or names another database.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError(f"{_redact(url)!r} is not a database URL") from None
    if parsed.drivername not in _SUPPORTED_DRIVERS:
        raise ConfigurationError(
            f"unsupported database {parsed.drivername!r}: use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB"
        )
    return parsed


def key_file_for(url: URL) -> Path:
    """Return where the secret key file lives: beside an SQLite file, else in the data dir."""
    if url.drivername == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        return database.with_name(database.name + ".key")
    return data_dir() / "secret.key"


def _redact(url: str) -> str:
    # A URL may carry a password; never echo it in an error message.
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"
