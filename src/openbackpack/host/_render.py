"""Rows to JSON: Badgr v2 entities, public Open Badges 2.0 documents, Displayer items.

Key order follows badgr-wire.md (§4.1-§4.3, §5.1, §5.3, §6): clients that compare bytes or
read the first keys see what Badgr sends.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from sqlalchemy import Row

from openbackpack.host._accounts import HostUser
from openbackpack.host._wire import ob_time, v2_time

__all__ = [
    "OB2_CONTEXT",
    "assertion_ob",
    "assertion_v2",
    "badgeclass_ob",
    "badgeclass_v2",
    "collection_ob",
    "collection_v2",
    "imported_item",
    "issuer_ob",
    "issuer_v2",
    "local_item",
    "public_url",
    "recipient_ob",
    "recipient_v2",
]

OB2_CONTEXT: Final = "https://w3id.org/openbadges/v2"
_KIND_PATH: Final = {"assertion": "assertions", "badgeclass": "badges", "issuer": "issuers"}
# Keys of an imported assertion that the backpack item already says in its own words.
_ITEM_KEYS: Final = frozenset(
    {
        "@context",
        "type",
        "id",
        "badge",
        "recipient",
        "verification",
        "verify",
        "evidence",
        "image",
        "issuedOn",
        "expires",
        "narrative",
        "revoked",
        "revocationReason",
        "uid",
        "entityType",
        "entityId",
        "acceptance",
        "openBadgeId",
        "badgeclass",
        "badgeclassOpenBadgeId",
        "issuer",
        "issuerOpenBadgeId",
        "pending",
    }
)


def public_url(origin: str, kind: str, entity_id: str, suffix: str = "") -> str:
    """The public URL of an entity: ``{origin}/public/{assertions|badges|issuers}/{eid}``."""
    return f"{origin}/public/{_KIND_PATH[kind]}/{entity_id}{suffix}"


def _loads(text: str | None, default: Any) -> Any:
    return json.loads(text) if text else default


def _hash(identity: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((identity + salt).encode("utf-8")).hexdigest()


def recipient_v2(identity: str, kind: str, hashed: bool, salt: str) -> dict[str, Any]:
    """A v2 recipient: hashed identity with its salt, plus Badgr's ``plaintextIdentity``."""
    if not hashed:
        return {"identity": identity, "hashed": False, "type": kind, "plaintextIdentity": identity}
    return {
        "identity": _hash(identity, salt),
        "hashed": True,
        "type": kind,
        "plaintextIdentity": identity,
        "salt": salt,
    }


def recipient_ob(identity: str, kind: str, hashed: bool, salt: str) -> dict[str, Any]:
    """An OB 2.0 IdentityObject (no plain identity when hashed)."""
    if not hashed:
        return {"hashed": False, "type": kind, "identity": identity}
    return {"hashed": True, "type": kind, "identity": _hash(identity, salt), "salt": salt}


def _user_profile(user: HostUser) -> dict[str, Any]:
    return {
        "entityType": "BadgeUser",
        "entityId": user.entity_id,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "emails": [
            {
                "email": email,
                "verified": email in user.verified_emails,
                "primary": index == 0,
                "caseVariants": [],
            }
            for index, email in enumerate(user.emails)
        ],
        "url": [],
        "telephone": [],
        "badgrDomain": "",
    }


def issuer_v2(issuer: Row[Any], owner: HostUser, origin: str, domain: str) -> dict[str, Any]:
    """A v2 Issuer entity (``staff`` lists the owner)."""
    image = public_url(origin, "issuer", issuer.entity_id, "/image") if issuer.image else None
    return {
        "entityType": "Issuer",
        "entityId": issuer.entity_id,
        "openBadgeId": public_url(origin, "issuer", issuer.entity_id),
        "createdAt": v2_time(issuer.created_at),
        "createdBy": owner.entity_id,
        "name": issuer.name,
        "image": image,
        "email": issuer.email,
        "description": issuer.description,
        "url": issuer.url,
        "staff": [{"userProfile": _user_profile(owner), "user": owner.entity_id, "role": "owner"}],
        "extensions": _loads(issuer.extensions, {}),
        "badgrDomain": domain,
    }


