"""The token endpoint: Badgr's password and refresh grants, errors, expiry and throttle."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import select, update

from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.host import _schema as t
from openbackpack.store._types import utcnow
from tests.host._helpers import JSON, PASSWORD, Account, error, new_email


def _token(http: httpx2.Client, host: RunningHost, **kwargs: object) -> httpx2.Response:
    return http.post(f"{host.base_url}/o/token", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("encoding", ["form", "multipart", "json"])
def test_password_grant_accepts_form_multipart_and_json(
    http: httpx2.Client, host: RunningHost, encoding: str
) -> None:
    """username + password with no grant_type and no client_id give Badgr's token answer."""
    email = new_email()
    host.add_user(email, PASSWORD)
    fields = {"username": email.upper(), "password": PASSWORD}
    choices: dict[str, dict[str, object]] = {
        "form": {"data": fields},
        "multipart": {"files": {k: (None, v) for k, v in fields.items()}},
        "json": {"json": fields},
    }
    kwargs = choices[encoding]
    response = _token(http, host, **kwargs)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert list(body) == ["access_token", "expires_in", "token_type", "scope", "refresh_token"]
    assert body["expires_in"] == 86400
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "rw:profile rw:issuer rw:backpack"
    assert len(body["access_token"]) == 30
    assert body["access_token"].isalnum()
    assert b'", "' in response.content  # json.dumps spacing, as Badgr's token view writes


def test_wrong_password_is_invalid_grant(http: httpx2.Client, host: RunningHost) -> None:
    """A wrong password gives 400 invalid_grant with Badgr's description."""
    email = new_email()
    host.add_user(email, PASSWORD)
    response = _token(http, host, data={"username": email, "password": "nope"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid credentials given.",
    }


@pytest.mark.parametrize("missing", ["username", "password"])
def test_missing_parameter_is_invalid_request(
    http: httpx2.Client, host: RunningHost, missing: str
) -> None:
    """A password grant without username or password names the missing parameter."""
    fields = {"username": "a@example.org", "password": "x"}
    del fields[missing]
    response = _token(http, host, data=fields)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": f"Request is missing {missing} parameter.",
    }


def test_query_string_and_unknown_client_are_refused_as_badgr_does(
    http: httpx2.Client, host: RunningHost
) -> None:
    """A query string, an unknown client_id and a missing grant_type are 400s."""
    fields = {"username": "a@example.org", "password": "x"}
    query = http.post(f"{host.base_url}/o/token?x=1", data=fields)
    assert query.status_code == 400
    assert query.headers["content-type"].startswith("text/html")
    assert "post body" in query.json()["error"]
    client = _token(http, host, data={**fields, "client_id": "other", "grant_type": "password"})
    assert (client.status_code, client.json()) == (400, {"error": "invalid client_id"})
    grant = _token(http, host, data={**fields, "client_id": "public"})
    assert grant.json()["error_description"] == "Request is missing grant_type parameter."
    secret = _token(http, host, data=fields, auth=("public", "secret"))
    assert secret.json() == {"error": "invalid client_secret"}
    unsupported = _token(http, host, data={**fields, "grant_type": "client_credentials"})
    assert unsupported.json() == {"error": "unsupported_grant_type"}


def test_public_client_with_grant_type_logs_in(http: httpx2.Client, host: RunningHost) -> None:
    """client_id=public with grant_type=password is the documented client path."""
    email = new_email()
    host.add_user(email, PASSWORD)
    fields = {"username": email, "password": PASSWORD, "client_id": "public"}
    response = _token(http, host, data={**fields, "grant_type": "password"})
    assert response.status_code == 200


