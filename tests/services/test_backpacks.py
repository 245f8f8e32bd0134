"""Site backpack management: add, edit (keeping remote ids), remove, move, list."""

from __future__ import annotations

import pytest

from openbackpack import InvalidInputError, PrimaryBackpackError
from openbackpack.services import (
    add_backpack,
    edit_backpack,
    list_backpacks,
    move_backpack,
    remove_backpack,
)
from openbackpack.store import IdentifierKind, Secret, Store

BADGR = ("https://api.badgr.io/v2", "https://badgr.io")


def test_add_with_credentials_creates_the_site_account(store: Store) -> None:
    """A v2 backpack added with email and password gets a site account and is primary."""
    added = add_backpack(store, *BADGR, "2", email="issuer@example.org", password="pw")
    assert added.is_primary
    assert added.site_account is not None
    assert added.site_account.email == "issuer@example.org"
    assert added.site_account.password == Secret("pw")


@pytest.mark.parametrize(
    ("version", "email", "password", "message"),
    [
        ("2.1", "issuer@example.org", None, "OAuth 2"),
        ("1", "issuer@example.org", "pw", "read-only"),
        ("2", "issuer@example.org", None, "both"),
        ("2", None, "pw", "both"),
    ],
)
def test_credentials_a_version_cannot_use_are_refused(
    store: Store, version: str, email: str | None, password: str | None, message: str
) -> None:
    """Credentials that the version cannot use raise InvalidInputError and store nothing."""
    with pytest.raises(InvalidInputError, match=message):
        add_backpack(store, *BADGR, version, email=email, password=password)
    assert list_backpacks(store) == []


def _with_mapping(store: Store) -> int:
    added = add_backpack(store, *BADGR, "2", email="issuer@example.org", password="pw")
    with store.transaction() as tx:
        tx.identifiers.create(added.id, IdentifierKind.ISSUER, "issuer-1", "REMOTE")
    return added.id


def _mapped(store: Store, provider_id: int) -> bool:
    with store.transaction() as tx:
        return tx.identifiers.get(provider_id, IdentifierKind.ISSUER, "issuer-1") is not None


def test_cosmetic_edit_keeps_remote_ids(store: Store) -> None:
    """Changing the web URL or only the password keeps the remote-id mappings."""
    provider_id = _with_mapping(store)
    edit_backpack(store, provider_id, web_url="https://app.badgr.io")
    edit_backpack(store, provider_id, password="new-password")
    assert _mapped(store, provider_id)


@pytest.mark.parametrize(
    "change",
    [{"api_url": "https://api.eu.badgr.io/v2"}, {"email": "other@example.org"}],
    ids=["api-url", "account"],
)
def test_new_server_or_account_wipes_remote_ids(store: Store, change: dict[str, str]) -> None:
    """Changing the API URL or the site account's email wipes the remote-id mappings."""
    provider_id = _with_mapping(store)
    edit_backpack(store, provider_id, **change)
    assert not _mapped(store, provider_id)


def test_changed_password_drops_the_cached_token(store: Store) -> None:
    """New credentials drop the site account's cached token so they are checked next time."""
    provider_id = _with_mapping(store)
    with store.transaction() as tx:
        account = tx.accounts.site_account(provider_id)
        assert account is not None
        tx.token_cache.save(account.id, "token", "refresh", account.created_at)
    edited = edit_backpack(store, provider_id, password="new")
    assert edited.site_account is not None
    assert edited.site_account.password == Secret("new")
    with store.transaction() as tx:
        assert tx.token_cache.get(account.id) is None


def test_remove_and_move(store: Store) -> None:
    """The primary cannot be removed; after moving another up, the old primary can."""
    first = add_backpack(store, *BADGR, "2")
    second = add_backpack(store, "https://api.eu.badgr.io/v2", "https://eu.badgr.io", "2")
    with pytest.raises(PrimaryBackpackError):
        remove_backpack(store, first.id)
    reordered = move_backpack(store, second.id, "up")
    assert [b.id for b in reordered] == [second.id, first.id]
    assert reordered[0].is_primary
    remove_backpack(store, first.id)
    assert [b.id for b in list_backpacks(store)] == [second.id]