def issuer_ob(issuer: Row[Any], origin: str) -> dict[str, Any]:
    """The public OB 2.0 Issuer (Profile) JSON; ``image`` only when there is one."""
    document: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "type": "Issuer",
        "id": public_url(origin, "issuer", issuer.entity_id),
        "name": issuer.name,
        "url": issuer.url,
        "email": issuer.email,
        "description": issuer.description,
    }
    if issuer.image:
        document["image"] = public_url(origin, "issuer", issuer.entity_id, "/image")
    return document


def _alignments_v2(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    keys = ("targetName", "targetUrl", "targetDescription", "targetFramework", "targetCode")
    return [{key: item.get(key) for key in keys} for item in items]


def badgeclass_v2(bc: Row[Any], issuer: Row[Any], owner_eid: str, origin: str) -> dict[str, Any]:
    """A v2 BadgeClass entity."""
    return {
        "entityType": "BadgeClass",
        "entityId": bc.entity_id,
        "openBadgeId": public_url(origin, "badgeclass", bc.entity_id),
        "createdAt": v2_time(bc.created_at),
        "createdBy": owner_eid,
        "issuer": issuer.entity_id,
        "issuerOpenBadgeId": public_url(origin, "issuer", issuer.entity_id),
        "name": bc.name,
        "image": public_url(origin, "badgeclass", bc.entity_id, "/image"),
        "description": bc.description,
        "criteriaUrl": bc.criteria_url,
        "criteriaNarrative": bc.criteria_narrative,
        "alignments": _alignments_v2(_loads(bc.alignments, [])),
        "tags": _loads(bc.tags, []),
        "expires": {"amount": bc.expires_amount, "duration": bc.expires_duration},
        "extensions": _loads(bc.extensions, {}),
    }


def badgeclass_ob(
    bc: Row[Any], issuer: Row[Any], origin: str, *, expand_issuer: bool = False
) -> dict[str, Any]:
    """The public OB 2.0 BadgeClass JSON; the issuer embedded when asked."""
    criteria = {
        key: value
        for key, value in (("id", bc.criteria_url), ("narrative", bc.criteria_narrative))
        if value
    }
    alignment = [
        {key: value for key, value in item.items() if value not in (None, "")}
        for item in _alignments_v2(_loads(bc.alignments, []))
    ]
    return {
        "@context": OB2_CONTEXT,
        "type": "BadgeClass",
        "id": public_url(origin, "badgeclass", bc.entity_id),
        "name": bc.name,
        "description": bc.description,
        "issuer": issuer_ob(issuer, origin)
        if expand_issuer
        else public_url(origin, "issuer", issuer.entity_id),
        "image": public_url(origin, "badgeclass", bc.entity_id, "/image"),
        "criteria": criteria,
        "alignment": alignment,
        "tags": _loads(bc.tags, []),
        **_loads(bc.extensions, {}),
    }


def _evidence_v2(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"url": item.get("url"), "narrative": item.get("narrative")} for item in items]


def assertion_v2(a: Row[Any], origin: str) -> dict[str, Any]:
    """A v2 Assertion entity (issuer side); ``a`` joins the award, badge class and issuer."""
    image = None if a.revoked else public_url(origin, "assertion", a.entity_id, "/image")
    return {
        "entityType": "Assertion",
        "entityId": a.entity_id,
        "openBadgeId": public_url(origin, "assertion", a.entity_id),
        "createdAt": v2_time(a.created_at),
        "createdBy": a.created_by,
        "badgeclass": a.bc_eid,
        "badgeclassOpenBadgeId": public_url(origin, "badgeclass", a.bc_eid),
        "issuer": a.issuer_eid,
        "issuerOpenBadgeId": public_url(origin, "issuer", a.issuer_eid),
        "image": image,
        "recipient": recipient_v2(a.recipient_identity, a.recipient_type, a.hashed, a.salt),
        "issuedOn": v2_time(a.issued_on),
        "narrative": a.narrative,
        "evidence": _evidence_v2(_loads(a.evidence, [])),
        "revoked": a.revoked,
        "revocationReason": a.revocation_reason,
        "acceptance": a.acceptance,
        "expires": v2_time(a.expires),
        "extensions": _loads(a.extensions, {}),
    }


