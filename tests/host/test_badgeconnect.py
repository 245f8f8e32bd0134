"""Badge Connect on the host, specification mode: answers checked against the official schemas."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import update

from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.host import _schema as t
from openbackpack.protocols import Body, Endpoint, build_url
from openbackpack.protocols import badgeconnect as bc
from openbackpack.store._types import utcnow
from tests.host._badgeconnect import (
    REDIRECT,
    VERIFIER,
    Client,
    auth_params,
    authorize,
    connect,
    exchange,
    hosted_award,
    metadata,
    redirected,
    register,
    submit,
    valid,
)
from tests.host._helpers import (
    PASSWORD,
    award,
    create_badgeclass,
    create_issuer,
    new_account,
    new_email,
)
from tests.host.conftest import Documents


def _api(host: RunningHost, path: str) -> str:
    return host.badgeconnect_api_url + path


def test_manifest_follows_the_schema_and_offers_every_endpoint(
    http: httpx2.Client, host: RunningHost
) -> None:
    """The manifest validates (its JSON-LD @context aside), apiBase ends in /ims/ob/v2p1."""
    answer = http.get(host.manifest_url)
    assert answer.status_code == 200
    document = answer.json()
    assert document["@context"] == bc.MANIFEST_CONTEXT
    # The schemas were generated from the UML model, which has no JSON-LD keywords.
    assert valid(
        "getmanifest-200-responsepayload",
        {k: v for k, v in document.items() if k != "@context"},
    )
    api = document["badgeConnectAPI"][0]
    assert api["apiBase"] == host.base_url + bc.API_PATH
    assert api["version"] == "v2p1"
    assert api["tokenUrl"] == host.base_url + "/o/token"
    assert api["tokenRevocationUrl"] == host.base_url + "/o/revoke"
    assert api["scopesOffered"] == [s.value for s in bc.Scope]


def test_manifest_is_cached_with_an_etag(http: httpx2.Client, host: RunningHost) -> None:
    """The manifest carries an ETag and max-age; If-None-Match with it gets a bodiless 304."""
    first = http.get(host.manifest_url)
    etag = first.headers["etag"]
    assert "max-age=" in first.headers["cache-control"]
    again = http.get(host.manifest_url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert http.get(host.manifest_url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_registration_echoes_the_metadata_with_credentials(
    http: httpx2.Client, host: RunningHost
) -> None:
    """A valid registration is 201, echoes every field and adds id, secret and times."""
    answer = http.post(host.base_url + "/o/register", json=metadata())
    assert answer.status_code == 201
    assert answer.headers["cache-control"] == "no-store"
    data = answer.json()
    assert {k: data[k] for k in metadata()} == metadata()
    assert len(data["client_id"]) == 40
    assert len(data["client_secret"]) >= 64
    assert data["client_secret_expires_at"] == 0
    assert isinstance(data["client_id_issued_at"], int)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        pytest.param({"client_uri": "http://example.org/"}, "invalid_client_metadata", id="http"),
        pytest.param(
            {"redirect_uris": ["https://other.example/cb"]},
            "invalid_client_metadata",
            id="two-hosts",
        ),
        pytest.param({"redirect_uris": []}, "invalid_redirect_uri", id="no-redirect"),
        pytest.param(
            {"redirect_uris": ["ftp://127.0.0.1/cb"]}, "invalid_redirect_uri", id="not-http"
        ),
        pytest.param({"client_name": ""}, "invalid_client_metadata", id="no-name"),
        pytest.param({"grant_types": ["password"]}, "invalid_client_metadata", id="grant"),
        pytest.param(
            {"token_endpoint_auth_method": "none"}, "invalid_client_metadata", id="method"
        ),
        pytest.param({"scope": "rw:issuer"}, "invalid_client_metadata", id="scope"),
    ],
)
def test_registration_refuses_bad_metadata(
    http: httpx2.Client, host: RunningHost, change: dict[str, Any], error: str
) -> None:
    """Missing fields, non-https or mixed hosts, other grants or methods: RFC 7591 errors."""
    answer = http.post(host.base_url + "/o/register", json=metadata(**change))
    assert answer.status_code == 400
    assert answer.json()["error"] == error


def test_registration_keeps_only_offered_scopes(http: httpx2.Client, host: RunningHost) -> None:
    """Unknown scopes are dropped from the registration; the client learns it from the echo."""
    scope = f"{bc.Scope.ASSERTION_READONLY} rw:issuer"
    answer = http.post(host.base_url + "/o/register", json=metadata(scope=scope))
    assert answer.json()["scope"] == bc.Scope.ASSERTION_READONLY


def test_whole_flow_and_every_answer_follows_the_schemas(
    http: httpx2.Client, host: RunningHost
) -> None:
    """Code, token, empty list, profile read and update: all schema-valid."""
    connected = connect(http, host)
    grant = connected.grant
    assert grant["token_type"] == "Bearer"
    assert grant["refresh_token"]
    assert set(grant["scope"].split()) == {s.value for s in bc.Scope}
    listing = http.get(_api(host, "/assertions"), headers=connected.headers)
    assert valid("getassertions-200-responsepayload", listing.json())
    assert listing.json() == {"status": {"statusCode": 200, "statusText": "OK"}, "assertions": []}
    assert listing.headers["x-total-count"] == "0"
    assert set(bc.parse_links(listing.headers["link"])) == {"first", "last"}
    profile = http.get(_api(host, "/profile"), headers=connected.headers).json()
    assert valid("getprofile-200-responsepayload", profile)
    assert profile["profile"]["email"] == connected.email
    assert profile["profile"]["id"].startswith("urn:uuid:")
    body = {"id": profile["profile"]["id"], "type": "Profile", "name": "Ada Lovelace"}
    assert valid("postprofile-requestpayload", body)
    changed = http.post(_api(host, "/profile"), json=body, headers=connected.headers)
    assert valid("postprofile-200-responsepayload", changed.json())
    assert changed.json()["profile"]["name"] == "Ada Lovelace"


def test_authorization_page_refusals(http: httpx2.Client, host: RunningHost) -> None:
    """A wrong password shows the form again, deny redirects with access_denied and state."""
    email = new_email("bc")
    host.add_user(email, PASSWORD)
    client = register(http, host)
    params = auth_params(client, state="keep-me")
    wrong = submit(http, host, params, email, password="nope")
    assert wrong.status_code == 401
    assert "<form" in wrong.text
    denied = redirected(submit(http, host, params, email, consent="deny"))
    assert denied["error"] == "access_denied"
    assert denied["state"] == "keep-me"


def test_untrusted_clients_and_redirects_are_never_redirected_to(
    http: httpx2.Client, host: RunningHost
) -> None:
    """An unknown client or an unregistered redirect URI gets an error page, not a redirect."""
    client = register(http, host)
    unknown = auth_params(Client("nobody", "x", REDIRECT))
    mismatch = auth_params(Client(client.client_id, "x", "http://127.0.0.1:9/elsewhere"))
    for params in (unknown, mismatch):
        page = http.get(host.base_url + "/o/authorize", params=params)
        assert page.status_code == 400
        assert "location" not in page.headers


def test_loopback_redirects_match_on_any_port(http: httpx2.Client, host: RunningHost) -> None:
    """A registered loopback redirect URI is accepted with another port (RFC 8252 §7.3)."""
    client = register(http, host)
    moved = Client(client.client_id, client.client_secret, "http://127.0.0.1:54321/callback")
    page = http.get(host.base_url + "/o/authorize", params=auth_params(moved))
    assert page.status_code == 200


@pytest.mark.parametrize(
    ("change", "error"),
    [
        pytest.param({"code_challenge": None}, "invalid_request", id="no-pkce"),
        pytest.param({"code_challenge_method": "plain"}, "invalid_request", id="plain"),
        pytest.param({"response_type": "token"}, "unsupported_response_type", id="implicit"),
        pytest.param({"scope": "rw:issuer"}, "invalid_scope", id="scope"),
    ],
)
def test_bad_authorization_requests_go_back_with_an_error(
    http: httpx2.Client, host: RunningHost, change: dict[str, Any], error: str
) -> None:
    """Without S256 PKCE, with another response type or no allowed scope: an error redirect."""
    params = auth_params(register(http, host))
    params.update({k: v for k, v in change.items() if v is not None})
    for key in [k for k, v in change.items() if v is None]:
        params.pop(key)
    answer = http.get(host.base_url + "/o/authorize", params=params, follow_redirects=False)
    query = redirected(answer)
    assert query["error"] == error
    assert query["state"] == params["state"]


def _failed_exchange(answer: httpx2.Response, error: str = "invalid_grant") -> None:
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == error


def test_code_exchange_refusals(http: httpx2.Client, host: RunningHost) -> None:
    """A wrong verifier, another redirect URI, an expired code: invalid_grant each time."""
    email = new_email("bc")
    host.add_user(email, PASSWORD)
    client = register(http, host)
    code = authorize(http, host, client, email)
    _failed_exchange(exchange(http, host, client, code, verifier=bc.new_code_verifier()))
    code = authorize(http, host, client, email)
    _failed_exchange(exchange(http, host, client, code, redirect_uri=REDIRECT + "x"))
    code = authorize(http, host, client, email)
    with host.database.begin() as connection:
        connection.execute(update(t.oauth_codes).values(expires_at=utcnow() - timedelta(1)))
    _failed_exchange(exchange(http, host, client, code))


def test_a_replayed_code_is_refused_and_revokes_its_token(
    http: httpx2.Client, host: RunningHost
) -> None:
    """The second use of a code is invalid_grant, and the token of the first stops working."""
    email = new_email("bc")
    host.add_user(email, PASSWORD)
    client = register(http, host)
    code = authorize(http, host, client, email)
    first = exchange(http, host, client, code).json()
    headers = {"Authorization": f"Bearer {first['access_token']}"}
    assert http.get(_api(host, "/profile"), headers=headers).status_code == 200
    _failed_exchange(exchange(http, host, client, code))
    assert http.get(_api(host, "/profile"), headers=headers).status_code == 401


def test_client_authentication_is_required(http: httpx2.Client, host: RunningHost) -> None:
    """A wrong secret, or the secret in the body of a Basic client, is invalid_client."""
    email = new_email("bc")
    host.add_user(email, PASSWORD)
    client = register(http, host)
    code = authorize(http, host, client, email)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    form["code_verifier"] = VERIFIER
    wrong = Client(client.client_id, "not-the-secret", REDIRECT)
    answer = http.post(host.base_url + "/o/token", data=form, headers=wrong.basic)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    posted = {**form, "client_id": client.client_id, "client_secret": client.client_secret}
    assert http.post(host.base_url + "/o/token", data=posted).status_code == 401


def test_refresh_rotates_and_an_expired_token_is_refused(
    http: httpx2.Client, host: RunningHost
) -> None:
    """An expired token is 401 UNAUTHENTICATED (schema-valid); a refresh gives a new pair."""
    connected = connect(http, host)
    with host.database.begin() as connection:
        connection.execute(
            update(t.tokens)
            .where(t.tokens.c.client_id.is_not(None))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = http.get(_api(host, "/assertions"), headers=connected.headers)
    assert expired.status_code == 401
    assert valid("getassertions-400-401-404-405-500-responsepayload", expired.json())
    assert expired.json()["status"]["statusText"] == "UNAUTHENTICATED"
    form = {"grant_type": "refresh_token", "refresh_token": connected.grant["refresh_token"]}
    renewed = http.post(host.base_url + "/o/token", data=form, headers=connected.client.basic)
    assert renewed.status_code == 200, renewed.text
    headers = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
    assert http.get(_api(host, "/assertions"), headers=headers).status_code == 200
    again = http.post(host.base_url + "/o/token", data=form, headers=connected.client.basic)
    _failed_exchange(again)


def test_without_offline_access_there_is_no_refresh_token(
    http: httpx2.Client, host: RunningHost
) -> None:
    """A token granted without offline_access comes without a refresh token."""
    connected = connect(http, host, scope=bc.Scope.ASSERTION_READONLY.value)
    assert "refresh_token" not in connected.grant
    assert connected.grant["scope"] == bc.Scope.ASSERTION_READONLY


def test_scopes_are_enforced(http: httpx2.Client, host: RunningHost) -> None:
    """A read-only token cannot push or read the profile: 401 PERMISSION_DENIED."""
    connected = connect(http, host, scope=bc.Scope.ASSERTION_READONLY.value)
    for answer in (
        http.post(
            _api(host, "/assertions"), json={"assertion": {"id": "x"}}, headers=connected.headers
        ),
        http.get(_api(host, "/profile"), headers=connected.headers),
    ):
        assert answer.status_code == 401
        assert answer.json()["status"]["statusText"] == "PERMISSION_DENIED"


def test_badge_connect_tokens_do_not_open_the_v2_api(
    http: httpx2.Client, host: RunningHost
) -> None:
    """A Badge Connect token is refused by Badgr's v2 routes."""
    connected = connect(http, host)
    assert (
        http.get(host.api_url + "/backpack/assertions", headers=connected.headers).status_code
        == 401
    )


