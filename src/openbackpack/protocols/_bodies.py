"""Request bodies: Moodle's request exporters (moodle-backpack.md §3.4, §4.1), improved.

Each function takes an Open Badges 2.0 document (as the issuer side builds it, or as Moodle's
``core_badges_assertion`` produced it) and returns the body Badgr's v2 API accepts. Field
sets are Moodle's, plus what Moodle loses: alignments (Moodle looked for the wrong name, W9),
tags, evidence and the narrative.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "assertion_body",
    "badgeclass_body",
    "credentials_form",
    "email_form",
    "import_body",
    "issuer_body",
]

OB2_CONTEXT = "https://w3id.org/openbadges/v2"

_ALIGNMENT_KEYS = ("targetName", "targetUrl", "targetDescription", "targetFramework", "targetCode")


def credentials_form(email: str, password: str) -> dict[str, str]:
    """The token request of Badgr's password grant: ``username`` and ``password``."""
    return {"username": email, "password": password}


def email_form(email: str) -> dict[str, str]:
    """The Displayer lookup: ``email``."""
    return {"email": email}


def import_body(url: str) -> dict[str, str]:
    """A backpack import by URL."""
    return {"url": url}


def _pick(document: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {key: document[key] for key in keys if document.get(key) is not None}


def issuer_body(issuer: Mapping[str, Any]) -> dict[str, Any]:
    """An issuer: ``type``, ``id``, ``name``, ``email``, ``url``, and the description and image."""
    return _pick(issuer, "type", "id", "name", "email", "url", "description", "image")


def _criteria(badge: Mapping[str, Any]) -> dict[str, Any]:
    criteria = badge.get("criteria")
    if isinstance(criteria, Mapping):
        return _pick(
            {"criteriaUrl": criteria.get("id"), "criteriaNarrative": criteria.get("narrative")},
            "criteriaUrl",
            "criteriaNarrative",
        )
    if isinstance(criteria, str):
        return {"criteriaUrl": criteria}
    return _pick(badge, "criteriaUrl", "criteriaNarrative")


def _alignments(badge: Mapping[str, Any]) -> list[dict[str, Any]]:
    # OB 2.0 says ``alignment``; Moodle emits ``alignments``; Badgr reads ``alignments``.
    items = badge.get("alignment") or badge.get("alignments") or []
    if isinstance(items, Mapping):
        items = [items]
    return [_pick(item, *_ALIGNMENT_KEYS) for item in items if isinstance(item, Mapping)]


def badgeclass_body(badge: Mapping[str, Any]) -> dict[str, Any]:
    """A badge class: Moodle's field set plus ``alignments`` and ``tags``.

    ``criteria`` (an OB ``{id, narrative}`` object or a URL) becomes Badgr's ``criteriaUrl``
    and ``criteriaNarrative``.
    """
    body = _pick(badge, "type", "id", "name", "image", "description")
    body.update(_criteria(badge))
    alignments = _alignments(badge)
    if alignments:
        body["alignments"] = alignments
    if badge.get("tags"):
        body["tags"] = list(badge["tags"])
    return body


def _recipient(assertion: Mapping[str, Any]) -> dict[str, Any]:
    recipient = assertion.get("recipient") or {}
    return {
        "identity": recipient.get("identity"),
        "type": recipient.get("type", "email"),
        "hashed": bool(recipient.get("hashed", True)),
    }


def _evidence(assertion: Mapping[str, Any]) -> list[dict[str, Any]]:
    items = assertion.get("evidence") or []
    if isinstance(items, str | Mapping):
        items = [items]
    evidence = []
    for item in items:
        if isinstance(item, str):
            evidence.append({"url": item})
        elif isinstance(item, Mapping):
            entry = _pick({"url": item.get("id") or item.get("url"), **item}, "url", "narrative")
            if entry:
                evidence.append(entry)
    return evidence


def assertion_body(assertion: Mapping[str, Any]) -> dict[str, Any]:
    """An assertion, for creating or updating an award.

    Badgr validates ``recipient.identity`` as a plain email and uses ``hashed`` only to decide
    how to publish it, so the identity must be the plain address, as Moodle sends it.
    The verification URL is kept (Moodle drops it).
    """
    body = _pick(assertion, "type", "id", "issuedOn", "expires", "narrative")
    body["@context"] = assertion.get("@context", OB2_CONTEXT)
    badge = assertion.get("badge")
    if isinstance(badge, Mapping):
        embedded = badgeclass_body(badge)
        if badge.get("issuer") is not None:
            embedded["issuer"] = badge["issuer"]
        body["badge"] = embedded
    body["recipient"] = _recipient(assertion)
    verification = assertion.get("verification") or assertion.get("verify") or {}
    body["verification"] = _pick(
        {"type": "hosted", **verification} if isinstance(verification, Mapping) else {},
        "type",
        "url",
    )
    evidence = _evidence(assertion)
    if evidence:
        body["evidence"] = evidence
    return body
