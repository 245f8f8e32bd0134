"""Secrets at rest: sealed in the database, a wrong key refused, a key file created safely."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from openbackpack import ConfigurationError, SchemaVersionError, SecretKeyError
from openbackpack.store import SITE_OWNER, Secret, SecretBox, Store

PLAIN = ["correct horse battery staple", "access-token-value", "refresh-token-value", "client-sec"]


def _fill(store: Store) -> None:
    with store.transaction() as tx:
        provider = tx.providers.create("https://api.badgr.io/v2", "https://badgr.io", "2").id
        account = tx.accounts.create(provider, SITE_OWNER, "issuer@example.org", PLAIN[0])
        tx.token_cache.save(account.id, PLAIN[1], PLAIN[2], account.created_at)
        tx.oauth_tokens.save(account.id, PLAIN[1], PLAIN[2], None)
        tx.oauth_clients.save(provider, "client-id", PLAIN[3])
        tx.verifications.create("7", provider, "learner@example.org", PLAIN[0])


def test_no_secret_appears_in_plain_text_in_the_database_file(tmp_path: Path) -> None:
    """Passwords, tokens and client secrets never reach the SQLite file unencrypted."""
    path = tmp_path / "store.sqlite3"
    with Store.open(f"sqlite:///{path}") as store:
        _fill(store)
    raw = path.read_bytes()
    for plain in PLAIN:
        assert plain.encode() not in raw


def test_key_file_is_created_beside_the_database_with_mode_0600(tmp_path: Path) -> None:
    """Without a configured key, a key file is created once, readable by its owner only."""
    path = tmp_path / "store.sqlite3"
    with Store.open(f"sqlite:///{path}") as store:
        _fill(store)
    key_file = tmp_path / "store.sqlite3.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with Store.open(f"sqlite:///{path}") as store, store.transaction() as tx:
        account = tx.accounts.list()[0]
        assert account.password == Secret(PLAIN[0])


def test_wrong_key_is_refused_at_open(tmp_path: Path) -> None:
    """Opening a store with another key raises SecretKeyError instead of returning garbage."""
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    with Store.open(url, secret_key=SecretBox.generate_key()) as store:
        _fill(store)
    with pytest.raises(SecretKeyError, match="not the one this store was created with"):
        Store.open(url, secret_key=SecretBox.generate_key())


def test_malformed_key_is_refused(tmp_path: Path) -> None:
    """A key that is not a Fernet key raises SecretKeyError naming the problem."""
    with pytest.raises(SecretKeyError, match="not a valid Fernet key"):
        Store.open(f"sqlite:///{tmp_path / 's.sqlite3'}", secret_key="too-short")


def test_environment_key_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """OPENBACKPACK_SECRET_KEY is used instead of a key file."""
    monkeypatch.setenv("OPENBACKPACK_SECRET_KEY", SecretBox.generate_key())
    with Store.open(f"sqlite:///{tmp_path / 's.sqlite3'}"):
        pass
    assert not (tmp_path / "s.sqlite3.key").exists()


def test_secret_hides_its_value() -> None:
    """A Secret never shows its value in repr or str, and records hide it too."""
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret)
    assert "hunter2" not in str(secret)
    assert secret.reveal() == "hunter2"


def test_records_do_not_print_passwords(store: Store) -> None:
    """An account's repr carries no password, not even masked."""
    _fill(store)
    with store.transaction() as tx:
        text = repr(tx.accounts.list())
    assert PLAIN[0] not in text
    assert "password" not in text


def test_unsupported_database_is_a_configuration_error() -> None:
    """A URL for another database raises ConfigurationError."""
    with pytest.raises(ConfigurationError, match="unsupported database"):
        Store.open("mysql://root@localhost/test")


def test_postgres_store_is_not_migrated_implicitly(tmp_path: Path) -> None:
    """With migrate=False an empty database raises SchemaVersionError pointing at db upgrade."""
    with pytest.raises(SchemaVersionError, match="openbackpack db upgrade"):
        Store.open(f"sqlite:///{tmp_path / 's.sqlite3'}", migrate=False)


def test_default_store_lives_in_the_user_data_directory(tmp_path: Path) -> None:
    """With no URL, the store is an SQLite file in the (isolated) user data directory."""
    with Store.open() as store:
        database = store.engine.url.database
    assert database is not None
    assert database.startswith(os.environ["XDG_DATA_HOME"])
    assert Path(database).exists()