def test_revocation(http: httpx2.Client, host: RunningHost) -> None:
    """Revoking the refresh token kills both; unknown tokens are 200; no client is 401."""
    connected = connect(http, host)
    basic = connected.client.basic
    form = {"token": connected.grant["refresh_token"], "token_type_hint": "refresh_token"}
    assert http.post(host.base_url + "/o/revoke", data=form, headers=basic).status_code == 200
    assert http.get(_api(host, "/profile"), headers=connected.headers).status_code == 401
    unknown = {"token": "never-issued"}
    assert http.post(host.base_url + "/o/revoke", data=unknown, headers=basic).status_code == 200
    anonymous = http.post(host.base_url + "/o/revoke", data=unknown)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "invalid_client"


def test_listing_pages_follow_link_headers(http: httpx2.Client, host: RunningHost) -> None:
    """Five awards in pages of two: Link next/prev/first/last, X-Total-Count, newest first."""
    connected = connect(http, host)
    issuer_account = new_account(http, host, prefix="issuer")
    issuer = create_issuer(http, host, issuer_account)
    badge = create_badgeclass(http, host, issuer_account, issuer)
    made = [award(http, host, issuer_account, badge, connected.email) for _ in range(5)]
    url: str | None = _api(host, "/assertions?limit=2")
    seen: list[str] = []
    while url:
        page = http.get(url, headers=connected.headers)
        assert valid("getassertions-200-responsepayload", page.json())
        assert page.headers["x-total-count"] == "5"
        links = bc.parse_links(page.headers["link"])
        assert {"first", "last"} <= set(links)
        seen += [item["id"] for item in page.json()["assertions"]]
        url = links.get("next")
    assert seen == [a["openBadgeId"] for a in reversed(made)]
    last = http.get(_api(host, "/assertions?limit=2&offset=4"), headers=connected.headers)
    assert set(bc.parse_links(last.headers["link"])) == {"first", "last", "prev"}
    embedded = last.json()["assertions"][0]["badge"]
    assert embedded["name"] == badge["name"]


