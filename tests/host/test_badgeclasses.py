"""Badge classes over real HTTP: both create routes, images, pagination, update, delete."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from openbackpack.host import RunningHost
from tests.host._helpers import (
    JPEG_URI,
    PNG,
    SVG_URI,
    Account,
    award,
    create_badgeclass,
    error,
    result,
)


def test_create_under_issuer_keeps_moodles_fields(
    http: httpx2.Client, host: RunningHost, account: Account, issuer: Any
) -> None:
    """Moodle's badge class body gives 201 and Badgr's BadgeClass item, key order included."""
    item = create_badgeclass(
        http,
        host,
        account,
        issuer,
        alignments=[{"targetName": "Skill A", "targetUrl": "https://example.org/a"}],
        tags=["moodle"],
        expires={"amount": 2, "duration": "years"},
    )
    assert list(item)[:7] == [
        "entityType",
        "entityId",
        "openBadgeId",
        "createdAt",
        "createdBy",
        "issuer",
        "issuerOpenBadgeId",
    ]
    assert item["issuer"] == issuer["entityId"]
    assert item["createdBy"] == account.user.entity_id
    assert item["criteriaNarrative"] == "Complete all activities"
    assert item["alignments"] == [
        {
            "targetName": "Skill A",
            "targetUrl": "https://example.org/a",
            "targetDescription": None,
            "targetFramework": None,
            "targetCode": None,
        }
    ]
    assert item["tags"] == ["moodle"]
    assert item["expires"] == {"amount": 2, "duration": "years"}
    image = http.get(item["image"])
    assert (image.status_code, image.content) == (200, PNG)


def test_create_with_issuer_in_body_and_svg_or_multipart_images(
    http: httpx2.Client, host: RunningHost, account: Account, issuer: Any
) -> None:
    """POST /v2/badgeclasses takes the issuer from the body; SVG and file uploads work."""
    body = {"name": "SVG", "description": "d", "image": SVG_URI, "issuer": issuer["entityId"]}
    item = result(
        http.post(f"{host.api_url}/badgeclasses", json=body, headers=account.headers), 201
    )
    assert http.get(item["image"]).headers["content-type"].startswith("image/svg+xml")
    multipart = http.post(
        f"{host.api_url}/issuers/{issuer['entityId']}/badgeclasses",
        data={"name": "Upload", "description": "d", "tags": ["a", "b"]},
        files={"image": ("badge.png", PNG, "application/octet-stream")},
        headers=account.headers,
    )
    assert result(multipart, 201)["tags"] == ["a", "b"]
    missing = error(
        http.post(
            f"{host.api_url}/badgeclasses", json={**body, "issuer": None}, headers=account.headers
        ),
        400,
    )
    assert missing["fieldErrors"] == {"issuer": "This field is required"}
    unknown = error(
        http.post(
            f"{host.api_url}/badgeclasses", json={**body, "issuer": "nope"}, headers=account.headers
        ),
        400,
    )
    assert unknown["fieldErrors"]["issuer"] == ['Invalid entity_id "nope" - object does not exist.']


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (None, "Valid image file or data URI required."),
        ("https://example.org/badge.png", "Valid image file or data URI required."),
        (JPEG_URI, ["Invalid PNG"]),
        ("data:image/png;base64," + base64.b64encode(b"garbage").decode(), ["Invalid image."]),
        ("data:application/x-thing;base64,AAAA", ["Invalid MIME type"]),
    ],
)
def test_badgeclass_image_is_checked_by_content(
    http: httpx2.Client, host: RunningHost, account: Account, issuer: Any, image: Any, message: Any
) -> None:
    """Only PNG or SVG content is accepted; a URL counts as no image, as in Badgr."""
    body = {"name": "B", "description": "d", "image": image}
    url = f"{host.api_url}/issuers/{issuer['entityId']}/badgeclasses"
    answer = error(http.post(url, json=body, headers=account.headers), 400)
    assert answer["fieldErrors"] == {"image": message}


def test_badgeclass_field_errors(
    http: httpx2.Client, host: RunningHost, account: Account, issuer: Any
) -> None:
    """Required fields, markdown images, alignments and expiry are validated per field."""
    body = {
        "criteriaNarrative": "![x](y)",
        "alignments": [{"targetName": "A", "targetUrl": "nope"}],
        "expires": {"amount": 0, "duration": "eons"},
        "tags": "single",
    }
    url = f"{host.api_url}/issuers/{issuer['entityId']}/badgeclasses"
    answer = error(http.post(url, json=body, headers=account.headers), 400)
    errors = answer["fieldErrors"]
    assert errors["name"] == ["This field is required."]
    assert errors["description"] == ["This field is required."]
    assert errors["criteriaNarrative"] == ["Images not supported in markdown"]
    assert errors["alignments"] == [{"targetUrl": ["Enter a valid URL."]}]
    assert set(errors["expires"]) == {"amount", "duration"}


def test_badgeclass_lists_paginate_only_with_num(
    http: httpx2.Client, host: RunningHost, account: Account, issuer: Any
) -> None:
    """Without num everything comes back; with num pages go newest first with Link headers."""
    made = [create_badgeclass(http, host, account, issuer, name=f"B{i}") for i in range(3)]
    url = f"{host.api_url}/issuers/{issuer['entityId']}/badgeclasses"
    everything = http.get(url, headers=account.headers)
    assert [b["name"] for b in everything.json()["result"]] == ["B0", "B1", "B2"]
    assert "link" not in everything.headers
    first = http.get(url, params={"num": 2}, headers=account.headers)
    assert [b["name"] for b in first.json()["result"]] == ["B2", "B1"]
    next_url = first.headers["link"].split(">")[0].lstrip("<")
    assert first.headers["link"].endswith('rel="next"')
    assert parse_qs(urlsplit(next_url).query)["num"] == ["2"]
    second = http.get(next_url, headers=account.headers)
    assert [b["name"] for b in second.json()["result"]] == ["B0"]
    assert second.headers["link"].endswith('rel="prev"')
    flat = http.get(f"{host.api_url}/badgeclasses", params={"num": "x"}, headers=account.headers)
    assert len(flat.json()["result"]) == len(made)
    error(http.get(url, params={"num": 1, "cursor": "!!"}, headers=account.headers), 404)


def test_update_and_delete_badgeclass(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """PUT replaces fields and keeps the image when none is sent; DELETE needs no live awards."""
    url = f"{host.api_url}/badgeclasses/{badgeclass['entityId']}"
    body = {"name": "New", "description": "New text", "image": badgeclass["image"]}
    updated = result(http.put(url, json=body, headers=account.headers))
    assert (updated["name"], updated["description"]) == ("New", "New text")
    assert result(http.get(url, headers=account.headers)) == updated
    given = award(http, host, account, badgeclass, "earner@example.org")
    blocked = error(http.delete(url, headers=account.headers), 400)
    assert blocked["status"]["description"].startswith("BadgeClass may only be deleted")
    issuer_url = f"{host.api_url}/issuers/{badgeclass['issuer']}"
    error(http.delete(issuer_url, headers=account.headers), 400)
    revoke = {"revocation_reason": "done"}
    http.request(
        "DELETE",
        f"{host.api_url}/assertions/{given['entityId']}",
        json=revoke,
        headers=account.headers,
    )
    assert http.delete(url, headers=account.headers).status_code == 204
    error(http.get(url, headers=account.headers), 404)
