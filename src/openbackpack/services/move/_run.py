"""``move_badges``: read, verify, plan, move (once each, resumably), prove, then delete."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openbackpack._exceptions import BackpackError, DuplicateBadgeError, InvalidInputError
from openbackpack.credentials import DocumentLoader, Fetch
from openbackpack.issuer._urls import IssuerUrls
from openbackpack.services._claim_batch import ClaimBatch
from openbackpack.services._claiming import claimed_create, in_transaction, new_worker
from openbackpack.services._errors import NotOwnerError
from openbackpack.services.move._interfaces import Source, Target
from openbackpack.services.move._model import (
    DEFAULT_MOVE_CONCURRENCY,
    DEFAULT_RESEND,
    Action,
    HeldBadge,
    MoveItem,
    MoveReport,
    Proof,
    SourceBadge,
    SourceDeletionUnsupportedError,
)
from openbackpack.services.move._ob3 import Ob3Backpack
from openbackpack.services.move._plan import plan_item
from openbackpack.services.move._prove import prove
from openbackpack.services.move._reissue import ReissuingTarget
from openbackpack.services.move._verdict import verify_badge
from openbackpack.store import IdentifierKind, Store

if TYPE_CHECKING:
    from openbackpack.issuer import DidMethod

__all__ = ["DEFAULT_MOVE_CONCURRENCY", "DEFAULT_RESEND", "move_badges"]


Progress = Callable[[MoveItem], None]
StopCheck = Callable[[], bool]
_DONE = {"created": "moved", "adopted": "moved (found at the target, sent by an earlier run)"}


def _check_owner(owner: str, *sides: Source | Target) -> None:
    for side in sides:
        account = getattr(side, "account", None)
        if account is not None and account.owner != owner:
            raise NotOwnerError(f"{side.label} is not an account of user {owner!r}")


def _emails(extra: Sequence[str], source: Source, target: Target) -> list[str]:
    found: dict[str, None] = {}
    for email in (*extra, *target.emails, *source.emails):
        found.setdefault(email.strip().lower(), None)
    return [email for email in found if email]


def _claim_key(target: Target, item: MoveItem) -> tuple[int, str]:
    provider_id, prefix = target.claim_scope
    subject = item.facts.id or item.source.key
    return provider_id, prefix + hashlib.sha256(subject.encode()).hexdigest()[:40]


def _send(store: Store, target: Target, item: MoveItem, writes: ClaimBatch) -> None:
    provider_id, key = _claim_key(target, item)

    def create() -> str:
        item.sends += 1
        try:
            return target.put(item)
        except DuplicateBadgeError:
            # A lost answer, or a move racing this one: it is there, adopt what holds it.
            found = list(target.find(item))
            if not found:
                raise
            return found[0]

    try:
        remote, how = claimed_create(
            store,
            provider_id,
            IdentifierKind.ASSERTION,
            key,
            writes.holder,
            create,
            lambda: target.find(item),
            writes=writes,
        )
    except BackpackError as exc:
        item.done, item.error, item.failure = "failed", str(exc), exc
        return
    item.remote_id = remote
    item.done = _DONE.get(how, "sent by an earlier run")
    if item.reissue is not None:
        item.done += f"; re-issued by this site as 3.0 credential {item.reissue.credential_id}"


def move_badges(
    store: Store,
    owner: str,
    source: Source,
    target: Target,
    *,
    dry_run: bool = False,
    delete_source: bool = False,
    emails: Sequence[str] = (),
    fetch: Fetch | None = None,
    document_map: Mapping[str, str | Path] | None = None,
    concurrency: int = DEFAULT_MOVE_CONCURRENCY,
    now: datetime | None = None,
    on_progress: Progress | None = None,
    resend: int = DEFAULT_RESEND,
    reissue: IssuerUrls | None = None,
    reissue_did_method: DidMethod = "web",
    should_stop: StopCheck | None = None,
) -> MoveReport:
    """Move every badge of ``source`` that ``target`` can take, verified, once, and prove it.

    Each badge is verified (documents read through ``document_map`` and ``fetch``, see
    :class:`~openbackpack.credentials.DocumentLoader`; :func:`client_fetch` fetches through
    a client, paced as it is) against the learner's verified emails (``emails`` and those of
    the two accounts), classified, and planned. Unless ``dry_run``, each badge to move is
    sent under a claim in the store, so that a run killed at any point and run again sends
    none twice; then the target is read back and every badge that should be there is
    compared with the plan and verified again (with a fresh loader, so that nothing
    verified before is trusted from a cache). A badge sent but missing at the target (the
    target answered success and dropped it) is sent again, under the same claim, and proved
    again, up to ``resend`` times (0: never); one still missing stays reported missing. With
    ``delete_source``, badges proved at the target are deleted at the source.

    ``reissue`` (this site's :class:`~openbackpack.issuer.IssuerUrls`: the store holds its
    awards and signing keys) lets an Open Badges 3.0 target take this site's own 2.0 badges:
    a badge whose id is this site's hosted assertion of a live award is re-issued as a
    signed 3.0 credential (:meth:`~openbackpack.issuer.CredentialIssuer.reissue`, the 2.0
    assertion as evidence, its issuer a ``did:web`` or, with ``reissue_did_method="key"``, a
    ``did:key``) and upserted; the credential's id is the award's, so a re-run or re-send
    replaces the one copy, and the proof finds the badge by that id. Other issuers' 2.0
    badges still cannot go in; other targets take 2.0 badges as they are, not re-issued.

    ``should_stop`` is asked before each badge is started and before deleting at the source
    (a worker's job was cancelled): once it says stop, no further badge is started (those
    under way finish), the badges not started are left out of the report, nothing is proved
    or deleted, and the report is ``stopped``.

    Raises:
        NotOwnerError: an account of ``source`` or ``target`` is not ``owner``'s.
        SourceDeletionUnsupportedError: ``delete_source`` and the source cannot delete.
        BackpackError: reading the source or the target failed (nothing was sent).
    """
    if concurrency < 1:
        raise InvalidInputError("concurrency must be at least 1")
    if resend < 0:
        raise InvalidInputError("resend must be at least 0")
    _check_owner(owner, source, target)
    site: ReissuingTarget | None = None
    if reissue is not None and isinstance(target, Ob3Backpack):
        site = ReissuingTarget(target, store, reissue, reissue_did_method)
        target = site
    if delete_source and source.deletion is not None:
        raise SourceDeletionUnsupportedError(f"cannot delete at {source.label}: {source.deletion}")
    verify_loader = DocumentLoader(document_map, fetch=fetch)
    learner = _emails(emails, source, target)
    report = MoveReport(source.label, target.label, dry_run)
    if fetch is None:
        report.notes.append(
            "no fetch was given: hosted badges, status lists and DID documents outside the "
            "document map could not be read"
        )
    if not dry_run and delete_source:
        report.notes.append("badges proved at the target are deleted at the source")
    if reissue is not None and site is None:
        report.notes.append(
            f"nothing is re-issued: {target.label} takes Open Badges 2.0 badges as they are"
        )
    badges, holdings = _read_both(source, target)
    # The claims and records of the badges sent at the same moment share transactions.
    writes = ClaimBatch(store, new_worker(), workers=concurrency)
    stop = _Stop(should_stop)

    def one(badge: Any) -> MoveItem | None:
        if stop():
            return None
        item = verify_badge(badge, verify_loader, learner, now)
        if site is not None:
            site.recognise(item)
        plan_item(item, target, holdings)
        if item.action is Action.MOVE and not dry_run:
            _send(store, target, item, writes)
        elif item.action is Action.ALREADY:
            item.done = "already there"
        if on_progress is not None:
            on_progress(item)
        return item

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        report.items = [item for item in pool.map(one, badges) if item is not None]
    if stop.said:
        report.stopped = True
        return report
    if dry_run:
        return report
    prove_loader = DocumentLoader(document_map, fetch=fetch)
    prove(report, target, prove_loader, now, concurrency)
    for _ in range(resend):
        dropped = [item for item in report.items if _dropped(item)]
        if not dropped:
            break
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(lambda item: _resend(store, target, item, writes), dropped))
        prove(report, target, prove_loader, now, concurrency, only=dropped)
        for item in dropped:
            item.resent_present = item.proof is not Proof.MISSING
    if delete_source:
        if stop():
            report.stopped = True
            return report
        _delete(report, source)
    return report


def _read_both(source: Source, target: Target) -> tuple[list[SourceBadge], list[HeldBadge]]:
    """The source's badges and the target's holdings, read at once: two hosts, two waits.

    The pool is left only once both reads have ended, so a source that fails (its error is
    raised) leaves no request to the target running.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        held = pool.submit(target.holdings)
        badges = source.read()
        return badges, held.result()


