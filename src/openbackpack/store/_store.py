"""Opening a store, migrating it, and running work in one transaction."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.engine import URL

from openbackpack._database import connect_engine, schema_revision
from openbackpack._exceptions import ConfigurationError, SchemaVersionError, SecretKeyError
from openbackpack._settings import (
    SECRET_KEY_ENV,
    default_database_url,
    key_file_for,
    parse_database_url,
)
from openbackpack.store import _keys, _registry, _repos, _schema
from openbackpack.store._claims import PushClaims
from openbackpack.store._crypto import SecretBox, load_or_create_key_file
from openbackpack.store._jobs import Jobs

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["Store", "Transaction"]

_MIGRATIONS: Final = Path(__file__).parent / "migrations"
SCHEMA_HEAD: Final = "0015"
"""The newest store migration; a test checks it against the migration scripts' head."""
_CANARY_KEY: Final = "secret_key_check"
_CANARY_TEXT: Final = "openbackpack"


class Transaction:
    """One database transaction, with a repository per table.

    Obtained from :meth:`Store.transaction`; everything done through it commits together when
    the ``with`` block ends, or is rolled back if the block raises.
    """

    def __init__(self, connection: Connection, box: SecretBox) -> None:
        self.connection = connection
        self._box = box

    @cached_property
    def providers(self) -> _repos.Providers:
        """Site backpacks."""
        return _repos.Providers(self.connection, self._box)

    @cached_property
    def accounts(self) -> _repos.Accounts:
        """Backpack accounts of users and of the site."""
        return _repos.Accounts(self.connection, self._box)

    @cached_property
    def collections(self) -> _repos.Collections:
        """Selected collections."""
        return _repos.Collections(self.connection, self._box)

    @cached_property
    def identifiers(self) -> _repos.Identifiers:
        """Remote ids of our issuers, badge classes and awards."""
        return _repos.Identifiers(self.connection, self._box)

    @cached_property
    def push_claims(self) -> PushClaims:
        """Claims on creates at hosts, and what was last pushed (see ``_claims``)."""
        return PushClaims(self.connection)

    @cached_property
    def jobs(self) -> Jobs:
        """Background jobs and their items (see ``_jobs``)."""
        return Jobs(self.connection)

    @cached_property
    def oauth_clients(self) -> _repos.OAuthClients:
        """Registered OAuth 2 clients."""
        return _repos.OAuthClients(self.connection, self._box)

    @cached_property
    def oauth_tokens(self) -> _repos.OAuthTokens:
        """OAuth 2 tokens per account."""
        return _repos.OAuthTokens(self.connection, self._box)

    @cached_property
    def oauth_states(self) -> _repos.OAuthStates:
        """Pending Badge Connect authorizations, by state."""
        return _repos.OAuthStates(self.connection, self._box)

    @cached_property
    def manifests(self) -> _repos.Manifests:
        """Badge Connect manifests read by discovery."""
        return _repos.Manifests(self.connection, self._box)

    @cached_property
    def token_cache(self) -> _repos.TokenCache:
        """Badgr password-grant tokens per account."""
        return _repos.TokenCache(self.connection, self._box)

    @cached_property
    def verifications(self) -> _repos.Verifications:
        """Pending email verifications."""
        return _repos.Verifications(self.connection, self._box)

    @cached_property
    def badge_cache(self) -> _repos.BadgeCache:
        """Cached external badges per account."""
        return _repos.BadgeCache(self.connection, self._box)

    @cached_property
    def settings(self) -> _repos.Settings:
        """Site-wide settings."""
        return _repos.Settings(self.connection, self._box)

    @cached_property
    def issuers(self) -> _registry.Issuers:
        """Issuers of the local badge registry."""
        return _registry.Issuers(self.connection, self._box)

    @cached_property
    def badge_classes(self) -> _registry.BadgeClasses:
        """Badge classes of the registry, their relations and endorsements."""
        return _registry.BadgeClasses(self.connection, self._box)

    @cached_property
    def awards(self) -> _registry.Awards:
        """Awards of the registry's badge classes, and their revocation."""
        return _registry.Awards(self.connection, self._box)

    @cached_property
    def issuer_keys(self) -> _keys.IssuerKeys:
        """Issuers' signing keys for Open Badges 3.0 credentials, active and retired."""
        return _keys.IssuerKeys(self.connection, self._box)

    @cached_property
    def status_entries(self) -> _keys.StatusEntries:
        """Each award's index in its issuer's status list."""
        return _keys.StatusEntries(self.connection, self._box)