def test_listing_parameters_are_checked(http: httpx2.Client, host: RunningHost) -> None:
    """since filters (strictly after); bad limit, offset or since are 400 BAD_REQUEST."""
    connected = connect(http, host)
    future = (utcnow() + timedelta(days=1)).isoformat()
    later = http.get(_api(host, "/assertions"), params={"since": future}, headers=connected.headers)
    assert later.json()["assertions"] == []
    for params in ({"limit": "0"}, {"offset": "-1"}, {"since": "yesterday"}, {"limit": "x"}):
        answer = http.get(_api(host, "/assertions"), params=params, headers=connected.headers)
        assert answer.status_code == 400, params
        assert valid("getassertions-400-401-404-405-500-responsepayload", answer.json())


def test_pushed_assertions_are_fetched_verified_and_listed(
    http: httpx2.Client, host: RunningHost, documents: Documents
) -> None:
    """A push of a hosted award to the user is 200 OK, shows in the list; a repeat is fine."""
    connected = connect(http, host)
    url = hosted_award(documents, "bc-push", connected.email)
    body = {"assertion": {"id": url, "type": "Assertion"}}
    assert valid("postassertion-requestpayload", body)
    pushed = http.post(_api(host, "/assertions"), json=body, headers=connected.headers)
    assert pushed.status_code == 200, pushed.text
    assert valid("postassertion-200-400-401-404-405-500-responsepayload", pushed.json())
    assert pushed.json()["status"]["statusCode"] == 200
    listed = http.get(_api(host, "/assertions"), headers=connected.headers).json()
    assert [item["id"] for item in listed["assertions"]] == [url]
    again = http.post(_api(host, "/assertions"), json=body, headers=connected.headers)
    assert again.json()["status"]["statusCode"] == 200


