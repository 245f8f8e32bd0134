"""Backpack accounts, selected collections, remote ids, tokens, verifications, settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openbackpack import DuplicateRecordError, InvalidInputError, RecordNotFoundError
from openbackpack.store import SITE_OWNER, IdentifierKind, Secret, Store
from openbackpack.store._crypto import secrets_match

from .conftest import snapshot


def _provider(store: Store, version: str = "2") -> int:
    with store.transaction() as tx:
        return tx.providers.create("https://api.badgr.io/v2", "https://badgr.io", version).id


@pytest.mark.parametrize(
    ("email", "password", "stored"),
    [
        pytest.param(None, None, False, id="none"),
        pytest.param("issuer@example.org", "pw", True, id="both"),
        pytest.param("issuer@example.org", None, False, id="only-email"),
        pytest.param(None, "pw", False, id="only-password"),
        pytest.param("issuer@example.org", "", True, id="empty-password-counts"),
    ],
)
def test_credentials_are_saved_only_when_email_and_password_are_given(
    store: Store, email: str | None, password: str | None, stored: bool
) -> None:
    """save_credentials stores a row only when both values are given, as Moodle does."""
    provider = _provider(store)
    with store.transaction() as tx:
        result = tx.accounts.save_credentials(provider, SITE_OWNER, email, password)
        assert (result is not None) is stored
        assert (tx.accounts.site_account(provider) is not None) is stored


def test_save_credentials_updates_the_existing_row(store: Store) -> None:
    """A second save for the same owner updates the account instead of adding one."""
    provider = _provider(store)
    with store.transaction() as tx:
        first = tx.accounts.save_credentials(provider, SITE_OWNER, "a@example.org", "one")
        second = tx.accounts.save_credentials(provider, SITE_OWNER, "b@example.org", "two")
        assert first is not None
        assert second is not None
        assert second.id == first.id
        assert second.email == "b@example.org"
        assert second.password == Secret("two")
        assert len(tx.accounts.list(provider_id=provider)) == 1


def test_site_and_user_lookups(store: Store) -> None:
    """The site account and each user's account are found by (owner, provider)."""
    provider = _provider(store)
    with store.transaction() as tx:
        other = tx.providers.create("https://api.eu.badgr.io/v2", "https://eu.badgr.io", "2").id
        site = tx.accounts.create(provider, SITE_OWNER, "issuer@example.org", "pw")
        user = tx.accounts.create(provider, "7", "learner@example.org", "pw")
        user_elsewhere = tx.accounts.create(other, "7", "learner@example.org", "pw2")
        found_site = tx.accounts.site_account(provider)
        assert found_site is not None
        assert found_site.id == site.id
        assert found_site.is_site_account
        assert tx.accounts.find("7", provider) == user
        assert tx.accounts.find("8", provider) is None
        assert tx.accounts.site_account(other) is None
        assert [a.id for a in tx.accounts.list(owner="7")] == [user.id, user_elsewhere.id]


def test_one_account_per_owner_and_provider(store: Store) -> None:
    """A second account of the same owner on the same provider is refused."""
    provider = _provider(store)
    with store.transaction() as tx:
        tx.accounts.create(provider, "7", "learner@example.org")
    before = snapshot(store)
    with pytest.raises(DuplicateRecordError), store.transaction() as tx:
        tx.accounts.create(provider, "7", "again@example.org")
    assert snapshot(store) == before


@pytest.mark.parametrize("owner", ["", " 7", "@admin"])
def test_bad_owner_is_refused(store: Store, owner: str) -> None:
    """Owner ids are non-empty, unpadded, and only the site owner starts with '@'."""
    provider = _provider(store)
    with pytest.raises(InvalidInputError, match="owner"), store.transaction() as tx:
        tx.accounts.create(provider, owner, "learner@example.org")


def test_account_on_missing_provider_is_refused(store: Store) -> None:
    """An account needs an existing provider."""
    with pytest.raises(RecordNotFoundError, match="site backpack"), store.transaction() as tx:
        tx.accounts.create(999, "7", "learner@example.org")


def test_deleting_an_account_keeps_the_owners_other_accounts(store: Store) -> None:
    """Deleting one account removes its selections and tokens and nothing of other accounts."""
    provider = _provider(store)
    with store.transaction() as tx:
        other = tx.providers.create("https://api.eu.badgr.io/v2", "https://eu.badgr.io", "2").id
        here = tx.accounts.create(provider, "7", "learner@example.org", "pw")
        there = tx.accounts.create(other, "7", "learner@example.org", "pw")
        for account in (here, there):
            tx.collections.replace(account.id, ["c1"])
            tx.token_cache.save(account.id, "a", "r", datetime.now(UTC))
        tx.accounts.delete(here.id)
        assert tx.accounts.list(owner="7") == [there]
        assert len(tx.collections.list(there.id)) == 1
        assert tx.token_cache.get(there.id) is not None
        assert tx.collections.list(here.id) == []
        assert tx.token_cache.get(here.id) is None


