"""The proof of a move: read the target back, compare each badge with the plan, verify it again.

Every copy the target shows is verified again, with a loader of the proof's own (fresh, so
that nothing the plan's verification read is trusted from a cache).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from openbackpack.credentials import DocumentLoader
from openbackpack.services.move._interfaces import Target
from openbackpack.services.move._model import (
    DEFAULT_MOVE_CONCURRENCY,
    Action,
    HeldBadge,
    MoveItem,
    MoveReport,
    Proof,
    SourceBadge,
    Verdict,
)
from openbackpack.services.move._plan import match_held
from openbackpack.services.move._verdict import recipient_of, verify_badge

__all__ = ["prove"]


def prove(
    report: MoveReport,
    target: Target,
    loader: DocumentLoader,
    now: datetime | None = None,
    concurrency: int = DEFAULT_MOVE_CONCURRENCY,
    only: Sequence[MoveItem] | None = None,
) -> None:
    """Read the target back: each badge present, same issuer, achievement, recipient, verifying.

    ``only`` proves those badges again (after a re-send), leaving the others' proofs as they
    are, unless the copy an other was proved by is gone (a re-send replaced it: an Open
    Badges 3.0 host keeps one credential per issuer, achievement and recipient); the copies
    matched to the others are not matched to these.
    """
    holdings = target.holdings()
    again = {id(item) for item in only} if only is not None else None
    if again is not None:
        _gone(report, holdings, again)
    taken: set[str] = {
        item.target_shows.remote_id
        for item in report.items
        if again is not None and id(item) not in again and item.target_shows is not None
    }
    found: list[tuple[MoveItem, HeldBadge]] = []
    for item in report.items:
        if item.action not in (Action.MOVE, Action.ALREADY) or item.error is not None:
            continue
        if again is not None and id(item) not in again:
            continue
        held = match_held(item, holdings, taken)
        item.target_shows = held
        if held is None:
            item.proof, item.proof_reason = Proof.MISSING, _missing(item)
            continue
        taken.add(held.remote_id)
        found.append((item, held))

    def check(pair: tuple[MoveItem, HeldBadge]) -> None:
        item, held = pair
        item.proof, item.proof_reason = _compare(item, held, loader, now)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(check, found))


def _gone(report: MoveReport, holdings: Sequence[HeldBadge], again: set[int]) -> None:
    """Badges proved before whose copy the target no longer shows are missing now."""
    present = {held.remote_id for held in holdings}
    for item in report.items:
        shown = item.target_shows
        if id(item) in again or shown is None or shown.remote_id in present:
            continue
        item.target_shows = None
        item.proof = Proof.MISSING
        item.proof_reason = "the target no longer shows it (a later send replaced it)"


def _missing(item: MoveItem) -> str:
    if item.sends > 1:
        return f"the target does not show it (dropped: sent {item.sends} times)"
    return "the target does not show it"


def _compare(
    item: MoveItem, held: HeldBadge, loader: DocumentLoader, now: datetime | None
) -> tuple[Proof, str]:
    facts = item.facts
    # A re-issued copy names the site's issuer by its DID, not by the 2.0 profile URL.
    issuer = facts.issuer if item.reissue is None else item.reissue.issuer
    for name, ours, theirs in (
        ("issuer", issuer, held.issuer),
        ("achievement", facts.achievement, held.achievement),
    ):
        if ours is not None and theirs is not None and ours != theirs:
            return Proof.DIFFERS, f"the target shows {name} {theirs}, not {ours}"
    if held.recipient is not None and not recipient_of(held.recipient, item.recipient):
        return Proof.DIFFERS, f"the target's copy is not awarded to {item.recipient}"
    if held.payload is None:
        return Proof.PROVED, "present, same issuer, achievement and recipient"
    emails = [item.recipient] if item.recipient else []
    again = verify_badge(SourceBadge(held.remote_id, "target", held.payload), loader, emails, now)
    if again.verdict not in (Verdict.VALID, item.verdict):
        return Proof.NO_LONGER_VERIFIES, f"{again.verdict.value}: {again.reason}"
    return Proof.PROVED, f"present, same issuer, achievement and recipient; {again.verdict.value}"
