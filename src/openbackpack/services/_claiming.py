"""Create each remote object once, across threads, processes and crashes.

Badgr has no idempotency keys: a create whose answer was lost cannot be told from one that
never happened unless the client looks. So a create goes: claim (committed), create, then
record the remote id and free the claim (one transaction). A claim found without a remote id
(its worker died, or its create failed in transit) means "look first": the caller's ``find``
searches the host and a match not owned by another key is adopted. Store errors (locked,
serialisation, integrity) are retried here and surface as :class:`StoreBusyError`.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Final, Literal, Protocol, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from openbackpack._exceptions import StoreError, TransportError
from openbackpack.store import IdentifierKind, Store, Transaction
from openbackpack.store._claims import Claim, new_holder

__all__ = [
    "ClaimWrites",
    "Creation",
    "StoreBusyError",
    "claimed_create",
    "in_transaction",
    "new_worker",
]

DEFAULT_LEASE: Final = timedelta(seconds=120)
_ATTEMPTS: Final = 12
_T = TypeVar("_T")

Creation = Literal["created", "adopted", "existing"]
"""``created`` now, ``adopted`` (found on the host after a lost answer or a crash), or
``existing`` (mapped already, possibly by another worker meanwhile)."""


class StoreBusyError(StoreError):
    """The store stayed locked or in conflict through every retry; nothing was half-written."""


def new_worker() -> str:
    """A holder name for one push call in this process."""
    return new_holder(uuid.uuid4().hex[:12])


def in_transaction(store: Store, work: Callable[[Transaction], _T]) -> _T:
    """Run ``work`` in one transaction, retried while the store is busy or in conflict.

    ``work`` must be safe to run again (it only reads and writes the store).
    """
    for attempt in range(_ATTEMPTS):
        try:
            with store.transaction() as tx:
                return work(tx)
        except (OperationalError, IntegrityError, DBAPIError) as exc:
            if attempt == _ATTEMPTS - 1:
                raise StoreBusyError(f"the store stayed busy: {_reason(exc)}") from None
            # Back off with jitter so that racing processes do not meet again at once.
            time.sleep(min(0.5, 0.005 * 2**attempt) * (0.5 + random.random()))  # noqa: S311
    raise AssertionError("unreachable")  # pragma: no cover


def _reason(exc: DBAPIError) -> str:
    return str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__


class ClaimWrites(Protocol):
    """The three store writes of a claimed create, each committed before it returns."""

    def claim(self, provider_id: int, kind: IdentifierKind, key: str) -> tuple[Claim, str | None]:
        """Take the claim and look at the mapping (an acquired claim of a mapped key is freed)."""

    def record(
        self,
        provider_id: int,
        kind: IdentifierKind,
        key: str,
        remote: str,
        content_hash: str | None,
    ) -> None:
        """Record the remote id (and content hash) and free the claim."""

    def release(self, provider_id: int, kind: IdentifierKind, key: str) -> None:
        """Free the claim after a failed create."""


class _OwnTransactions:
    """Each write in a transaction of its own (one create at a time)."""

    def __init__(self, store: Store, holder: str, lease: timedelta) -> None:
        self.store, self.holder, self.lease = store, holder, lease

    def claim(self, provider_id: int, kind: IdentifierKind, key: str) -> tuple[Claim, str | None]:
        def work(tx: Transaction) -> tuple[Claim, str | None]:
            # One transaction for both: the claim, then a look at the mapping, which may have
            # been written by a worker that finished between a caller's first look and this.
            claim = tx.push_claims.acquire(provider_id, kind, key, self.holder, self.lease)
            existing = tx.identifiers.get(provider_id, kind, key)
            if existing is not None and claim.acquired:
                tx.push_claims.release(provider_id, kind, key, self.holder)
            return claim, existing

        return in_transaction(self.store, work)

    def record(
        self,
        provider_id: int,
        kind: IdentifierKind,
        key: str,
        remote: str,
        content_hash: str | None,
    ) -> None:
        # The claim's unique remote id refuses a remote object another key owns.
        in_transaction(
            self.store,
            lambda tx: tx.push_claims.record_many(provider_id, kind, [(key, remote, content_hash)]),
        )

    def release(self, provider_id: int, kind: IdentifierKind, key: str) -> None:
        in_transaction(
            self.store, lambda tx: tx.push_claims.release(provider_id, kind, key, self.holder)
        )


def claimed_create(
    store: Store,
    provider_id: int,
    kind: IdentifierKind,
    key: str,
    holder: str,
    create: Callable[[], str],
    find: Callable[[], Iterable[str]],
    *,
    content_hash: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
    writes: ClaimWrites | None = None,
) -> tuple[str, Creation]:
    """The remote id of our object ``key``, created at most once on the provider.

    ``create`` makes it and returns its id; ``find`` yields the ids of remote objects that
    match it (it runs only when the create may have happened already). ``writes`` shares
    the claim and record transactions with other creates running at the same time (a
    :class:`~._claim_batch.ClaimBatch` of the same holder); by default each has its own.

    Raises:
        BackpackError: what ``create`` or ``find`` raised (the claim is freed first), or
            StoreBusyError.
    """
    book = writes if writes is not None else _OwnTransactions(store, holder, lease)
    look_first = False
    delay = 0.01
    while True:
        claim, existing = book.claim(provider_id, kind, key)
        if existing is not None:
            return existing, "existing"
        if not claim.acquired:
            # Another live worker creates it; acquire() again decides about a lease that ran
            # out or a holder process that is gone.
            time.sleep(delay * (0.5 + random.random()))  # noqa: S311
            delay = min(delay * 2, 0.5)
            continue
        look_first = look_first or not claim.fresh
        try:
            remote, how = _create_or_adopt(store, provider_id, kind, key, create, find, look_first)
        except BaseException:
            book.release(provider_id, kind, key)
            raise
        try:
            book.record(provider_id, kind, key, remote, content_hash)
        except StoreBusyError:
            # Most likely another key adopted the same remote object first: look again.
            book.release(provider_id, kind, key)
            look_first = True
            continue
        return remote, how


def _create_or_adopt(
    store: Store,
    provider_id: int,
    kind: IdentifierKind,
    key: str,
    create: Callable[[], str],
    find: Callable[[], Iterable[str]],
    look_first: bool,
) -> tuple[str, Creation]:
    if look_first:
        adopted = _adoptable(store, provider_id, kind, key, find)
        if adopted is not None:
            return adopted, "adopted"
    try:
        return create(), "created"
    except TransportError:
        # The answer may have been lost after the host created it.
        adopted = _adoptable(store, provider_id, kind, key, find)
        if adopted is not None:
            return adopted, "adopted"
        return create(), "created"


def _adoptable(
    store: Store,
    provider_id: int,
    kind: IdentifierKind,
    key: str,
    find: Callable[[], Iterable[str]],
) -> str | None:
    candidates = list(find())
    if not candidates:
        return None
    owned = in_transaction(store, lambda tx: tx.push_claims.owners(provider_id, kind, candidates))
    # Ours first (recorded by a claim of this key), then one that no key owns yet.
    for remote in candidates:
        if owned.get(remote[:255]) == key:
            return remote
    for remote in candidates:
        if remote[:255] not in owned:
            return remote
    return None
