"""The host's tables: migrations, sharing a database with a store, accounts from Python."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from openbackpack import DuplicateRecordError, InvalidInputError, SchemaVersionError, Store
from openbackpack.host import HostDatabase, HostSettings, add_email, add_user, create_app
from openbackpack.host._schema import VERSION_TABLE, metadata
from openbackpack.store import SecretBox


def test_migrated_schema_matches_the_declared_tables(store_url: str) -> None:
    """Alembic finds no difference between the migrated host tables and their definitions."""
    database = HostDatabase.open(store_url)
    try:
        with database.engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "version_table": VERSION_TABLE,
                    "include_object": lambda _o, name, kind, *_: (
                        kind != "table" or name.startswith("host_")
                    ),
                },
            )
            assert compare_metadata(context, metadata) == []
        database.upgrade()
        database.check_schema()
    finally:
        database.close()


def test_host_and_store_share_one_database(store_url: str) -> None:
    """A store and a host in one database keep separate tables and version tables."""
    with Store.open(store_url, secret_key=SecretBox.generate_key(), migrate=True) as store:
        user = add_user(store, "shared@example.org", "pw")
        assert user.emails == ("shared@example.org",)
        store.check_schema()
        tables = set(inspect(store.engine).get_table_names())
    assert {"alembic_version", "host_alembic_version", "providers", "host_users"} <= tables


def test_unmigrated_database_is_refused_without_migrate(tmp_path: Path) -> None:
    """Opening a database whose host tables are missing, with migrate off, raises."""
    with pytest.raises(SchemaVersionError):
        HostDatabase.open(f"sqlite:///{tmp_path / 'empty.sqlite3'}", migrate=False)
    with pytest.raises(SchemaVersionError):
        create_app(HostSettings(db_url=f"sqlite:///{tmp_path / 'e.sqlite3'}", migrate=False))


def test_add_user_checks_its_input(tmp_path: Path) -> None:
    """Bad e-mails, empty passwords and taken addresses are refused with typed errors."""
    engine = create_engine(f"sqlite:///{tmp_path / 'u.sqlite3'}")
    try:
        user = add_user(engine, "Ada@Example.org", "pw", first_name="Ada", last_name="Lovelace")
        assert (user.first_name, user.primary_email) == ("Ada", "ada@example.org")
        with pytest.raises(InvalidInputError):
            add_user(engine, "not an email", "pw")
        with pytest.raises(InvalidInputError):
            add_user(engine, "b@example.org", "")
        with pytest.raises(DuplicateRecordError):
            add_user(engine, "ADA@example.org", "other")
        more = add_email(engine, "ada@example.org", "ada2@example.org", verified=False)
        assert more.emails == ("ada@example.org", "ada2@example.org")
        assert more.verified_emails == ("ada@example.org",)
    finally:
        engine.dispose()


def test_settings_refuse_impossible_values() -> None:
    """Non-positive lifetimes and non-http public URLs are refused."""
    with pytest.raises(InvalidInputError):
        HostSettings(token_lifetime=0)
    with pytest.raises(InvalidInputError):
        HostSettings(public_url="ftp://x")


def test_the_pool_keeps_a_connection_for_every_request_thread(store_url: str) -> None:
    """The host keeps as many connections open as request threads can use at once."""
    database = HostDatabase.open(store_url)
    try:
        assert database.engine.pool.size() == 40  # type: ignore[attr-defined]
    finally:
        database.close()


def test_migration_0003_marks_existing_clients_badge_connect_and_goes_back(
    store_url: str,
) -> None:
    """A client registered at 0002 is a Badge Connect client after 0003; 0003 downgrades."""
    from alembic import command
    from sqlalchemy import insert, select, text

    from openbackpack.host import _schema as t
    from openbackpack.host._db import _alembic_config
    from openbackpack.store._types import utcnow

    database = HostDatabase.open(store_url)
    try:
        with database.engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0002")
        assert "host_ob3_credentials" not in inspect(database.engine).get_table_names()
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO host_oauth_clients (client_id, secret_hash, auth_method, "
                    "redirect_uris, grant_types, scope, metadata, created_at) VALUES "
                    "('old-client', 'x', 'client_secret_basic', '[]', '[]', '', '{}', :now)"
                ),
                {"now": utcnow()},
            )
        database.upgrade()
        database.check_schema()
        holder = add_user(database, "ob3-migrated@example.org", "pw")
        with database.engine.begin() as connection:
            api = connection.scalar(
                select(t.oauth_clients.c.api).where(t.oauth_clients.c.client_id == "old-client")
            )
            connection.execute(
                insert(t.ob3_credentials).values(
                    user_id=holder.id,
                    issuer_id="did:example:i",
                    achievement_id="urn:a",
                    subject_id="did:example:s",
                    format="json",
                    document="{}",
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
            )
        assert api == "v2p1"
    finally:
        database.close()


def test_the_declared_host_head_is_the_newest_migration() -> None:
    """The host's SCHEMA_HEAD, compared on open without loading Alembic, is the scripts' head."""
    from alembic.script import ScriptDirectory

    from openbackpack.host._db import SCHEMA_HEAD, _alembic_config

    assert ScriptDirectory.from_config(_alembic_config(None)).get_current_head() == SCHEMA_HEAD