def assertion_ob(
    a: Row[Any], origin: str, *, badge: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The public OB 2.0 Assertion; a revoked one keeps only its id and revocation."""
    assertion_id = public_url(origin, "assertion", a.entity_id)
    if a.revoked:
        return {
            "@context": OB2_CONTEXT,
            "type": "Assertion",
            "id": assertion_id,
            "revoked": True,
            "revocationReason": a.revocation_reason or "",
        }
    document: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": assertion_id,
        "badge": badge if badge is not None else public_url(origin, "badgeclass", a.bc_eid),
        "image": public_url(origin, "assertion", a.entity_id, "/image"),
        "verification": {"type": "HostedBadge"},
    }
    evidence = _loads(a.evidence, [])
    if evidence:
        document["evidence"] = [
            {"type": "Evidence"}
            | ({"id": item["url"]} if item.get("url") else {})
            | ({"narrative": item["narrative"]} if item.get("narrative") else {})
            for item in evidence
        ]
    if a.narrative:
        document["narrative"] = a.narrative
    document["issuedOn"] = ob_time(a.issued_on)
    if a.expires is not None:
        document["expires"] = ob_time(a.expires)
    document["recipient"] = recipient_ob(a.recipient_identity, a.recipient_type, a.hashed, a.salt)
    document.update(_loads(a.extensions, {}))
    return document


def local_item(a: Row[Any], origin: str, badgeclass: Any) -> dict[str, Any]:
    """A backpack item for an award made on this host (``badgeclass`` an eid or expanded)."""
    image = None if a.revoked else public_url(origin, "assertion", a.entity_id, "/image")
    return {
        "entityType": "Assertion",
        "entityId": a.entity_id,
        "acceptance": a.acceptance,
        "openBadgeId": public_url(origin, "assertion", a.entity_id),
        "badgeclass": badgeclass,
        "badgeclassOpenBadgeId": public_url(origin, "badgeclass", a.bc_eid),
        "issuer": a.issuer_eid,
        "issuerOpenBadgeId": public_url(origin, "issuer", a.issuer_eid),
        "image": image,
        "recipient": recipient_v2(a.recipient_identity, a.recipient_type, a.hashed, a.salt),
        "issuedOn": v2_time(a.issued_on),
        "narrative": a.narrative,
        "revoked": a.revoked,
        "revocationReason": a.revocation_reason,
        "expires": v2_time(a.expires),
        "pending": False,
    }


def _document_id(document: Any) -> Any:
    return document.get("id") if isinstance(document, Mapping) else document


def imported_item(item: Row[Any], api_url: str, badgeclass: Any) -> dict[str, Any]:
    """A backpack item for an imported award; unknown keys of the original are kept."""
    original = _loads(item.assertion_json, {})
    badge = _loads(item.badgeclass_json, {})
    image = f"{api_url}/backpack/assertions/{item.entity_id}/image" if item.image else None
    if image is None and isinstance(original.get("image"), str):
        image = original["image"]
    result = {
        "entityType": "Assertion",
        "entityId": item.entity_id,
        "acceptance": item.acceptance,
        "openBadgeId": item.source_url,
        "badgeclass": badgeclass,
        "badgeclassOpenBadgeId": _document_id(badge),
        "issuer": item.issuer_eid,
        "issuerOpenBadgeId": _document_id(_loads(item.issuer_json, {})),
        "image": image or _document_id(badge.get("image")),
        "recipient": recipient_v2(item.recipient_identity, "email", True, item.salt),
        "issuedOn": v2_time(item.issued_on),
        "narrative": original.get("narrative"),
        "revoked": False,
        "revocationReason": None,
        "expires": v2_time(item.expires),
        "pending": False,
    }
    result.update({k: v for k, v in original.items() if k not in _ITEM_KEYS})
    return result


def collection_v2(c: Row[Any], owner_eid: str, item_eids: list[str], origin: str) -> dict[str, Any]:
    """A v2 BackpackCollection entity."""
    share_url = f"{origin}/public/collections/{c.share_hash}" if c.share_hash else None
    return {
        "entityType": "BackpackCollection",
        "entityId": c.entity_id,
        "name": c.name,
        "description": c.description,
        "owner": owner_eid,
        "share_url": share_url,
        "shareHash": c.share_hash or "",
        "published": c.share_hash is not None,
        "assertions": item_eids,
    }


def collection_ob(
    c: Row[Any], owner: HostUser, badges: list[dict[str, Any]], origin: str
) -> dict[str, Any]:
    """Badgr's public Collection JSON of a published collection."""
    return {
        "@context": OB2_CONTEXT,
        "type": "Collection",
        "id": f"{origin}/public/collections/{c.share_hash}",
        "name": c.name,
        "description": c.description,
        "entityId": c.entity_id,
        "owner": {"firstName": owner.first_name, "lastName": owner.last_name},
        "badges": badges,
    }
