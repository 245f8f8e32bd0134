"""Shared data and small helpers of the host tests."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any

import httpx2

from openbackpack.host import HostUser, RunningHost

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PNG_URI = "data:image/png;base64," + base64.b64encode(PNG).decode()
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>'
SVG_URI = "data:image/svg+xml;base64," + base64.b64encode(SVG).decode()
JPEG_URI = "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8\xff\xe0" + b"\0" * 20).decode()
PASSWORD = "correct horse battery staple"
JSON = {"Accept": "application/json"}


def new_email(prefix: str = "user") -> str:
    """A unique address, so tests can share one host."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.org"


@dataclass
class Account:
    """A logged-in user of a running host."""

    email: str
    user: HostUser
    token: str
    refresh: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **JSON}


def login(http: httpx2.Client, host: RunningHost, email: str, password: str = PASSWORD) -> Any:
    """Run Moodle's password grant (multipart, no grant_type, no client_id)."""
    response = http.post(
        f"{host.base_url}/o/token",
        files={"username": (None, email), "password": (None, password)},
    )
    assert response.status_code == 200, response.text
    return response.json()


def new_account(http: httpx2.Client, host: RunningHost, *, prefix: str = "user") -> Account:
    """Create a verified user and log in."""
    email = new_email(prefix)
    user = host.add_user(email, PASSWORD)
    grant = login(http, host, email)
    return Account(email, user, grant["access_token"], grant["refresh_token"])


def result(response: httpx2.Response, status: int = 200) -> Any:
    """The first item of a Badgr envelope, after checking the status."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"]["success"] is True
    assert isinstance(body["result"], list)
    return body["result"][0] if body["result"] else None


def error(response: httpx2.Response, status: int) -> Any:
    """The body of a Badgr error envelope, after checking the status and shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"]["success"] is False
    assert body["result"] == []
    assert "fieldErrors" in body
    assert "validationErrors" in body
    return body


def create_issuer(http: httpx2.Client, host: RunningHost, account: Account) -> Any:
    """Create an issuer whose e-mail is the account's."""
    body = {"name": "Site", "email": account.email, "url": "https://moodle.example.org"}
    return result(http.post(f"{host.api_url}/issuers", json=body, headers=account.headers), 201)


def create_badgeclass(
    http: httpx2.Client, host: RunningHost, account: Account, issuer: Any, **extra: Any
) -> Any:
    """Create a badge class under ``issuer`` the way Moodle does."""
    body = {
        "type": "BadgeClass",
        "id": "https://moodle.example.org/badges/badge_json.php?id=1",
        "name": "Course completion",
        "description": "Completed the course",
        "image": PNG_URI,
        "criteriaUrl": "https://moodle.example.org/badges/badgeclass.php?id=1",
        "criteriaNarrative": "Complete all activities",
        **extra,
    }
    url = f"{host.api_url}/issuers/{issuer['entityId']}/badgeclasses"
    return result(http.post(url, json=body, headers=account.headers), 201)


def award(
    http: httpx2.Client,
    host: RunningHost,
    account: Account,
    badgeclass: Any,
    email: str,
    **extra: Any,
) -> Any:
    """Award ``badgeclass`` to ``email`` with Moodle's body."""
    body = {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "recipient": {"identity": email, "type": "email", "hashed": True},
        "issuedOn": "2024-01-02T03:04:05+00:00",
        "verification": {"type": "hosted"},
        **extra,
    }
    url = f"{host.api_url}/badgeclasses/{badgeclass['entityId']}/assertions"
    return result(http.post(url, json=body, headers=account.headers), 201)
