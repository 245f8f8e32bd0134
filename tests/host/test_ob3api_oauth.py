"""The 3.0 API's OAuth server on the host: registration rules and the negative cases.

Wrong state (echoed exactly, the check is the client's), a redirect URI that does not match,
a replayed code (refused, and its tokens revoked), a wrong verifier, an expired token, a
scope not granted; and the separation from Badge Connect's clients.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import update

from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.host import _schema as t
from openbackpack.protocols import ob3api
from openbackpack.store._types import utcnow
from tests.host import _badgeconnect as bc
from tests.host._ob3 import (
    REDIRECT,
    SCOPES,
    Issuer,
    api,
    auth_params,
    authorize,
    connect,
    consent_form,
    endpoints,
    exchange,
    imsx,
    metadata,
    new_user,
    push,
    redirected,
    register,
)

pytestmark = pytest.mark.usefixtures("loopback_allowed")


def test_registration_answers_201_with_a_secret_never_cached(
    http: httpx2.Client, host: RunningHost
) -> None:
    """RFC 7591: 201, the client id and secret, the 3.0 scopes granted, no-store."""
    urls = endpoints(http, host)
    answer = http.post(urls["register"], json=metadata())
    assert answer.status_code == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    data = answer.json()
    assert data["client_id"]
    assert data["client_secret"]
    assert data["scope"].split() == SCOPES.split()
    registration = ob3api.registration_of(answer.content)
    assert registration.token_endpoint_auth_method == "client_secret_basic"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"client_uri": "http://platform.example.org/"}, "client_uri"),
        ({"logo_uri": "https://elsewhere.example.org/logo.png"}, "do not match domain"),
        ({"redirect_uris": ["https://evil.example.org/cb"]}, "do not match domain"),
        ({"scope": "https://purl.imsglobal.org/spec/ob/v2p1/scope/assertion.readonly"}, "scope"),
        ({"client_name": ""}, "client_name"),
    ],
)
def test_registration_keeps_the_https_and_same_host_rules(
    http: httpx2.Client, host: RunningHost, overrides: dict[str, Any], field: str
) -> None:
    """Plain http off loopback, two host names, only Badge Connect scopes: 400, named."""
    answer = http.post(endpoints(http, host)["register"], json=metadata(**overrides))
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["error_description"]


@pytest.fixture(scope="module")
def strict_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """A host that, like a public one, allows no loopback redirect URIs."""
    path: Path = tmp_path_factory.mktemp("strict") / "h.sqlite3"
    with run_host_in_thread(HostSettings(db_url=f"sqlite:///{path}")) as running:
        yield running


def test_loopback_redirects_only_when_the_host_allows_them(
    http: httpx2.Client, strict_host: RunningHost
) -> None:
    """A host that does not allow loopback refuses an http://127.0.0.1 registration."""
    answer = http.post(endpoints(http, strict_host)["register"], json=metadata())
    assert answer.status_code == 400
    assert "HTTPS" in answer.json()["error_description"]
    secure = metadata(
        "https://platform.example.org/cb",
        client_uri="https://platform.example.org/",
        logo_uri="https://platform.example.org/logo.png",
        tos_uri="https://platform.example.org/tos",
        policy_uri="https://platform.example.org/privacy",
    )
    assert http.post(endpoints(http, strict_host)["register"], json=secure).status_code == 201


def test_state_is_echoed_exactly_and_a_denial_redirects_with_access_denied(
    http: httpx2.Client, host: RunningHost
) -> None:
    """The host returns the state it was given, byte for byte, with a code or with a denial."""
    email, client = new_user(host), register(http, host)
    state = "ünïcode & spaces / =?"
    assert authorize(http, client, email, state=state)["state"] == state
    denied = authorize(http, client, email, state="s2", consent="deny")
    assert denied == {"error": "access_denied", "error_description": "Denied.", "state": "s2"}


def test_a_redirect_uri_mismatch_is_refused_on_the_page_and_at_the_token_endpoint(
    http: httpx2.Client, host: RunningHost
) -> None:
    """Another redirect URI is an error page (never a redirect); at the token endpoint too."""
    email, client = new_user(host), register(http, host)
    params = {**auth_params(client), "redirect_uri": "http://127.0.0.1:9/elsewhere"}
    page = http.get(client.endpoints["authorize"], params=params, follow_redirects=False)
    assert page.status_code == 400
    assert "redirect URI" in page.text
    code = authorize(http, client, email)["code"]
    answer = exchange(http, client, code, redirect_uri="http://127.0.0.1:9/elsewhere")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_pkce_s256_is_required(http: httpx2.Client, host: RunningHost) -> None:
    """Without a challenge, or with plain, the client is sent back with invalid_request."""
    client = register(http, host)
    params = auth_params(client)
    del params["code_challenge"]
    refused = redirected(http.get(client.endpoints["authorize"], params=params))
    assert refused["error"] == "invalid_request"
    plain = {**auth_params(client), "code_challenge_method": "plain"}
    assert redirected(http.get(client.endpoints["authorize"], params=plain))["error"] == (
        "invalid_request"
    )


def test_a_wrong_verifier_is_invalid_grant_and_leaves_the_code_unspent(
    http: httpx2.Client, host: RunningHost
) -> None:
    """A code_verifier that does not match the challenge is refused; the right one then works."""
    email, client = new_user(host), register(http, host)
    code = authorize(http, client, email)["code"]
    wrong = exchange(http, client, code, verifier=ob3api.new_code_verifier())
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert exchange(http, client, code).status_code == 200