class Store:
    """The persistent state of openbackpack: an SQLite file by default, or PostgreSQL.

    Open one with :meth:`open`; work with it through :meth:`transaction`::

        store = Store.open("sqlite:///backpacks.sqlite3")
        with store.transaction() as tx:
            provider = tx.providers.create("https://api.badgr.io/v2", "https://badgr.io", "2")
    """

    def __init__(self, engine: Engine, box: SecretBox) -> None:
        self.engine = engine
        self._box = box

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        secret_key: str | None = None,
        migrate: bool | None = None,
    ) -> Store:
        """Open (and for a new SQLite file, create and migrate) the store at ``url``.

        Args:
            url: ``sqlite:///PATH`` or ``postgresql+psycopg://...``; defaults to
                ``$OPENBACKPACK_DB`` or a file in the user's data directory.
            secret_key: the Fernet key; defaults to ``$OPENBACKPACK_SECRET_KEY``, else a key
                file beside the SQLite file (or in the data directory), created on first use.
            migrate: run pending migrations now. Defaults to True for SQLite and False for
                PostgreSQL, where ``openbackpack db upgrade`` is an explicit step.

        Raises:
            ConfigurationError: the URL is unusable.
            SecretKeyError: the key is malformed or is not this store's key.
            SchemaVersionError: the schema is not current and ``migrate`` is False.
        """
        parsed = parse_database_url(url or default_database_url())
        box = SecretBox(_resolve_key(parsed, secret_key))
        # WAL: readers never wait for a writer, and several push processes can share a file.
        store = cls(connect_engine(parsed, wal=True, busy_timeout_ms=15000), box)
        try:
            # The version table is read once; again only after a migration ran.
            current = store.revision()
            wanted = migrate if migrate is not None else parsed.drivername == "sqlite"
            if wanted and current != SCHEMA_HEAD:
                store.upgrade()
                current = store.revision()
            _require_head(current)
            store._check_key()
            store._initialise_settings()
        except BaseException:
            store.close()
            raise
        return store

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Run the ``with`` block in one transaction, committed at its end."""
        with self.engine.begin() as connection:
            yield Transaction(connection, self._box)

    def revision(self) -> str | None:
        """The schema revision the database is at (``None`` before the first migration)."""
        with self.engine.connect() as connection:
            return schema_revision(connection, "alembic_version")

    def upgrade(self) -> None:
        """Apply every pending migration."""
        # Alembic is loaded only when a migration may run, not on every open.
        from alembic import command

        with self.engine.begin() as connection:
            config = _alembic_config(connection)
            command.upgrade(config, "head")

    def check_schema(self) -> None:
        """Raise :class:`SchemaVersionError` unless the database is at the newest migration."""
        _require_head(self.revision())

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _initialise_settings(self) -> None:
        # Settings created on first read would make a read write; create them up front.
        with self.transaction() as tx:
            tx.settings.get()

    def _check_key(self) -> None:
        # A canary sealed on first use tells a wrong key at open time, instead of letting
        # the first secret read fail halfway through some later operation.
        with self.transaction() as tx:
            table = _schema.store_meta
            sealed = tx.connection.scalar(select(table.c.value).where(table.c.key == _CANARY_KEY))
            if sealed is None:
                tx.connection.execute(
                    insert(table).values(key=_CANARY_KEY, value=self._box.seal(_CANARY_TEXT))
                )
                return
        if self._box.open(sealed) != _CANARY_TEXT:  # pragma: no cover - needs a forged canary
            raise SecretKeyError("the secret key check failed")


def _require_head(current: str | None) -> None:
    if current != SCHEMA_HEAD:
        raise SchemaVersionError(
            f"the database is at schema revision {current or 'none'} but this release "
            f"needs {SCHEMA_HEAD}; run `openbackpack db upgrade`"
        )


def _resolve_key(url: URL, explicit: str | None) -> str:
    key = explicit or os.environ.get(SECRET_KEY_ENV, "").strip()
    if key:
        return key
    path = key_file_for(url)
    try:
        return load_or_create_key_file(path)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read or create the secret key file {path}: {exc.strerror or exc}"
        ) from None


def _alembic_config(connection: Connection | None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config
