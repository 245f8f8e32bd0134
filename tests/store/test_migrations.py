"""The migrations create exactly the tables the code declares."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from openbackpack import SchemaVersionError
from openbackpack.store import Store
from openbackpack.store._schema import metadata
from openbackpack.store._store import SCHEMA_HEAD, _alembic_config


def test_migrated_schema_matches_the_declared_tables(store: Store) -> None:
    """Alembic finds no difference between the migrated database and the table definitions."""
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_upgrade_is_idempotent(store: Store) -> None:
    """Running the migrations on a current store changes nothing and succeeds."""
    store.upgrade()
    store.check_schema()


def test_kept_clients_migrate_down_and_up_with_their_tokens(store: Store) -> None:
    """Down to 0004 keeps the newest client per provider; up again links the token to it."""
    with store.transaction() as tx:
        provider = tx.providers.create(
            "https://bc.example.org/api", "https://bc.example.org", "2.1"
        )
        tx.oauth_clients.save(provider.id, "old-client", "s1")
        current = tx.oauth_clients.save(provider.id, "new-client", "s2")
        account = tx.accounts.create(provider.id, "42", "a@example.org")
        tx.oauth_tokens.save(account.id, "at", "rt", None, "x", oauth_client_id=current.id)
    with store.engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "0004")
    with store.engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")
    with store.transaction() as tx:
        [kept] = tx.oauth_clients.every(provider.id)
        token = tx.oauth_tokens.get(account.id)
    assert kept.client_id == "new-client"
    assert kept.client_secret is not None
    assert kept.client_secret.reveal() == "s2"
    assert token is not None
    assert token.oauth_client_id == kept.id


def test_api_version_3_migrates_without_touching_what_refers_to_providers(store: Store) -> None:
    """Down to 0010 and up again keeps a provider's clients and accounts; 3.0 is stored after."""
    with store.transaction() as tx:
        provider = tx.providers.create(
            "https://bc.example.org/api", "https://bc.example.org", "2.1"
        )
        tx.oauth_clients.save(provider.id, "client", "secret")
        account = tx.accounts.create(provider.id, "42", "a@example.org")
    with store.engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "0010")
    with store.engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")
    with store.transaction() as tx:
        assert [c.client_id for c in tx.oauth_clients.every(provider.id)] == ["client"]
        assert tx.accounts.get(account.id).owner == "42"
        ob3 = tx.providers.create(
            "https://ob3.example.org/ims/ob/v3p0", "https://ob3.example.org", "v3p0"
        )
    assert ob3.api_version.value == "3.0"


def test_the_declared_head_is_the_newest_migration() -> None:
    """SCHEMA_HEAD, which open() compares without loading Alembic, names the scripts' head."""
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(_alembic_config(None)).get_current_head() == SCHEMA_HEAD


def test_a_store_behind_the_head_is_upgraded_when_opened(tmp_path: Path) -> None:
    """Opening an SQLite store left at an older revision migrates it to the head."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    Store.open(url).close()
    old = Store.open(url)
    with old.engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "0012")
    assert old.revision() == "0012"
    old.close()
    with Store.open(url) as store:
        assert store.revision() == SCHEMA_HEAD


def test_a_never_migrated_database_has_no_revision(tmp_path: Path) -> None:
    """The revision of an empty database is None, and check_schema refuses it by name."""
    with pytest.raises(SchemaVersionError, match="revision none"):
        Store.open(f"sqlite:///{tmp_path / 'empty.sqlite3'}", migrate=False)
