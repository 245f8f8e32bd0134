"""Public Open Badges JSON and images, without authentication."""

from __future__ import annotations

import json
from typing import Any

import httpx2

from openbackpack.host import RunningHost
from openbackpack.host._images import unbake
from tests.host._helpers import PNG, Account, award, error


def test_public_assertion_badge_and_issuer_json(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """The three public documents are OB 2.0 JSON linked by URL, with +00:00 timestamps."""
    given = award(
        http,
        host,
        account,
        badgeclass,
        "pub@example.org",
        narrative="Work",
        evidence=[{"url": "https://e.org/1"}],
    )
    document = http.get(given["openBadgeId"], headers={"Accept": "application/json"})
    assert document.headers["content-type"] == "application/json"
    assertion = document.json()
    assert list(assertion)[:6] == ["@context", "type", "id", "badge", "image", "verification"]
    assert assertion["id"] == given["openBadgeId"]
    assert assertion["verification"] == {"type": "HostedBadge"}
    assert assertion["issuedOn"] == "2024-01-02T03:04:05+00:00"
    assert assertion["evidence"] == [{"type": "Evidence", "id": "https://e.org/1"}]
    assert assertion["recipient"]["identity"] == given["recipient"]["identity"]
    assert "plaintextIdentity" not in assertion["recipient"]
    badge = http.get(assertion["badge"]).json()
    assert (badge["type"], badge["name"], badge["issuer"]) == (
        "BadgeClass",
        badgeclass["name"],
        badgeclass["issuerOpenBadgeId"],
    )
    assert badge["criteria"] == {
        "id": badgeclass["criteriaUrl"],
        "narrative": "Complete all activities",
    }
    issuer = http.get(badge["issuer"]).json()
    assert (issuer["type"], issuer["email"]) == ("Issuer", account.email)
    assert "image" not in issuer


def test_public_variants_suffix_expand_and_media_types(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """.json forces application/json, no Accept gives ld+json, expand embeds the documents."""
    given = award(http, host, account, badgeclass, "variants@example.org")
    suffixed = http.get(given["openBadgeId"] + ".json")
    assert suffixed.headers["content-type"] == "application/json"
    bare = httpx2.get(given["openBadgeId"], headers={"Accept": "*/*"})
    assert bare.headers["content-type"] == "application/ld+json"
    expanded = http.get(
        given["openBadgeId"], params=[("expand", "badge"), ("expand", "badge.issuer")]
    ).json()
    assert expanded["badge"]["issuer"]["type"] == "Issuer"
    with_issuer = http.get(badgeclass["openBadgeId"], params={"expand": "issuer"}).json()
    assert with_issuer["issuer"]["id"] == badgeclass["issuerOpenBadgeId"]
    listing = http.get(f"{badgeclass['issuerOpenBadgeId']}/badges").json()
    assert [b["id"] for b in listing] == [badgeclass["openBadgeId"]]


def test_revoked_assertion_is_still_200_with_revoked_true(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """A revoked award's public JSON keeps only its id and revocation; its image is gone."""
    given = award(http, host, account, badgeclass, "revoked@example.org")
    http.request(
        "DELETE",
        f"{host.api_url}/assertions/{given['entityId']}",
        json={"revocation_reason": "Issued in error"},
        headers=account.headers,
    )
    response = http.get(given["openBadgeId"])
    assert response.status_code == 200
    assert response.json() == {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": given["openBadgeId"],
        "revoked": True,
        "revocationReason": "Issued in error",
    }
    error(http.get(given["image"]), 404)


def test_unknown_public_ids_are_the_v2_404(http: httpx2.Client, host: RunningHost) -> None:
    """Unknown ids on every public route answer the v2 404 envelope."""
    for kind in ("assertions", "badges", "issuers"):
        error(http.get(f"{host.base_url}/public/{kind}/nope"), 404)
        error(http.get(f"{host.base_url}/public/{kind}/nope/image"), 404)
    error(http.get(f"{host.base_url}/public/collections/nope"), 404)
    error(http.get(f"{host.base_url}/public/issuers/nope/badges"), 404)


def test_images_resolve_and_assertion_images_are_baked(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """Badge images are the uploaded bytes; award images carry the assertion in an iTXt chunk."""
    given = award(http, host, account, badgeclass, "baked@example.org")
    assert http.get(badgeclass["image"]).content == PNG
    baked = http.get(given["image"])
    assert baked.headers["content-type"] == "image/png"
    text = unbake(baked.content)
    assert text is not None
    assert json.loads(text)["id"] == given["openBadgeId"]
    issuer_image = http.get(f"{badgeclass['issuerOpenBadgeId']}/image")
    assert issuer_image.status_code == 404
