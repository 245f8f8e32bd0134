"""Add to backpack for many awards at once: a bounded pool, claims taken ahead in bulk.

Awards never pushed go first, then those pushed before. Each award goes as
:func:`~._push.push_award` sends one; what the pushes of one call share (one login,
documents built once, claims and records written in shared transactions) lives in their
:class:`~._push_site.Session`. For a site push, the claims of the next awards are taken in
one transaction before their creates are sent, a bounded number ahead, so that a crash
leaves few claims to reconcile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy.exc import SQLAlchemyError

from openbackpack._exceptions import BackpackError, InvalidInputError
from openbackpack.client import BackpackClient
from openbackpack.services._claiming import StoreBusyError
from openbackpack.services._push import PushResult, _push_one
from openbackpack.services._push_site import Session, SiteOutcome
from openbackpack.services._site import require_external_backpacks
from openbackpack.store import IdentifierKind, Store

__all__ = ["DEFAULT_PUSH_CONCURRENCY", "BulkPushReport", "PushFailure", "push_awards"]

DEFAULT_PUSH_CONCURRENCY: Final = 8


@dataclass(frozen=True, slots=True)
class PushFailure:
    """An award that could not be pushed, and why."""

    award_hash: str
    error: BackpackError


@dataclass(frozen=True, slots=True)
class BulkPushReport:
    """The outcome of pushing many awards: one result or one failure per award, in order."""

    results: list[PushResult] = field(default_factory=list)
    failures: list[PushFailure] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)
    """Awards never tried because ``stop`` asked the push to end (in the given order)."""

    @property
    def complete(self) -> bool:
        """Whether every award was pushed."""
        return not self.failures and not self.not_started

    def _count(self, outcome: SiteOutcome) -> int:
        return sum(1 for result in self.results if result.site == outcome)

    @property
    def created(self) -> int:
        """Assertions created on the site backpack by this call."""
        return self._count("created")

    @property
    def adopted(self) -> int:
        """Assertions found on the site backpack (a lost answer, a crash) and adopted."""
        return self._count("adopted")

    @property
    def updated(self) -> int:
        """Assertions sent again with PUT (changed, or ``refresh``)."""
        return self._count("updated")

    @property
    def skipped(self) -> int:
        """Assertions pushed before and unchanged: no request was sent for them."""
        return self._count("skipped")

    @property
    def failed(self) -> int:
        """Awards that failed."""
        return len(self.failures)


def push_awards(
    store: Store,
    owner: str | None,
    award_hashes: Iterable[str],
    *,
    issuer_base_url: str,
    provider_id: int | None = None,
    client: BackpackClient | None = None,
    concurrency: int = DEFAULT_PUSH_CONCURRENCY,
    on_done: Callable[[PushResult | PushFailure], None] | None = None,
    refresh: bool = False,
    stop: Callable[[], bool] | None = None,
) -> BulkPushReport:
    """Push many awards, ``concurrency`` at a time; each failure is reported, the rest go on.

    Safe to run in several processes at once and to kill at any point: every create is
    claimed in the store first and, when it may have happened already, looked for on the
    host before it is made again. Re-running resumes at the cost of what remains: an
    assertion pushed before and unchanged is skipped without a request (``refresh=True``
    sends it again with PUT). Nothing the store raises escapes: a store that stays busy is
    a failure of that award (:class:`StoreBusyError`). The claims and records of awards
    pushed at the same moment share transactions; ``on_done`` is called once an award's
    outcome is recorded. Awards never pushed to the site backpack are sent first, then those
    pushed before (so a resume's first requests leave at once); the report keeps the order
    of ``award_hashes``.

    ``stop`` is asked before each award is started, from the pushing threads (keep it cheap
    and thread-safe): once it answers True, no award is started any more, those in flight
    finish, and the awards not started are listed in ``report.not_started``.

    .. versionchanged:: 0.1
       ``stop`` and ``BulkPushReport.not_started``.

    Raises:
        ExternalBackpacksDisabledError: the site switched external backpacks off (before
            any award is tried).
    """
    if concurrency < 1:
        raise InvalidInputError("concurrency must be at least 1")
    with store.transaction() as tx:
        require_external_backpacks(tx)
    hashes: Sequence[str] = list(dict.fromkeys(award_hashes))
    own = client is None
    shared = client if client is not None else BackpackClient()
    session = Session(store, issuer_base_url, shared, refresh=refresh, workers=concurrency)
    # Claims taken ahead wait for a free worker: allow two rounds of them, no more, so that
    # a crash leaves few claims whose creates must be looked for on the host.
    window = threading.BoundedSemaphore(2 * concurrency)
    halted = threading.Event()

    def stopped() -> bool:
        if not halted.is_set() and stop is not None and stop():
            halted.set()
        return halted.is_set()

    def one(award_hash: str) -> PushResult | PushFailure | None:
        if stopped():
            window.release()
            return None  # not started; its claim taken ahead is freed with the others
        try:
            outcome: PushResult | PushFailure = _push_one(session, owner, award_hash, provider_id)
        except BackpackError as exc:
            outcome = PushFailure(award_hash, exc)
        except SQLAlchemyError as exc:  # defence in depth: in_transaction wraps these
            outcome = PushFailure(award_hash, StoreBusyError(f"the store failed: {exc.code}"))
        finally:
            window.release()
        if on_done is not None:
            on_done(outcome)
        return outcome

    futures: dict[str, Future[PushResult | PushFailure | None]] = {}
    try:
        session.preload_pushed(list(hashes))
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for group in _new_first(session, hashes, 2 * concurrency):
                if halted.is_set():
                    break
                session.preload(group)
                for start in range(0, len(group), concurrency):
                    if halted.is_set():
                        break
                    chunk = group[start : start + concurrency]
                    for _ in chunk:
                        window.acquire()
                    if owner is None:
                        _claim_ahead(session, chunk)
                    futures.update((h, pool.submit(one, h)) for h in chunk)
        outcomes = [
            futures[award_hash].result() if award_hash in futures else None for award_hash in hashes
        ]
    finally:
        session.writes.release_ahead()
        session.close()
        if own:
            shared.close()
    report = BulkPushReport()
    for award_hash, outcome in zip(hashes, outcomes, strict=True):
        if outcome is None:
            report.not_started.append(award_hash)
        elif isinstance(outcome, PushFailure):
            report.failures.append(outcome)
        else:
            report.results.append(outcome)
    return report


def _new_first(session: Session, hashes: Sequence[str], head: int) -> list[list[str]]:
    """The awards never pushed to the site backpack, then those pushed before.

    A resume's first requests leave at once: the first ``head`` new awards are read alone,
    and the rest, like the awards pushed before (mostly skipped without a request), are
    read and checked while those wait on the network.
    """
    new = [award_hash for award_hash in hashes if award_hash not in session.mapped]
    pushed = [award_hash for award_hash in hashes if award_hash in session.mapped]
    return [group for group in (new[:head], new[head:], pushed) if group]


def _claim_ahead(session: Session, chunk: Sequence[str]) -> None:
    """Claim the assertions these awards will create on the site backpack, in one transaction."""
    if session.primary is None:
        return
    new = [
        award_hash
        for award_hash in chunk
        if award_hash not in session.mapped
        and (award := session.awards.get(award_hash)) is not None
        and not award.revoked
    ]
    session.writes.claim_ahead(session.primary.id, IdentifierKind.ASSERTION, new)