class _Stop:
    """``should_stop``, asked until it first says stop, then stop for every caller."""

    def __init__(self, ask: StopCheck | None) -> None:
        self._ask = ask
        self._said = threading.Event()

    @property
    def said(self) -> bool:
        """Whether it has said stop."""
        return self._said.is_set()

    def __call__(self) -> bool:
        if self._said.is_set():
            return True
        if self._ask is not None and self._ask():
            self._said.set()
        return self._said.is_set()


def _dropped(item: MoveItem) -> bool:
    """Whether the target took the badge (it answered success) and does not show it."""
    return item.action is Action.MOVE and item.error is None and item.proof is Proof.MISSING


def _resend(store: Store, target: Target, item: MoveItem, writes: ClaimBatch) -> None:
    """Send a dropped badge once more, through its claim, so that a crash cannot duplicate it.

    The claim recorded the target's id for the dropped copy, which would make the claim
    answer "sent already"; forgetting that mapping (committed first) lets the claim be taken
    again and the badge sent. A run killed after that finds no mapping, or a claim left
    without one, and looks at the target before sending, as for any first send.
    """
    provider_id, key = _claim_key(target, item)
    in_transaction(
        store, lambda tx: tx.identifiers.delete(provider_id, IdentifierKind.ASSERTION, key)
    )
    _send(store, target, item, writes)


def _delete(report: MoveReport, source: Source) -> None:
    for item in report.items:
        if item.proof is not Proof.PROVED:
            continue
        try:
            source.delete(item.source)
        except BackpackError as exc:
            item.error = f"proved at the target, but not deleted at the source: {exc}"
            continue
        item.deleted = True
