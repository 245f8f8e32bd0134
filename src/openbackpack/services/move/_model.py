"""What a move reads, decides and reports: badges, verdicts, plans and proofs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from openbackpack._exceptions import InvalidInputError

__all__ = [
    "DEFAULT_MOVE_CONCURRENCY",
    "DEFAULT_RESEND",
    "Action",
    "BadgeFacts",
    "HeldBadge",
    "MoveItem",
    "MoveReport",
    "Proof",
    "Reissue",
    "SourceBadge",
    "SourceDeletionUnsupportedError",
    "Verdict",
]

DEFAULT_MOVE_CONCURRENCY = 8
"""Badges verified and sent at once."""
DEFAULT_RESEND = 1
"""How many more times a badge the target dropped is sent."""


class Verdict(StrEnum):
    """What verifying a badge found."""

    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    RECIPIENT_MISMATCH = "recipient mismatch"
    INVALID = "invalid"
    UNVERIFIABLE = "cannot be verified"


class Action(StrEnum):
    """What the plan does with a badge."""

    ALREADY = "already at the target"
    MOVE = "move"
    CANNOT = "cannot be moved"
    LEAVE = "left behind"


class Proof(StrEnum):
    """What reading the target back showed for a badge that should be there."""

    PROVED = "proved"
    MISSING = "missing"
    DIFFERS = "differs"
    NO_LONGER_VERIFIES = "no longer verifies"
    NOT_CHECKED = "not checked"


class SourceDeletionUnsupportedError(InvalidInputError):
    """``delete_source`` was asked of a source that cannot delete badges."""


@dataclass(frozen=True, slots=True)
class SourceBadge:
    """One badge as the source holds it.

    ``key`` is stable across runs (a file path, the source's assertion id); ``payload`` is what
    the verifier reads (a JSON object, a JWT, a hosted URL, or the bytes of a baked image);
    ``remote_id`` names it at the source for deletion.
    """

    key: str
    where: str
    payload: Mapping[str, Any] | str | bytes
    image: bytes | None = None
    remote_id: str | None = None


@dataclass(frozen=True, slots=True)
class BadgeFacts:
    """What a badge is, as far as it could be read: its kind, ids and the document verified.

    ``format`` is ``ob2`` (an Open Badges 2.0 assertion) or ``ob3`` (a 3.0 credential);
    ``hosted`` says a 2.0 assertion is verified by fetching its ``id`` (hosted verification).
    """

    format: str
    id: str | None
    issuer: str | None
    achievement: str | None
    hosted: bool = False
    document: Mapping[str, Any] | str | None = None


@dataclass(frozen=True, slots=True)
class Reissue:
    """How this site re-issues one of its own 2.0 awards for an Open Badges 3.0 target.

    ``credential_id`` is the id of the re-issued credential, the same for every signing of
    the award (so a repeated upsert replaces, and a later run finds it); ``issuer`` is the
    issuer id (a DID) that credential names.
    """

    award: str
    credential_id: str
    issuer: str
    recipient_email: str | None = None
    """Set when the badge is the award's hosted copy for another of the owner's verified
    emails (``.../recipients/DIGEST``): the copy is re-issued, made out to that address."""


@dataclass(frozen=True, slots=True)
class HeldBadge:
    """A badge the target holds: its target id and what it says it is."""

    remote_id: str
    id: str | None
    issuer: str | None
    achievement: str | None
    recipient: Any
    payload: Mapping[str, Any] | str | None
    format: str = "ob2"

    def to_json(self) -> dict[str, Any]:
        """What the target shows, as JSON-ready data."""
        return {
            "remote_id": self.remote_id,
            "id": self.id,
            "issuer": self.issuer,
            "achievement": self.achievement,
        }


@dataclass(slots=True)
class MoveItem:
    """One badge of a move: where it came from, the verdict, the plan, what happened.

    ``sends`` counts the times this run sent the badge to the target (0 when an earlier run
    sent it); ``resent_present`` is ``None`` unless the badge was sent again because the proof
    found it missing, then whether the target showed it after its re-sends. ``reissue`` is set
    when the badge goes (or went) to the target re-issued by this site as a 3.0 credential.
    ``failure`` is the error behind ``error`` when sending failed (a worker retries a 429 or
    a 5xx later); it is not part of the report's JSON.
    """

    source: SourceBadge
    verdict: Verdict
    reason: str
    facts: BadgeFacts
    recipient: str | None = None
    issuer_gone: bool = False
    action: Action = Action.LEAVE
    how: str = ""
    why: str = ""
    done: str = "nothing"
    remote_id: str | None = None
    proof: Proof = Proof.NOT_CHECKED
    proof_reason: str = ""
    target_shows: HeldBadge | None = None
    deleted: bool = False
    error: str | None = None
    sends: int = 0
    resent_present: bool | None = None
    reissue: Reissue | None = None
    failure: Exception | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The badge's line of the report, as JSON-ready data."""
        return {
            "source": self.source.where,
            "key": self.source.key,
            "id": self.facts.id,
            "format": self.facts.format,
            "issuer": self.facts.issuer,
            "achievement": self.facts.achievement,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "action": self.action.value,
            "how": self.how,
            "why": self.why,
            "done": self.done,
            "proof": self.proof.value,
            "proof_reason": self.proof_reason,
            "target_shows": None if self.target_shows is None else self.target_shows.to_json(),
            "deleted_at_source": self.deleted,
            "error": self.error,
            "sends": self.sends,
            "resent_present": self.resent_present,
            "reissued_as": None if self.reissue is None else self.reissue.credential_id,
        }


@dataclass(slots=True)
class MoveReport:
    """The whole move, badge by badge, in the source's order.

    ``stopped``: the move's ``should_stop`` said stop; badges not started by then were not
    sent, and nothing was proved nor deleted.
    """

    source: str
    target: str
    dry_run: bool
    items: list[MoveItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stopped: bool = False

    def count(self, action: Action) -> int:
        """How many badges the plan gave ``action``."""
        return sum(1 for item in self.items if item.action is action)

    @property
    def failed(self) -> list[MoveItem]:
        """Badges that should be at the target and are not proved there."""
        return [
            item
            for item in self.items
            if item.action in (Action.MOVE, Action.ALREADY)
            and (item.error is not None or (not self.dry_run and item.proof is not Proof.PROVED))
        ]

    @property
    def complete(self) -> bool:
        """Whether every badge meant for the target is proved there (a dry run: none failed).

        A stopped move is not complete.
        """
        return not self.failed and not self.stopped

    def summary(self) -> dict[str, Any]:
        """The report without its badges, as JSON-ready data."""
        return {
            "source": self.source,
            "target": self.target,
            "dry_run": self.dry_run,
            "complete": self.complete,
            "counts": {action.value: self.count(action) for action in Action},
            "notes": list(self.notes),
        }

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {**self.summary(), "badges": [item.to_json() for item in self.items]}
