"""The proof of a move: read the target back, compare each badge with the plan, verify it again.

Every copy the target shows is verified again with the proof's own loader (fresh, so that
nothing the plan's verification read is trusted). A move sends many badges at the target's
rate limit, and waits on it between them; so :class:`SentVerdicts` verifies each document the
move sent, with that same loader, as soon as the target has taken it, and the proof reuses
the verdict for a copy that is that very document (the same JSON, to the character). Only
a copy the target changed, or one the move did not send, is verified when the proof reads
it. The verdict is the one the proof would reach: the same document, the same loader (its
status lists and DID documents read once for the whole proof), the same emails.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

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

__all__ = ["SentVerdicts", "prove", "prove_with"]


class SentVerdicts:
    """The proof's verdicts on the documents a move sent, reached while it was sending.

    Keyed by the document's JSON (keys sorted) or a VC-JWT's text, and by the email it is
    verified against. Safe to use from every thread of a move.
    """

    def __init__(self, loader: DocumentLoader, now: datetime | None = None) -> None:
        self.loader = loader
        self.now = now
        self._verdicts: dict[tuple[bytes, str | None], tuple[Verdict, str]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._verdicts)

    def verify_sent(self, item: MoveItem) -> None:
        """Verify the document the move just sent for ``item`` (if it sent one) and keep it."""
        if item.sent is None or item.error is not None:
            return
        key = _key(item.sent, item.recipient)
        if key is None:
            return
        verdict = self._reach(item.sent, item.recipient, item.facts.id or item.source.key)
        with self._lock:
            self._verdicts[key] = verdict

    def verify(self, payload: Any, email: str | None, name: str) -> tuple[Verdict, str]:
        """The verdict on ``payload`` (``name`` is its id) for ``email``: kept, or reached now."""
        key = _key(payload, email)
        if key is not None:
            with self._lock:
                kept = self._verdicts.get(key)
            if kept is not None:
                return kept
        return self._reach(payload, email, name)

    def _reach(self, payload: Any, email: str | None, name: str) -> tuple[Verdict, str]:
        emails = [email] if email else []
        again = verify_badge(SourceBadge(name, "target", payload), self.loader, emails, self.now)
        return again.verdict, again.reason


def _key(payload: Any, email: str | None) -> tuple[bytes, str | None] | None:
    """The payload's digest (JSON with its keys sorted, or a JWT's text), with the email."""
    if isinstance(payload, str):
        text = payload
    elif isinstance(payload, Mapping):
        try:
            text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError):
            return None  # not plain JSON: verified where it is read, never matched
    else:
        return None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest(), email


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
    prove_with(report, target, SentVerdicts(loader, now), concurrency, only)


def prove_with(
    report: MoveReport,
    target: Target,
    verdicts: SentVerdicts,
    concurrency: int = DEFAULT_MOVE_CONCURRENCY,
    only: Sequence[MoveItem] | None = None,
) -> None:
    """:func:`prove`, reusing the verdicts reached on the documents as they were sent."""
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
        item.proof, item.proof_reason = _compare(item, held, verdicts)

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


def _compare(item: MoveItem, held: HeldBadge, verdicts: SentVerdicts) -> tuple[Proof, str]:
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
    verdict, reason = verdicts.verify(held.payload, item.recipient, held.remote_id)
    if verdict not in (Verdict.VALID, item.verdict):
        return Proof.NO_LONGER_VERIFIES, f"{verdict.value}: {reason}"
    return Proof.PROVED, f"present, same issuer, achievement and recipient; {verdict.value}"
