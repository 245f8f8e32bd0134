"""Claims and records of concurrent creates share transactions, and keep their guarantees."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from openbackpack.services import StoreBusyError
from openbackpack.services._claim_batch import ClaimBatch
from openbackpack.services._claiming import new_worker
from openbackpack.store import IdentifierKind, Store

A = IdentifierKind.ASSERTION
OTHER = "elsewhere.example:1:other"  # another machine's live holder: never presumed dead


@pytest.fixture
def provider(store: Store) -> int:
    """A Badgr provider to claim creates on."""
    with store.transaction() as tx:
        return tx.providers.create("https://api.badgr.io/v2", "https://badgr.io", "2").id


def _in_threads(count: int, work: Callable[[int], object]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        barrier.wait()
        try:
            work(index)
        except BaseException as exc:  # collected for the assertions
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


def test_concurrent_workers_share_transactions(store: Store, provider: int) -> None:
    """Eight workers' claims and records are all committed, in fewer transactions than writes."""
    batch = ClaimBatch(store, new_worker(), workers=8, window=0.05)

    def work(index: int) -> None:
        claim, existing = batch.claim(provider, A, f"k{index}")
        assert (claim.acquired, claim.fresh, existing) == (True, True, None)
        batch.record(provider, A, f"k{index}", f"remote-{index}", f"hash-{index}")

    assert _in_threads(8, work) == []
    with store.transaction() as tx:
        mapped = tx.identifiers.get_many(provider, A, [f"k{i}" for i in range(8)])
        hashes = tx.push_claims.content_hashes(provider, A, list(mapped))
    assert mapped == {f"k{i}": f"remote-{i}" for i in range(8)}
    assert hashes == {f"k{i}": f"hash-{i}" for i in range(8)}
    assert batch.transactions < 16


def test_a_conflicting_record_fails_alone(store: Store, provider: int) -> None:
    """A record of a remote object another key owns fails; the writes sharing its batch do not."""
    with store.transaction() as tx:
        tx.push_claims.record_many(provider, A, [("owner", "remote-1", None)])
    batch = ClaimBatch(store, new_worker(), workers=2, window=0.5)
    records = [("thief", "remote-1"), ("honest", "remote-2")]

    errors = _in_threads(2, lambda i: batch.record(provider, A, *records[i], None))
    assert len(errors) == 1
    assert isinstance(errors[0], StoreBusyError)
    with store.transaction() as tx:
        assert tx.identifiers.get_many(provider, A, ["owner", "thief", "honest"]) == {
            "owner": "remote-1",
            "honest": "remote-2",
        }


def test_claims_taken_ahead_are_used_and_the_rest_freed(store: Store, provider: int) -> None:
    """One transaction claims ahead; a claim is then answered from it; unused ones are freed."""
    batch = ClaimBatch(store, new_worker(), workers=4)
    batch.claim_ahead(provider, A, ["a", "b", "c"])
    assert batch.transactions == 1
    claim, existing = batch.claim(provider, A, "a")
    assert (claim.acquired, claim.fresh, existing) == (True, True, None)
    assert batch.transactions == 1  # answered from the claims taken ahead
    batch.release_ahead()
    with store.transaction() as tx:
        taken = tx.push_claims.acquire_many(provider, A, ["a", "b", "c"], OTHER, timedelta(60))
    assert (taken["a"].acquired, taken["b"].acquired, taken["c"].acquired) == (False, True, True)
