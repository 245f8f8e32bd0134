"""The plan for one verified badge, and finding a badge among what the target holds."""

from __future__ import annotations

from collections.abc import Iterable

from openbackpack.services.move._interfaces import Target
from openbackpack.services.move._model import Action, HeldBadge, MoveItem, Verdict
from openbackpack.services.move._verdict import held_matches, recipient_of

__all__ = ["match_held", "plan_item"]


def _same_award(item: MoveItem, held: HeldBadge) -> bool:
    verdict = held_matches(item, held.id, held.format)
    if verdict is not None:
        return verdict
    # Ids that cannot be compared (one unknown, or a 3.0 copy of a 2.0 badge): the issuer,
    # the achievement and the recipient decide.
    facts = item.facts
    return (
        facts.issuer is not None
        and facts.achievement is not None
        and held.issuer == facts.issuer
        and held.achievement == facts.achievement
        and recipient_of(held.recipient, item.recipient)
    )


def match_held(
    item: MoveItem, holdings: Iterable[HeldBadge], taken: set[str] | None = None
) -> HeldBadge | None:
    """The held badge that is ``item``: by the target's id, by the badge's id, or by content.

    A badge this site re-issues is also found by the re-issued credential's id. ``taken``
    holds target ids already matched to other badges, which are skipped.
    """
    candidates = [h for h in holdings if taken is None or h.remote_id not in taken]
    for held in candidates:
        if item.remote_id is not None and held.remote_id == item.remote_id:
            return held
    # A badge this site re-issues is held under the re-issued credential's id, which names
    # another issuer (a DID) than the 2.0 badge: its id, not its content, finds it.
    for held in candidates:
        if item.reissue is not None and held.id == item.reissue.credential_id:
            return held
    for held in candidates:
        if item.facts.id is not None and held.id == item.facts.id:
            return held
    return next((held for held in candidates if _same_award(item, held)), None)


def plan_item(item: MoveItem, target: Target, holdings: Iterable[HeldBadge]) -> None:
    """Decide what happens to the badge: left behind, already there, cannot go, or move."""
    if item.verdict is Verdict.REVOKED:
        item.action, item.why = Action.LEAVE, f"revoked: {item.reason}"
        return
    if item.verdict is Verdict.INVALID:
        item.action, item.why = Action.LEAVE, f"invalid: {item.reason}"
        return
    held = match_held(item, holdings)
    if held is not None:
        item.action, item.target_shows, item.remote_id = Action.ALREADY, held, held.remote_id
        item.why = f"the target holds it as {held.remote_id}"
        if item.reissue is not None and held.id == item.reissue.credential_id:
            item.why += f", re-issued by this site as 3.0 credential {held.id}"
        return
    if item.verdict is Verdict.RECIPIENT_MISMATCH:
        item.action = Action.CANNOT
        item.why = f"not awarded to the learner's verified emails: {item.reason}"
        return
    refusal = target.refusal(item)
    if refusal is not None:
        item.action, item.why = Action.CANNOT, refusal
        return
    item.action, item.how = Action.MOVE, target.method(item)
