"""Push claims in bulk: many claims, records and releases in one transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from openbackpack.store import IdentifierKind, Store
from openbackpack.store._claims import new_holder

A = IdentifierKind.ASSERTION
LEASE = timedelta(seconds=60)
ME = new_holder("me")
OTHER = "elsewhere.example:1:other"  # another machine's live holder: never presumed dead


@pytest.fixture
def provider(store: Store) -> int:
    """A Badgr provider to claim creates on."""
    with store.transaction() as tx:
        return tx.providers.create("https://api.badgr.io/v2", "https://badgr.io", "2").id


def test_acquire_many_takes_new_keys_fresh_and_leaves_held_ones(
    store: Store, provider: int
) -> None:
    """New keys are taken fresh; another live holder keeps its key; an old key is not fresh."""
    with store.transaction() as tx:
        tx.push_claims.acquire(provider, A, "held", OTHER, LEASE)
        tx.push_claims.acquire(provider, A, "mine", ME, LEASE)
    with store.transaction() as tx:
        claims = tx.push_claims.acquire_many(
            provider, A, ["n1", "held", "n2", "mine", "n1"], ME, LEASE
        )
    assert set(claims) == {"n1", "n2", "held", "mine"}
    assert (claims["n1"].acquired, claims["n1"].fresh) == (True, True)
    assert (claims["n2"].acquired, claims["n2"].fresh) == (True, True)
    assert claims["held"].acquired is False
    assert (claims["mine"].acquired, claims["mine"].fresh) == (True, False)


def test_record_many_frees_claims_and_maps_each_key(store: Store, provider: int) -> None:
    """Records free the claims with remote id and hash, map new keys, keep older mappings."""
    with store.transaction() as tx:
        tx.push_claims.acquire_many(provider, A, ["a", "b"], ME, LEASE)
        tx.identifiers.create(provider, A, "b", "remote-b")
    with store.transaction() as tx:
        tx.push_claims.record_many(
            provider,
            A,
            [("a", "remote-a", "h-a"), ("b", "remote-b", "h-b"), ("c", "remote-c", None)],
        )
    with store.transaction() as tx:
        assert tx.identifiers.get_many(provider, A, ["a", "b", "c"]) == {
            "a": "remote-a",
            "b": "remote-b",
            "c": "remote-c",
        }
        assert tx.push_claims.content_hashes(provider, A, ["a", "b", "c"]) == {
            "a": "h-a",
            "b": "h-b",
        }
        assert tx.push_claims.held(provider, A, "a") is None
        assert tx.push_claims.owners(provider, A, ["remote-a", "remote-c"]) == {
            "remote-a": "a",
            "remote-c": "c",
        }


def test_record_many_refuses_a_remote_object_another_key_owns(store: Store, provider: int) -> None:
    """Two keys cannot own one remote object: the whole transaction is refused, nothing written."""
    with store.transaction() as tx:
        tx.push_claims.record_many(provider, A, [("a", "remote-a", None)])
    with pytest.raises(IntegrityError), store.transaction() as tx:
        tx.push_claims.record_many(provider, A, [("b", "remote-b", None), ("c", "remote-a", None)])
    with store.transaction() as tx:
        assert tx.identifiers.get_many(provider, A, ["b", "c"]) == {}


def test_release_many_frees_only_this_holders_claims(store: Store, provider: int) -> None:
    """Released claims can be taken at once by another holder; another holder's stay held."""
    with store.transaction() as tx:
        tx.push_claims.acquire_many(provider, A, ["a", "b"], ME, LEASE)
        tx.push_claims.acquire(provider, A, "theirs", OTHER, LEASE)
    with store.transaction() as tx:
        tx.push_claims.release_many(provider, A, ["a", "b", "theirs"], ME)
    with store.transaction() as tx:
        assert tx.push_claims.held(provider, A, "a") is None
        assert tx.push_claims.held(provider, A, "theirs") is not None
        taken = tx.push_claims.acquire_many(provider, A, ["a", "b"], OTHER, LEASE)
    assert all(claim.acquired and not claim.fresh for claim in taken.values())