@pytest.mark.parametrize(
    ("body", "status_text"),
    [
        pytest.param({}, "REQUEST_VALIDATION_ERROR", id="missing"),
        pytest.param({"assertion": {"type": "Assertion"}}, "REQUEST_VALIDATION_ERROR", id="no-id"),
        pytest.param({"assertion": {"id": "x"}, "more": 1}, "REQUEST_VALIDATION_ERROR", id="extra"),
        pytest.param({"signedAssertion": "a.b.c"}, "BAD_REQUEST", id="signed"),
        pytest.param({"assertion": {"id": "MINE"}}, "RECIPIENT_PROFILE_MISMATCH", id="not-mine"),
        pytest.param({"assertion": {"id": "http://127.0.0.1:9/none"}}, "INVALID_BADGE", id="gone"),
    ],
)
def test_push_refusals(
    http: httpx2.Client,
    host: RunningHost,
    documents: Documents,
    body: dict[str, Any],
    status_text: str,
) -> None:
    """Malformed pushes, signed ones, others' awards and unreachable ones are 400s, explained."""
    connected = connect(http, host)
    if body.get("assertion", {}).get("id") == "MINE":
        body = {"assertion": {"id": hosted_award(documents, "bc-other", "someone@else.example")}}
    answer = http.post(_api(host, "/assertions"), json=body, headers=connected.headers)
    assert answer.status_code == 400
    assert valid("postassertion-200-400-401-404-405-500-responsepayload", answer.json())
    assert answer.json()["status"]["statusText"] == status_text
    assert answer.json()["status"]["error"]


