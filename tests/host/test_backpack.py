"""The backpack over real HTTP: awarded badges, acceptance, collections, imports."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from openbackpack.host import RunningHost
from openbackpack.host._images import PNG, StoredImage, bake
from tests.host._helpers import (
    PNG as PNG_BYTES,
)
from tests.host._helpers import (
    SVG,
    Account,
    award,
    error,
    new_account,
    result,
)
from tests.host.conftest import Documents


def _backpack(http: httpx2.Client, host: RunningHost, account: Account, **params: Any) -> list[Any]:
    response = http.get(
        f"{host.api_url}/backpack/assertions", params=params, headers=account.headers
    )
    assert response.status_code == 200
    return list(response.json()["result"])


def test_awarded_badge_shows_in_the_recipients_backpack(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """An award to an account's verified e-mail is in its backpack, expandable as Moodle asks."""
    earner = new_account(http, host, prefix="earner")
    given = award(http, host, account, badgeclass, earner.email.upper())
    items = _backpack(http, host, earner)
    assert [i["entityId"] for i in items] == [given["entityId"]]
    item = items[0]
    assert list(item)[:4] == ["entityType", "entityId", "acceptance", "openBadgeId"]
    assert (item["badgeclass"], item["pending"], item["acceptance"]) == (
        badgeclass["entityId"],
        False,
        "Unaccepted",
    )
    assert "evidence" not in item
    url = f"{host.api_url}/backpack/assertions/{given['entityId']}"
    expanded = result(
        http.get(
            url, params=[("expand", "badgeclass"), ("expand", "issuer")], headers=earner.headers
        )
    )
    assert expanded["issuer"] == badgeclass["issuer"]
    badge = expanded["badgeclass"]
    assert badge["id"] == badgeclass["openBadgeId"]
    assert badge["issuer"]["type"] == "Issuer"
    assert badge["issuer"]["email"] == account.email
    only_badge = result(http.get(url, params={"expand": "badgeclass"}, headers=earner.headers))
    assert (
        only_badge["badgeclass"]["issuer"]
        == f"{host.base_url}/public/issuers/{badgeclass['issuer']}"
    )
    assert _backpack(http, host, account) == []
    error(http.get(url, headers=account.headers), 404)