def test_collections_replace_the_selection(store: Store) -> None:
    """replace() swaps the whole selection and stores each key once, in order."""
    provider = _provider(store)
    with store.transaction() as tx:
        account = tx.accounts.create(provider, "7", "learner@example.org")
        tx.collections.replace(account.id, ["a", "b"])
        chosen = tx.collections.replace(account.id, ["c", "a", "c"])
        assert [c.key for c in chosen] == ["c", "a"]
        assert all(c.group_id is None for c in chosen)


def test_v1_collections_are_group_numbers(store: Store) -> None:
    """A v1 account stores integer group ids and refuses anything else."""
    provider = _provider(store, "1")
    with store.transaction() as tx:
        account = tx.accounts.create(provider, "7", "learner@example.org")
        chosen = tx.collections.replace(account.id, [3, "4"])
        assert [c.key for c in chosen] == [3, 4]
    before = snapshot(store)
    with pytest.raises(InvalidInputError, match="group numbers"), store.transaction() as tx:
        tx.collections.replace(account.id, ["abc"])
    assert snapshot(store) == before


def test_identifiers_map_one_internal_key_once(store: Store) -> None:
    """A remote id is stored per (provider, kind, key) and a second mapping is refused."""
    provider = _provider(store)
    with store.transaction() as tx:
        tx.identifiers.create(provider, IdentifierKind.BADGE_CLASS, "badge-1", "REMOTE1")
        assert tx.identifiers.get(provider, IdentifierKind.BADGE_CLASS, "badge-1") == "REMOTE1"
        assert tx.identifiers.get(provider, IdentifierKind.ASSERTION, "badge-1") is None
    with pytest.raises(DuplicateRecordError), store.transaction() as tx:
        tx.identifiers.create(provider, IdentifierKind.BADGE_CLASS, "badge-1", "REMOTE2")
    with store.transaction() as tx:
        assert tx.identifiers.delete(provider, IdentifierKind.BADGE_CLASS, "badge-1")
        tx.identifiers.create(provider, IdentifierKind.ISSUER, "i", "x")
        assert tx.identifiers.delete_all(provider) == 1
        assert tx.identifiers.list(provider) == []


def test_tokens_round_trip_and_expiry_is_aware(store: Store) -> None:
    """Cached and OAuth tokens come back decrypted, with aware UTC expiry times."""
    provider = _provider(store)
    expires = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    with store.transaction() as tx:
        account = tx.accounts.create(provider, "7", "learner@example.org")
        tx.token_cache.save(account.id, "acc", "ref", expires)
        cached = tx.token_cache.get(account.id)
        assert cached is not None
        assert cached.access_token.reveal() == "acc"
        assert cached.expires_at == expires
        tx.oauth_tokens.save(account.id, "acc2", None, None, "assertion.create")
        token = tx.oauth_tokens.save(account.id, "acc3", "ref3", expires, "assertion.create")
        assert token.access_token.reveal() == "acc3"
        assert token.refresh_token == Secret("ref3")
        assert tx.oauth_tokens.delete(account.id)
        assert tx.oauth_tokens.get(account.id) is None


def test_verifications_store_only_a_hash_of_the_code(store: Store) -> None:
    """The code is returned once, stored hashed, and a restart replaces the pending one."""
    provider = _provider(store)
    with store.transaction() as tx:
        _, first_code = tx.verifications.create("7", provider, "learner@example.org", "pw")
        pending, code = tx.verifications.create("7", provider, "learner@example.org", "pw")
        assert tx.verifications.find("7") == [pending]
        assert code not in pending.secret_hash
        assert secrets_match(code, pending.secret_hash)
        assert not secrets_match(first_code, pending.secret_hash)
        assert pending.expires_at - pending.created_at == timedelta(hours=24)
        assert tx.verifications.purge_expired(pending.expires_at) == 1


def test_settings_have_defaults_and_a_stable_salt(store: Store) -> None:
    """Settings default sensibly, the salt is created once, and updates persist."""
    with store.transaction() as tx:
        first = tx.settings.get()
        assert first.allow_external_backpacks
        assert len(first.badge_salt) >= 16
    with store.transaction() as tx:
        assert tx.settings.get().badge_salt == first.badge_salt
        changed = tx.settings.update(
            default_issuer_name="Example U", allow_external_backpacks=False
        )
        assert changed.default_issuer_name == "Example U"
        assert not changed.allow_external_backpacks
    with pytest.raises(InvalidInputError), store.transaction() as tx:
        tx.settings.update(default_issuer_contact="not an email")


def test_verification_codes_never_start_with_a_dash_and_are_unambiguous(store: Store) -> None:
    """Codes use Crockford's base 32 (no '-', no I/L/O/U), 20 symbols, all different."""
    provider = _provider(store)
    with store.transaction() as tx:
        codes = [
            tx.verifications.create(str(n), provider, "learner@example.org", "pw")[1]
            for n in range(400)
        ]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert len(code) == 20
        assert set(code) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ"), code
