"""Issuers over real HTTP: create, read, list, update, delete, and their errors."""

from __future__ import annotations

from typing import Any

import httpx2

from openbackpack.host import RunningHost, add_email
from tests.host._helpers import PNG_URI, Account, error, new_account, new_email, result


def test_create_issuer_accepts_moodles_body_and_answers_badgrs_item(
    http: httpx2.Client, host: RunningHost, account: Account
) -> None:
    """Moodle's body (with @context, type, id) gives 201 and an Issuer in Badgr's key order."""
    body = {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Issuer",
        "id": "https://moodle.example.org/badges/issuer_json.php?id=1",
        "name": "<b>Example</b> Site",
        "email": account.email.upper(),
        "url": "https://moodle.example.org",
        "image": PNG_URI,
    }
    response = http.post(f"{host.api_url}/issuers", json=body, headers=account.headers)
    item = result(response, 201)
    assert response.headers["content-type"] == "application/json"
    assert list(item)[:5] == ["entityType", "entityId", "openBadgeId", "createdAt", "createdBy"]
    assert item["entityType"] == "Issuer"
    assert len(item["entityId"]) == 22
    assert item["openBadgeId"] == f"{host.base_url}/public/issuers/{item['entityId']}"
    assert item["createdAt"].endswith("Z")
    assert item["name"] == "Example Site"
    assert item["email"] == account.email
    assert item["image"] == f"{item['openBadgeId']}/image"
    assert item["staff"][0]["role"] == "owner"
    assert item["staff"][0]["userProfile"]["entityType"] == "BadgeUser"
    assert item["extensions"] == {}


def test_issuer_email_must_be_a_verified_address(
    http: httpx2.Client, host: RunningHost, account: Account
) -> None:
    """An e-mail that is not one of the caller's verified addresses is a whole-object error."""
    unverified = new_email("unverified")
    add_email(host.database, account.email, unverified, verified=False)
    for email in ("someone@else.org", unverified):
        body = {"name": "X", "email": email, "url": "https://example.org"}
        answer = error(
            http.post(f"{host.api_url}/issuers", json=body, headers=account.headers), 400
        )
        assert answer["validationErrors"][0].startswith("Issuer email must be one of your verified")
    second = new_email("second")
    add_email(host.database, account.email, second, verified=True)
    body = {"name": "X", "email": second, "url": "https://example.org"}
    result(http.post(f"{host.api_url}/issuers", json=body, headers=account.headers), 201)


def test_issuer_field_errors(http: httpx2.Client, host: RunningHost, account: Account) -> None:
    """Missing, malformed and wrongly typed fields are listed per field."""
    body = {"email": "not-an-email", "url": "ftp:/x", "description": ["list"], "image": "data:x"}
    answer = error(http.post(f"{host.api_url}/issuers", json=body, headers=account.headers), 400)
    assert answer["status"]["description"] == "bad request"
    assert answer["fieldErrors"] == {
        "name": ["This field is required."],
        "email": ["Enter a valid email address."],
        "url": ["Enter a valid URL."],
        "description": ["Not a valid string."],
        "image": ["Invalid image."],
    }
    bodies: list[object] = [[], "text", 5]
    for bad in bodies:
        answer = error(http.post(f"{host.api_url}/issuers", json=bad, headers=account.headers), 400)
        assert answer["validationErrors"]


def test_get_list_update_delete_issuer(
    http: httpx2.Client, host: RunningHost, account: Account, issuer: Any
) -> None:
    """The owner can read, list, fully update and delete an issuer."""
    url = f"{host.api_url}/issuers/{issuer['entityId']}"
    assert result(http.get(url, headers=account.headers)) == issuer
    listed = http.get(f"{host.api_url}/issuers", headers=account.headers).json()["result"]
    assert [i["entityId"] for i in listed] == [issuer["entityId"]]
    body = {"name": "Renamed", "email": account.email, "url": "https://new.example.org"}
    updated = result(http.put(url, json=body, headers=account.headers))
    assert (updated["name"], updated["url"]) == ("Renamed", "https://new.example.org")
    partial = error(http.put(url, json={"name": "Only"}, headers=account.headers), 400)
    assert set(partial["fieldErrors"]) == {"email", "url"}
    gone = http.delete(url, headers=account.headers)
    assert (gone.status_code, gone.content) == (204, b"")
    error(http.get(url, headers=account.headers), 404)


def test_other_users_issuer_is_not_found(
    http: httpx2.Client, host: RunningHost, issuer: Any
) -> None:
    """Another account gets 404 for an issuer that is not theirs, on every method."""
    stranger = new_account(http, host, prefix="stranger")
    url = f"{host.api_url}/issuers/{issuer['entityId']}"
    body = {"name": "X", "email": stranger.email, "url": "https://example.org"}
    for response in (
        http.get(url, headers=stranger.headers),
        http.put(url, json=body, headers=stranger.headers),
        http.delete(url, headers=stranger.headers),
        http.get(f"{url}/badgeclasses", headers=stranger.headers),
    ):
        answer = error(response, 404)
        assert answer["status"]["description"] == "entity not found or insufficient privileges"
    assert http.get(f"{host.api_url}/issuers", headers=stranger.headers).json()["result"] == []