def test_accept_reject_and_revoked_awards(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """PUT accepts; DELETE rejects (hidden, still readable); revoked awards only when asked."""
    earner = new_account(http, host, prefix="earner")
    kept = award(http, host, account, badgeclass, earner.email)
    dropped = award(http, host, account, badgeclass, earner.email)
    revoked = award(http, host, account, badgeclass, earner.email)
    url = f"{host.api_url}/backpack/assertions"
    bad = error(
        http.put(
            f"{url}/{kept['entityId']}", json={"acceptance": "Rejected"}, headers=earner.headers
        ),
        400,
    )
    assert "acceptance" in bad["fieldErrors"]
    accepted = result(
        http.put(
            f"{url}/{kept['entityId']}", json={"acceptance": "Accepted"}, headers=earner.headers
        )
    )
    assert accepted["acceptance"] == "Accepted"
    assert http.delete(f"{url}/{dropped['entityId']}", headers=earner.headers).status_code == 204
    rejected = result(http.get(f"{url}/{dropped['entityId']}", headers=earner.headers))
    assert rejected["acceptance"] == "Rejected"
    http.request(
        "DELETE",
        f"{host.api_url}/assertions/{revoked['entityId']}",
        json={"revocation_reason": "no"},
        headers=account.headers,
    )
    assert [i["entityId"] for i in _backpack(http, host, earner)] == [kept["entityId"]]
    with_revoked = _backpack(http, host, earner, include_revoked="1")
    assert [i["entityId"] for i in with_revoked] == [kept["entityId"], revoked["entityId"]]


def test_collections_crud(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """Collections are created, listed, read, replaced and deleted; shares follow published."""
    earner = new_account(http, host, prefix="earner")
    given = award(http, host, account, badgeclass, earner.email)
    url = f"{host.api_url}/backpack/collections"
    made = result(
        http.post(url, json={"name": "Mine", "description": "For Moodle"}, headers=earner.headers),
        201,
    )
    assert list(made) == [
        "entityType",
        "entityId",
        "name",
        "description",
        "owner",
        "share_url",
        "shareHash",
        "published",
        "assertions",
    ]
    assert (made["published"], made["share_url"], made["shareHash"], made["assertions"]) == (
        False,
        None,
        "",
        [],
    )
    assert made["owner"] == earner.user.entity_id
    one = f"{url}/{made['entityId']}"
    body = {"name": "Shared", "published": True, "assertions": [given["entityId"]]}
    shared = result(http.put(one, json=body, headers=earner.headers))
    assert shared["assertions"] == [given["entityId"]]
    assert shared["share_url"] == f"{host.base_url}/public/collections/{shared['shareHash']}"
    assert len(shared["shareHash"]) == 32
    public = http.get(shared["share_url"]).json()
    assert public["badges"][0]["id"] == given["openBadgeId"]
    assert result(http.get(one, headers=earner.headers)) == shared
    assert [c["entityId"] for c in http.get(url, headers=earner.headers).json()["result"]] == [
        made["entityId"]
    ]
    unknown = error(
        http.put(one, json={"name": "x", "assertions": ["nope"]}, headers=earner.headers), 400
    )
    assert unknown["fieldErrors"] == {
        "assertions": ['Invalid entity_id "nope" - object does not exist.']
    }
    hidden = result(
        http.put(one, json={"name": "Private", "published": False}, headers=earner.headers)
    )
    assert (hidden["share_url"], hidden["assertions"]) == (None, [given["entityId"]])
    assert http.get(shared["share_url"]).status_code == 404
    error(http.put(one, json={"published": True}, headers=earner.headers), 400)
    error(http.get(one, headers=account.headers), 404)
    assert http.delete(one, headers=earner.headers).status_code == 204
    error(http.get(one, headers=earner.headers), 404)


def test_import_of_a_local_award_by_url_then_duplicate(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """Importing this host's own award accepts it; a second import is DUPLICATE_BADGE."""
    earner = new_account(http, host, prefix="earner")
    given = award(http, host, account, badgeclass, earner.email)
    url = f"{host.api_url}/backpack/import"
    imported = result(
        http.post(url, json={"url": given["openBadgeId"]}, headers=earner.headers), 201
    )
    assert (imported["entityId"], imported["acceptance"]) == (given["entityId"], "Accepted")
    duplicate = error(
        http.post(url, json={"url": given["openBadgeId"]}, headers=earner.headers), 400
    )
    assert duplicate["validationErrors"] == [
        {"name": "DUPLICATE_BADGE", "description": "You already have this badge in your backpack"}
    ]
    stranger = new_account(http, host, prefix="stranger")
    mismatch = error(
        http.post(url, json={"url": given["openBadgeId"]}, headers=stranger.headers), 400
    )
    assert mismatch["validationErrors"][0] == "VERIFY_RECIPIENT_IDENTIFIER"


def test_import_of_a_baked_image_from_this_host(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """The baked PNG of an award, posted as a data URI or a file, imports the award."""
    earner = new_account(http, host, prefix="earner")
    given = award(http, host, account, badgeclass, earner.email)
    baked = http.get(given["image"]).content
    uri = "data:image/png;base64," + base64.b64encode(baked).decode()
    url = f"{host.api_url}/backpack/import"
    imported = result(http.post(url, json={"image": uri}, headers=earner.headers), 201)
    assert imported["entityId"] == given["entityId"]
    again = http.post(url, files={"image": ("b.png", baked, "image/png")}, headers=earner.headers)
    assert error(again, 400)["validationErrors"][0]["name"] == "DUPLICATE_BADGE"
    plain = "data:image/png;base64," + base64.b64encode(PNG_BYTES).decode()
    assert (
        error(http.post(url, json={"image": plain}, headers=earner.headers), 400)[
            "validationErrors"
        ][0]
        == "INVALID_BADGE"
    )


def _outside_badge(documents: Documents, name: str, recipient: dict[str, Any], **extra: Any) -> str:
    issuer = documents.put(
        f"/{name}/issuer",
        {
            "@context": "https://w3id.org/openbadges/v2",
            "type": "Issuer",
            "id": f"{documents.base_url}/{name}/issuer",
            "name": "Outside",
            "url": "https://outside.example.org",
            "email": "badges@outside.example.org",
        },
    )
    badge = documents.put(
        f"/{name}/badge",
        {
            "@context": "https://w3id.org/openbadges/v2",
            "type": "BadgeClass",
            "id": f"{documents.base_url}/{name}/badge",
            "name": "Outside badge",
            "description": "d",
            "image": "https://outside.example.org/b.png",
            "criteria": {"narrative": "x"},
            "issuer": issuer,
        },
    )
    assertion_url = f"{documents.base_url}/{name}/assertion"
    document = {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": assertion_url,
        "recipient": recipient,
        "badge": badge,
        "issuedOn": "2024-05-01T10:00:00Z",
        "verification": {"type": "HostedBadge"},
        "narrative": "Outside work",
        "extensions:custom": {"kept": True},
        **extra,
    }
    return documents.put(f"/{name}/assertion", document)


def _hashed(email: str, salt: str) -> dict[str, Any]:
    digest = hashlib.sha256((email + salt).encode()).hexdigest().upper()
    return {"type": "email", "hashed": True, "salt": salt, "identity": f"sha256${digest}"}


def test_import_of_an_outside_award_by_url(
    http: httpx2.Client, host: RunningHost, documents: Documents
) -> None:
    """A hosted award elsewhere is fetched, its hashed recipient checked, and stored re-salted."""
    earner = new_account(http, host, prefix="earner")
    url = _outside_badge(documents, "ok", _hashed(earner.email, "pepper"))
    imported = result(
        http.post(f"{host.api_url}/backpack/import", json={"url": url}, headers=earner.headers), 201
    )
    assert imported["openBadgeId"] == url
    assert imported["acceptance"] == "Accepted"
    assert imported["recipient"]["plaintextIdentity"] == earner.email
    assert imported["recipient"]["salt"] != "pepper"
    assert imported["narrative"] == "Outside work"
    assert imported["extensions:custom"] == {"kept": True}
    assert imported["issuerOpenBadgeId"] == f"{documents.base_url}/ok/issuer"
    listed = _backpack(http, host, earner, expand=["badgeclass", "issuer"])
    assert listed[0]["badgeclass"]["issuer"]["name"] == "Outside"
    duplicate = error(
        http.post(f"{host.api_url}/backpack/import", json={"url": url}, headers=earner.headers), 400
    )
    assert duplicate["validationErrors"][0]["name"] == "DUPLICATE_BADGE"
    assert (
        http.delete(
            f"{host.api_url}/backpack/assertions/{imported['entityId']}", headers=earner.headers
        ).status_code
        == 204
    )
    assert _backpack(http, host, earner) == []


def test_import_of_an_assertion_object_and_a_baked_svg(
    http: httpx2.Client, host: RunningHost, documents: Documents
) -> None:
    """A posted assertion object is verified by fetching its id; a baked SVG carries its URL."""
    earner = new_account(http, host, prefix="earner")
    url = _outside_badge(
        documents, "object", {"type": "email", "hashed": False, "identity": earner.email}
    )
    posted = {"id": url, "recipient": {"identity": "forged@example.org"}}
    imported = result(
        http.post(
            f"{host.api_url}/backpack/import", json={"assertion": posted}, headers=earner.headers
        ),
        201,
    )
    assert imported["openBadgeId"] == url
    svg_url = _outside_badge(
        documents, "svg", {"type": "email", "hashed": False, "identity": earner.email}
    )
    baked = bake(StoredImage(SVG, "image/svg+xml"), json.dumps({"id": svg_url}), svg_url)
    image_url = documents.put("/svg/baked.svg", baked, media_type="image/svg+xml")
    from_image = result(
        http.post(
            f"{host.api_url}/backpack/import", json={"url": image_url}, headers=earner.headers
        ),
        201,
    )
    assert from_image["openBadgeId"] == svg_url
    image = http.get(from_image["image"], headers=earner.headers)
    assert image.content == baked


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("mismatch", "VERIFY_RECIPIENT_IDENTIFIER"),
        ("revoked", "ASSERTION_REVOKED"),
        ("gone", "ASSERTION_REVOKED"),
        ("missing", "ASSERTION_NOT_FOUND"),
        ("not-json", "INVALID_BADGE"),
        ("unreachable", "FETCH_HTTP_NODE"),
        ("no-badge", "INVALID_BADGE"),
    ],
)
def test_import_verification_failures(
    http: httpx2.Client, host: RunningHost, documents: Documents, case: str, expected: str
) -> None:
    """Each verification failure is Badgr's flat list, starting with its name and description."""
    earner = new_account(http, host, prefix="earner")
    me = {"type": "email", "hashed": False, "identity": earner.email}
    urls: dict[str, Callable[[], str]] = {
        "mismatch": lambda: _outside_badge(
            documents, case, {"type": "email", "identity": "x@y.org"}
        ),
        "revoked": lambda: documents.put(
            f"/{case}", {"type": "Assertion", "id": "x", "revoked": True}
        ),
        "gone": lambda: documents.put(f"/{case}", {}, status=410),
        "missing": lambda: f"{documents.base_url}/nothing/here",
        "not-json": lambda: documents.put(f"/{case}", b"<html>", media_type="text/html"),
        "unreachable": lambda: "http://127.0.0.1:9/assertion",
        "no-badge": lambda: _outside_badge(documents, case, me, badge=5),
    }
    response = http.post(
        f"{host.api_url}/backpack/import", json={"url": urls[case]()}, headers=earner.headers
    )
    errors = error(response, 400)["validationErrors"]
    assert errors[0] == expected
    assert errors[2:4] == [expected, "False"]
    assert errors[-1] == "ERROR"
    assert _backpack(http, host, earner) == []


def test_import_needs_exactly_one_source(
    http: httpx2.Client, host: RunningHost, account: Account
) -> None:
    """Zero or several of url/image/assertion is Badgr's whole-object error."""
    url = f"{host.api_url}/backpack/import"
    for body in ({}, {"url": "https://a.example.org", "image": "data:x"}, {"url": ""}):
        answer = error(http.post(url, json=body, headers=account.headers), 400)
        assert answer["validationErrors"] == [
            "Must provide only one of 'url', 'image' or 'assertion'."
        ]
    bad = error(http.post(url, json={"url": "ftp://x"}, headers=account.headers), 400)
    assert bad["fieldErrors"] == {"url": ["Enter a valid URL."]}
    signed = error(
        http.post(
            url,
            json={
                "image": "data:image/png;base64,"
                + base64.b64encode(bake(StoredImage(PNG_BYTES, PNG), "a.b.c", "")).decode()
            },
            headers=account.headers,
        ),
        400,
    )
    assert signed["validationErrors"][0] == "VERIFY_SIGNATURE"