def test_refresh_grant_rotates_the_refresh_token(
    http: httpx2.Client, host: RunningHost, account: Account
) -> None:
    """A refresh gives a new pair; the old refresh token and old access token stop working."""
    response = _token(
        http, host, data={"grant_type": "refresh_token", "refresh_token": account.refresh}
    )
    assert response.status_code == 200
    fresh = response.json()
    assert fresh["refresh_token"] != account.refresh
    reused = _token(
        http, host, data={"grant_type": "refresh_token", "refresh_token": account.refresh}
    )
    assert (reused.status_code, reused.json()) == (400, {"error": "invalid_grant"})
    old = http.get(f"{host.api_url}/issuers", headers=account.headers)
    assert old.status_code == 401
    new = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert http.get(f"{host.api_url}/issuers", headers=new).status_code == 200
    missing = _token(http, host, data={"grant_type": "refresh_token"})
    assert missing.json()["error_description"] == "Request is missing refresh_token parameter."


def test_api_needs_a_valid_unexpired_bearer_token(
    http: httpx2.Client, host: RunningHost, account: Account
) -> None:
    """No token, a bad token or an expired token give the 401 envelope; the query form works."""
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        body = error(http.get(f"{host.api_url}/backpack/collections", headers=headers), 401)
        assert body["status"]["description"] == "no valid auth token found"
    lower = http.get(
        f"{host.api_url}/issuers", headers={"Authorization": f"bearer {account.token}"}
    )
    assert lower.status_code == 200
    query = http.get(f"{host.api_url}/issuers", params={"access_token": account.token})
    assert query.status_code == 200
    with host.database.begin() as connection:
        connection.execute(
            update(t.tokens)
            .where(t.tokens.c.user_id == account.user.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert http.get(f"{host.api_url}/issuers", headers=account.headers).status_code == 401


def test_account_without_verified_email_gets_404(http: httpx2.Client, host: RunningHost) -> None:
    """A user can log in but, with no verified e-mail, every v2 route answers 404."""
    email = new_email()
    host.add_user(email, PASSWORD, verified=False)
    grant = _token(http, host, data={"username": email, "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {grant['access_token']}", **JSON}
    error(http.get(f"{host.api_url}/backpack/assertions", headers=headers), 404)


def test_tokens_and_passwords_are_stored_hashed(host: RunningHost, account: Account) -> None:
    """Neither the access token, the refresh token nor the password is in the database."""
    with host.database.begin() as connection:
        tokens = connection.execute(
            select(t.tokens).where(t.tokens.c.user_id == account.user.id)
        ).all()
        user = connection.execute(select(t.users).where(t.users.c.id == account.user.id)).one()
    stored = " ".join(str(value) for row in tokens for value in row)
    assert account.token not in stored
    assert account.refresh not in stored
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith("$argon2id$")


def test_token_lifetime_is_configurable(http: httpx2.Client, tmp_path: Path) -> None:
    """HostSettings.token_lifetime is the expires_in handed out."""
    settings = HostSettings(db_url=f"sqlite:///{tmp_path / 'h.sqlite3'}", token_lifetime=60)
    with run_host_in_thread(settings) as running:
        running.add_user("short@example.org", PASSWORD)
        body = _token(http, running, data={"username": "short@example.org", "password": PASSWORD})
    assert body.json()["expires_in"] == 60


def test_failed_logins_are_throttled_with_badgrs_429(http: httpx2.Client, tmp_path: Path) -> None:
    """After a failure the username is locked for 2**n s: 429 with expires and Retry-After."""
    settings = HostSettings(db_url=f"sqlite:///{tmp_path / 'h.sqlite3'}")
    with run_host_in_thread(settings) as running:
        running.add_user("slow@example.org", PASSWORD)
        first = _token(http, running, data={"username": "slow@example.org", "password": "bad"})
        assert first.status_code == 400
        locked = _token(http, running, data={"username": "slow@example.org", "password": PASSWORD})
        other = running.add_user("fast@example.org", PASSWORD)
        fine = _token(http, running, data={"username": other.emails[0], "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.headers["content-type"].startswith("text/html")
    assert locked.json() == {
        "error_description": "Too many login attempts. Please wait and try again.",
        "error": "login attempts throttled",
        "expires": 2,
    }
    assert locked.headers["retry-after"] == "2"
    assert fine.status_code == 200