def test_a_replayed_code_is_refused_and_revokes_its_tokens(
    http: httpx2.Client, host: RunningHost
) -> None:
    """RFC 6749 §4.1.2: the second use is invalid_grant and the first use's tokens die."""
    email, client = new_user(host), register(http, host)
    code = authorize(http, client, email)["code"]
    first = exchange(http, client, code)
    assert first.status_code == 200
    headers = {"Authorization": f"Bearer {first.json()['access_token']}"}
    assert http.get(api(host, "/profile"), headers=headers).status_code == 200
    second = exchange(http, client, code)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    imsx(http.get(api(host, "/profile"), headers=headers), 401, "unauthorizedrequest")
    form = ob3api.refresh_form(first.json()["refresh_token"])
    refreshed = http.post(client.endpoints["token"], data=form, headers=client.basic)
    assert refreshed.status_code == 400


def test_an_expired_token_is_401_and_a_refresh_renews_it(
    http: httpx2.Client, host: RunningHost
) -> None:
    """Past expires_in the token is 401 unauthorizedrequest; the refresh token still works."""
    connected = connect(http, host)
    digest = hashlib.sha256(connected.grant["access_token"].encode()).hexdigest()
    with host.database.begin() as connection:
        connection.execute(
            update(t.tokens)
            .where(t.tokens.c.access_hash == digest)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = http.get(api(host, "/credentials"), headers=connected.headers)
    assert "expired" in imsx(expired, 401, "unauthorizedrequest")
    form = ob3api.refresh_form(connected.grant["refresh_token"])
    renewed = http.post(
        connected.client.endpoints["token"], data=form, headers=connected.client.basic
    )
    assert renewed.status_code == 200
    headers = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
    assert http.get(api(host, "/credentials"), headers=headers).status_code == 200


def test_a_scope_not_granted_is_403_forbidden_on_each_route(
    http: httpx2.Client, host: RunningHost
) -> None:
    """A token of the read scopes only cannot upsert nor update the profile: 403 Imsx."""
    readonly = " ".join(
        (ob3api.Scope.CREDENTIAL_READONLY.value, ob3api.Scope.PROFILE_READONLY.value)
    )
    connected = connect(http, host, scope=readonly)
    assert connected.grant["scope"] == readonly
    refused = push(http, host, connected, Issuer().credential())
    assert "credential.upsert" in imsx(refused, 403, "forbidden")
    assert "insufficient_scope" in refused.headers["www-authenticate"]
    profile = http.get(api(host, "/profile"), headers=connected.headers).json()
    update_answer = http.put(api(host, "/profile"), json=profile, headers=connected.headers)
    assert "profile.update" in imsx(update_answer, 403, "forbidden")
    assert http.get(api(host, "/credentials"), headers=connected.headers).status_code == 200
    writer = connect(http, host, scope=ob3api.Scope.CREDENTIAL_UPSERT.value)
    listed = http.get(api(host, "/credentials"), headers=writer.headers)
    assert "credential.readonly" in imsx(listed, 403, "forbidden")


def test_badge_connect_clients_and_tokens_do_not_reach_the_3_0_api(
    http: httpx2.Client, host: RunningHost
) -> None:
    """A Badge Connect client is unknown to the 3.0 page and token endpoint; its token is 401."""
    connected = bc.connect(http, host)
    urls = endpoints(http, host)
    params = {
        **bc.auth_params(connected.client),
        "scope": SCOPES,
    }
    page = http.get(urls["authorize"], params=params)
    assert page.status_code == 400
    assert "not registered" in page.text
    form = ob3api.refresh_form(connected.grant["refresh_token"])
    answer = http.post(urls["token"], data=form, headers=connected.client.basic)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    imsx(http.get(api(host, "/profile"), headers=connected.headers), 401, "unauthorizedrequest")
    ob3 = register(http, host)
    bc_page = http.get(
        host.base_url + "/o/authorize",
        params=bc.auth_params(bc.Client(ob3.client_id, ob3.client_secret, REDIRECT)),
    )
    assert bc_page.status_code == 400


def test_the_token_endpoint_needs_client_authentication(
    http: httpx2.Client, host: RunningHost
) -> None:
    """No client credentials, or a wrong secret, is 401 invalid_client."""
    email, client = new_user(host), register(http, host)
    code = authorize(http, client, email)["code"]
    form = ob3api.code_grant_form(code, client.redirect_uri, bc.VERIFIER, [])
    anonymous = http.post(client.endpoints["token"], data=form)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "invalid_client"
    wrong = http.post(client.endpoints["token"], data=form, auth=(client.client_id, "nope"))
    assert wrong.status_code == 401


def test_the_consent_page_posts_to_the_3_0_form_and_lists_the_3_0_scopes(
    http: httpx2.Client, host: RunningHost
) -> None:
    """The page's form goes to /o/v3p0/authorize and says what each 3.0 scope allows."""
    client = register(http, host)
    page = http.get(client.endpoints["authorize"], params=auth_params(client))
    action, hidden = consent_form(page)
    assert action == host.base_url + "/o/v3p0/authorize"
    assert hidden["client_id"] == client.client_id
    assert "add credentials to your backpack" in page.text
    assert page.headers["x-frame-options"] == "DENY"
