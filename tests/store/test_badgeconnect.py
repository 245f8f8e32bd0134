"""Badge Connect in the store: pending authorizations by state, and discovered manifests."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from openbackpack import InvalidInputError
from openbackpack.models.badgeconnect import ManifestEntry
from openbackpack.store import Store
from openbackpack.store import _schema as t
from openbackpack.store._types import utcnow

STATE = "the-state-value-0123456789"
VERIFIER = "v" * 64
ENTRY = ManifestEntry.model_validate(
    {
        "name": "Host",
        "image": "data:image/svg+xml;base64,PHN2Zy8+",
        "apiBase": "https://host.example/ims/ob/v2p1",
        "version": "v2p1",
        "scopesOffered": ["a", "b"],
        "registrationUrl": "https://host.example/o/register",
        "authorizationUrl": "https://host.example/o/authorize",
        "tokenUrl": "https://host.example/o/token",
        "tokenRevocationUrl": "https://host.example/o/revoke",
    }
)


def _provider(store: Store) -> int:
    with store.transaction() as tx:
        return tx.providers.create(
            "https://host.example/ims/ob/v2p1", "https://host.example", "2.1"
        ).id


def test_a_state_is_used_once(store: Store) -> None:
    """consume hands back the authorization with its verifier once, then nothing."""
    provider = _provider(store)
    with store.transaction() as tx:
        tx.oauth_states.create(provider, "42", STATE, VERIFIER, "http://127.0.0.1/cb", "a b")
    with store.transaction() as tx:
        pending = tx.oauth_states.consume(STATE)
        assert pending is not None
        assert pending.code_verifier.reveal() == VERIFIER
        assert (pending.owner, pending.redirect_uri, pending.scope) == (
            "42",
            "http://127.0.0.1/cb",
            "a b",
        )
        assert VERIFIER not in repr(pending)
    with store.transaction() as tx:
        assert tx.oauth_states.consume(STATE) is None
        assert tx.oauth_states.consume("never-issued") is None


def test_parallel_authorizations_of_one_user_do_not_collide(store: Store) -> None:
    """Two pending authorizations of the same user each keep their own verifier (W12)."""
    provider = _provider(store)
    with store.transaction() as tx:
        tx.oauth_states.create(provider, "42", STATE + "1", "1" * 64, "https://r", "")
        tx.oauth_states.create(provider, "42", STATE + "2", "2" * 64, "https://r", "")
        assert len(tx.oauth_states.find("42", provider)) == 2
        second = tx.oauth_states.consume(STATE + "2")
        first = tx.oauth_states.consume(STATE + "1")
    assert second is not None
    assert first is not None
    assert (first.code_verifier.reveal(), second.code_verifier.reveal()) == ("1" * 64, "2" * 64)


def test_states_expire_and_are_purged(store: Store) -> None:
    """A state carries its expiry (ten minutes by default); purge_expired removes old ones."""
    provider = _provider(store)
    with store.transaction() as tx:
        fresh = tx.oauth_states.create(provider, "42", STATE, VERIFIER, "https://r", "")
        tx.oauth_states.create(provider, "42", "old", VERIFIER, "https://r", "", ttl=timedelta(0))
    assert timedelta(minutes=9) < fresh.expires_at - utcnow() <= timedelta(minutes=10)
    with store.transaction() as tx:
        assert tx.oauth_states.purge_expired() == 1
        assert [p.id for p in tx.oauth_states.find("42")] == [fresh.id]


def test_a_state_needs_a_value_and_a_verifier(store: Store) -> None:
    """Empty states and verifiers are refused."""
    provider = _provider(store)
    with store.transaction() as tx, pytest.raises(InvalidInputError):
        tx.oauth_states.create(provider, "42", "", VERIFIER, "https://r", "")


def test_state_and_verifier_never_reach_the_database_in_plain_text(tmp_path: Path) -> None:
    """Only a digest of the state and the sealed verifier are written."""
    path = tmp_path / "store.sqlite3"
    with Store.open(f"sqlite:///{path}") as store:
        provider = _provider(store)
        with store.transaction() as tx:
            tx.oauth_states.create(provider, "42", STATE, VERIFIER, "https://r", "")
        with store.engine.connect() as conn:
            row = conn.execute(select(t.oauth_states)).one()
    assert row.state_hash != STATE
    raw = path.read_bytes()
    assert STATE.encode() not in raw
    assert VERIFIER.encode() not in raw


def test_manifests_are_saved_refreshed_and_read(store: Store) -> None:
    """A manifest's endpoints, scopes, name and image are kept; a 304 only moves its expiry."""
    provider = _provider(store)
    until = utcnow() + timedelta(hours=1)
    with store.transaction() as tx:
        saved = tx.manifests.save(
            provider,
            manifest_url="https://host.example/.well-known/badgeconnect.json",
            entry=ENTRY,
            document='{"badgeConnectAPI": []}',
            etag='"abc"',
            fresh_until=until,
        )
    assert saved.scopes_offered == ("a", "b")
    assert (saved.name, saved.revocation_url, saved.etag) == (
        "Host",
        "https://host.example/o/revoke",
        '"abc"',
    )
    later = until + timedelta(hours=1)
    with store.transaction() as tx:
        refreshed = tx.manifests.refresh(provider, later)
        assert tx.manifests.get(provider) == refreshed
    assert refreshed.fresh_until == later
    assert refreshed.etag == '"abc"'
    assert refreshed.api_base == ENTRY.api_base


def test_deleting_a_provider_takes_its_states_and_manifest(store: Store) -> None:
    """A removed provider leaves no pending authorization and no manifest behind."""
    with store.transaction() as tx:
        tx.providers.create("https://primary.example/v2", "https://primary.example", "2")
    provider = _provider(store)
    with store.transaction() as tx:
        tx.oauth_states.create(provider, "42", STATE, VERIFIER, "https://r", "")
        tx.manifests.save(
            provider,
            manifest_url="https://host.example/.well-known/badgeconnect.json",
            entry=ENTRY,
            document="{}",
            etag=None,
            fresh_until=utcnow(),
        )
        tx.providers.delete(provider)
        assert tx.oauth_states.find("42") == []
        assert tx.manifests.get(provider) is None