def test_unknown_paths_and_methods_in_the_envelope(http: httpx2.Client, host: RunningHost) -> None:
    """Unknown API paths are 404 NOT_FOUND, wrong methods 405 METHOD_NOT_ALLOWED, schema-valid."""
    missing = http.get(_api(host, "/nothing"))
    assert missing.status_code == 404
    assert missing.json()["status"]["statusText"] == "NOT_FOUND"
    wrong = http.delete(_api(host, "/assertions"))
    assert wrong.status_code == 405
    assert valid("getassertions-400-401-404-405-500-responsepayload", wrong.json())
    assert wrong.json()["status"]["statusText"] == "METHOD_NOT_ALLOWED"


def test_the_password_grant_still_works_beside_badge_connect(
    http: httpx2.Client, host: RunningHost
) -> None:
    """Badgr's password grant on the shared token endpoint is unchanged."""
    account = new_account(http, host)
    assert account.refresh
    answer = http.get(host.api_url + "/backpack/assertions", headers=account.headers)
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "endpoint", [e for e in bc.ROUTES.values() if e.auth], ids=lambda e: e.name
)
def test_every_api_route_of_the_table_needs_a_token(
    http: httpx2.Client, host: RunningHost, endpoint: Endpoint
) -> None:
    """Each Badge Connect row marked auth answers 401 UNAUTHENTICATED, schema-valid."""
    url = build_url(endpoint, host.badgeconnect_api_url)
    body: dict[str, str] | None = {} if endpoint.body is Body.JSON else None
    answer = http.request(endpoint.method, url, json=body)
    assert answer.status_code == 401
    assert valid("getprofile-400-401-404-405-500-responsepayload", answer.json())
    assert answer.json()["status"]["statusText"] == "UNAUTHENTICATED"
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_loopback_redirects_need_the_hosts_permission(http: httpx2.Client, tmp_path: Path) -> None:
    """A host started without loopback permission refuses http://127.0.0.1 registrations."""
    settings = HostSettings(db_url=f"sqlite:///{tmp_path / 'strict.sqlite3'}")
    with run_host_in_thread(settings) as strict:
        https = metadata("https://lms.example/callback")
        loopback = {**https, "redirect_uris": [REDIRECT]}
        refused = http.post(strict.base_url + "/o/register", json=loopback)
        accepted = http.post(strict.base_url + "/o/register", json=https)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_redirect_uri"
    assert accepted.status_code == 201
