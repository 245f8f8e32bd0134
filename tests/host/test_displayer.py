"""The Mozilla Displayer API: e-mail lookup, public groups and their badges."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from openbackpack.host import RunningHost, add_email
from tests.host._helpers import Account, award, new_account, new_email, result

MISSING = {"httpStatus": 404, "status": "missing"}


@pytest.mark.parametrize("encoding", ["data", "json"])
def test_convert_email_finds_the_user_id(
    http: httpx2.Client, host: RunningHost, account: Account, encoding: str
) -> None:
    """A verified e-mail (form or JSON) gives status okay and the integer user id."""
    url = f"{host.base_url}/displayer/convert/email"
    fields = {"email": account.email}
    response = http.post(url, data=fields) if encoding == "data" else http.post(url, json=fields)
    assert response.status_code == 200
    assert response.json() == {"status": "okay", "email": account.email, "userId": account.user.id}


def test_convert_email_errors(http: httpx2.Client, host: RunningHost, account: Account) -> None:
    """A missing e-mail is 400 invalid; unknown and unverified addresses are 404 missing."""
    url = f"{host.base_url}/displayer/convert/email"
    missing = http.post(url, data={})
    assert (missing.status_code, missing.json()) == (
        400,
        {"status": "invalid", "error": "missing `email` parameter"},
    )
    unverified = new_email()
    add_email(host.database, account.email, unverified, verified=False)
    for email in ("nobody@example.org", unverified):
        answer = http.post(url, data={"email": email})
        assert answer.status_code == 404
        assert answer.json() == {
            "status": "missing",
            "error": f"Could not find a user by the email address `{email}`",
        }
    unsupported = http.post(url, content=b"x", headers={"Content-Type": "text/plain"})
    assert (unsupported.status_code, unsupported.json()["status"]) == (415, "invalid")


def test_groups_are_the_published_collections(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """Published collections are groups with integer ids and badge counts; others are hidden."""
    earner = new_account(http, host, prefix="earner")
    given = award(http, host, account, badgeclass, earner.email)
    url = f"{host.api_url}/backpack/collections"
    shown = result(
        http.post(
            url,
            json={"name": "Public", "published": True, "assertions": [given["entityId"]]},
            headers=earner.headers,
        ),
        201,
    )
    result(http.post(url, json={"name": "Private"}, headers=earner.headers), 201)
    groups = http.get(f"{host.base_url}/displayer/{earner.user.id}/groups.json")
    assert groups.status_code == 200
    assert groups.headers["access-control-allow-origin"] == "*"
    body = groups.json()
    assert body["userId"] == earner.user.id
    assert [(g["name"], g["badges"]) for g in body["groups"]] == [("Public", 1)]
    group_id = body["groups"][0]["groupId"]
    assert isinstance(group_id, int)
    badges = http.get(f"{host.base_url}/displayer/{earner.user.id}/group/{group_id}.json").json()
    assert (badges["userId"], badges["groupId"]) == (earner.user.id, group_id)
    item = badges["badges"][0]
    assert list(item) == ["lastValidated", "assertionType", "hostedUrl", "assertion", "imageUrl"]
    assert item["hostedUrl"] == given["openBadgeId"]
    assert item["assertion"]["badge"]["name"] == badgeclass["name"]
    assert item["assertion"]["badge"]["issuer"]["name"] == "Site"
    assert item["imageUrl"] == given["image"]
    assert shown["published"] is True


def test_unknown_users_and_groups_are_404_missing(
    http: httpx2.Client, host: RunningHost, account: Account
) -> None:
    """Unknown users, unknown or private groups, and other users' groups are 404 missing."""
    result(
        http.post(
            f"{host.api_url}/backpack/collections",
            json={"name": "Private"},
            headers=account.headers,
        ),
        201,
    )
    base = f"{host.base_url}/displayer"
    for path in (
        "/999999/groups.json",
        "/abc/groups.json",
        f"/{account.user.id}/group/999999.json",
        f"/{account.user.id}/group/x.json",
        "/999999/group/1.json",
    ):
        response = http.get(base + path)
        assert (response.status_code, response.json()) == (404, MISSING), path


def test_jsonp_callback_wraps_the_answer(http: httpx2.Client, host: RunningHost) -> None:
    """?callback=fn answers fn({...}) with 200, even for a missing user."""
    response = http.get(
        f"{host.base_url}/displayer/999999/groups.json", params={"callback": "show"}
    )
    assert response.status_code == 200
    assert response.text == 'show({"httpStatus":404,"status":"missing"})'
