"""Verify one badge with :func:`~openbackpack.credentials.verify_credential` and classify it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from openbackpack._exceptions import BackpackError
from openbackpack.credentials import (
    CheckOutcome,
    DocumentLoader,
    VerificationReport,
    read_jwt,
    unbake,
    verify_credential,
)
from openbackpack.models import match_recipient
from openbackpack.services.move._model import BadgeFacts, MoveItem, SourceBadge, Verdict

__all__ = ["classify", "facts_of", "held_matches", "recipient_of", "verify_badge"]

_FETCHED: Final = ("hosted assertion", "badge class", "issuer")
"""The checks of a hosted 2.0 badge that read its issuer's documents."""


def classify(report: VerificationReport) -> tuple[Verdict, str]:
    """The verdict a report gives, and its reason (the checks that decided it)."""
    failed = [c for c in report.checks if c.outcome is CheckOutcome.FAILED]
    unchecked = [c for c in report.checks if c.outcome is CheckOutcome.NOT_CHECKED]
    for check in failed:
        if check.name in ("status", "hosted assertion") and "revoked" in check.reason.lower():
            return Verdict.REVOKED, f"{check.name}: {check.reason}"
    other = [c for c in failed if c.name not in ("validity dates", "recipient")]
    if other or not report.checks:
        reasons = "; ".join(f"{c.name}: {c.reason}" for c in other) or "nothing could be read"
        return Verdict.INVALID, reasons
    dates = report.check("validity dates")
    if dates is not None and dates.outcome is CheckOutcome.FAILED:
        if "expired" in dates.reason:
            return Verdict.EXPIRED, dates.reason
        return Verdict.INVALID, f"validity dates: {dates.reason}"
    recipient = report.check("recipient")
    if recipient is not None and recipient.outcome is CheckOutcome.FAILED:
        return Verdict.RECIPIENT_MISMATCH, recipient.reason
    if unchecked:
        return Verdict.UNVERIFIABLE, "; ".join(f"{c.name}: {c.reason}" for c in unchecked)
    return Verdict.VALID, "every check passed"


def issuer_unreachable(report: VerificationReport) -> bool:
    """Whether the issuer's hosted documents could not be read (its host is gone)."""
    return any(c.name in _FETCHED and c.outcome is CheckOutcome.NOT_CHECKED for c in report.checks)


def _raw(payload: Mapping[str, Any] | str | bytes) -> Mapping[str, Any] | str | None:
    """The unverified document a payload carries (for its ids when verification failed)."""
    try:
        if isinstance(payload, bytes):
            payload = unbake(payload).payload.strip()
        if isinstance(payload, Mapping):
            return payload
        text = payload.strip()
        if text.startswith(("http://", "https://")):
            return text
        if text.startswith("{"):
            document = json.loads(text)
            return document if isinstance(document, dict) else None
        return read_jwt(text).credential
    except (BackpackError, ValueError):
        return None


def _id(value: Any) -> str | None:
    found = value.get("id") if isinstance(value, Mapping) else value
    return found if isinstance(found, str) else None


def _is_ob2(document: Mapping[str, Any]) -> bool:
    text = json.dumps(document.get("@context"))
    return "openbadges/v2" in text or "openbadgespec.org/v2" in text


def facts_of(badge: SourceBadge, report: VerificationReport, loader: DocumentLoader) -> BadgeFacts:
    """What the badge is: from the verified document, else from what the payload says."""
    document: Mapping[str, Any] | str | None = report.credential or _raw(badge.payload)
    hosted = report.check("hosted assertion") is not None
    if isinstance(document, str):
        return BadgeFacts("ob2", document, None, None, hosted=True, document=document)
    if document is None:
        return BadgeFacts("unknown", None, None, None)
    if report.kind.startswith("ob2") or _is_ob2(document):
        badge_ref = document.get("badge")
        issuer = _id(badge_ref.get("issuer")) if isinstance(badge_ref, Mapping) else None
        if issuer is None and isinstance(badge_ref, str):
            try:
                issuer = _id(loader.get(badge_ref).get("issuer"))
            except BackpackError:
                issuer = None
        signed = isinstance(badge.payload, str) and badge.payload.count(".") == 2
        return BadgeFacts(
            "ob2",
            _id(document),
            issuer,
            _id(badge_ref),
            hosted=hosted or not signed,
            document=document,
        )
    subject = document.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
    return BadgeFacts(
        "ob3", _id(document), _id(document.get("issuer")), _id(achievement), document=document
    )


def _verify(
    payload: Mapping[str, Any] | str | bytes,
    loader: DocumentLoader,
    recipient: str | None,
    now: datetime | None,
) -> VerificationReport:
    # Safe from many threads at once: the verifier's calls into pyld take turns on one lock
    # (openbackpack._jsonld_lock), and fetching runs outside it.
    return verify_credential(payload, loader=loader, recipient=recipient, now=now)


def verify_badge(
    badge: SourceBadge,
    loader: DocumentLoader,
    emails: Sequence[str],
    now: datetime | None = None,
) -> MoveItem:
    """Verify a badge against the learner's emails (the first that matches) and classify it."""
    report = _verify(badge.payload, loader, emails[0] if emails else None, now)
    matched = emails[0] if emails else None
    for email in emails[1:]:
        check = report.check("recipient")
        if check is None or check.outcome is not CheckOutcome.FAILED:
            break
        report = _verify(badge.payload, loader, email, now)
        matched = email
    check = report.check("recipient")
    if check is not None and check.outcome is CheckOutcome.FAILED:
        matched = None
    verdict, reason = classify(report)
    item = MoveItem(badge, verdict, reason, facts_of(badge, report, loader), matched)
    item.issuer_gone = issuer_unreachable(report)
    return item


def recipient_of(held_recipient: Any, email: str | None) -> bool:
    """Whether a held badge's recipient (an IdentityObject, or a 3.0 subject) is ``email``."""
    if email is None or not isinstance(held_recipient, Mapping):
        return False
    if "identity" in held_recipient:
        return match_recipient(held_recipient, email).matched
    identifiers = held_recipient.get("identifier") or []
    for identity in identifiers if isinstance(identifiers, list) else [identifiers]:
        if not isinstance(identity, Mapping):
            continue
        recipient = {
            "type": "email",
            "identity": identity.get("identityHash"),
            "hashed": identity.get("hashed") in (True, "true"),
            "salt": identity.get("salt"),
        }
        if isinstance(recipient["identity"], str) and match_recipient(recipient, email).matched:
            return True
    return held_recipient.get("id") == f"mailto:{email}"


def held_matches(item: MoveItem, held_id: str | None, held_format: str) -> bool | None:
    """True: same id; False: both ids known, same kind, different (two awards); None: look."""
    if item.facts.id is not None and held_id == item.facts.id:
        return True
    if item.facts.id is not None and held_id is not None and held_format == item.facts.format:
        return False
    return None
