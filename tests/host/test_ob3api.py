"""The Open Badges 3.0 API host, driven as the 1EdTech certification drives one, offline.

Discovery → registration → PKCE authorization through the consent page → token →
getCredentials with X-Total-Count and Link paging → getProfile → upsertCredential (JSON and
JWT, created then replaced) read back and compared → refresh → revoke; every answer is
validated against the specification's JSON Schemas. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx2
import pytest
from typer.testing import CliRunner

from openbackpack import AuthenticationError
from openbackpack.cli import app
from openbackpack.host import RunningHost
from openbackpack.protocols import build_url, ob3api
from tests.host._helpers import PASSWORD
from tests.host._ob3 import (
    SCOPES,
    Connected,
    Issuer,
    api,
    auth_params,
    authorize,
    connect,
    consent_form,
    exchange,
    imsx,
    new_user,
    push,
    redirected,
    register,
    valid,
)

pytestmark = pytest.mark.usefixtures("loopback_allowed")


def _page(http: httpx2.Client, connected: Connected, url: str) -> ob3api.CredentialsPage:
    answer = http.get(url, headers=connected.headers)
    assert answer.status_code == 200, answer.text
    assert valid("getopenbadgecredentialsresponse", answer.json())
    return ob3api.credentials_page_of(answer.status_code, answer.content, answer.headers)


def _all(http: httpx2.Client, host: RunningHost, connected: Connected) -> ob3api.CredentialsPage:
    return _page(http, connected, api(host, "/credentials"))


def test_discovery_is_a_service_description_with_the_oauth_endpoints(
    http: httpx2.Client, host: RunningHost
) -> None:
    """The discovery document validates, names this host's OAuth URLs, scopes and policies."""
    answer = http.get(api(host, "/discovery"))
    assert answer.status_code == 200
    document = answer.json()
    assert valid("servicedescription", document)
    description = ob3api.description_of(answer.content)
    assert description.api_base == api(host)
    assert description.registration_url == host.base_url + "/o/v3p0/register"
    assert description.flow.authorization_url == host.base_url + "/o/v3p0/authorize"
    assert description.flow.token_url == host.base_url + "/o/v3p0/token"
    assert description.scopes == SCOPES.split()
    assert description.info.privacy_policy_url.startswith(host.base_url)
    assert set(document["paths"]) == {"/credentials", "/profile", "/discovery"}


def test_discovery_has_validators_and_answers_conditional_requests_with_304(
    http: httpx2.Client, host: RunningHost
) -> None:
    """A matching If-None-Match or a later If-Modified-Since is 304; a stale one is 200."""
    first = http.get(api(host, "/discovery"))
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert "max-age" in first.headers["cache-control"]
    same = http.get(api(host, "/discovery"), headers={"If-None-Match": etag})
    assert (same.status_code, same.content, same.headers["etag"]) == (304, b"", etag)
    later = http.get(api(host, "/discovery"), headers={"If-Modified-Since": modified})
    assert later.status_code == 304
    earlier = format_datetime(datetime.now(UTC) - timedelta(days=1), usegmt=True)
    stale = http.get(api(host, "/discovery"), headers={"If-Modified-Since": earlier})
    assert stale.status_code == 200
    other = http.get(api(host, "/discovery"), headers={"If-None-Match": '"other"'})
    assert other.status_code == 200
    assert other.content == first.content


def test_the_certification_list_end_to_end(http: httpx2.Client, host: RunningHost) -> None:
    """The whole certification sequence works and what was stored is what comes back."""
    email = new_user(host)
    client = register(http, host)
    query = authorize(http, client, email, state="opaque-state-42")
    assert query["state"] == "opaque-state-42"
    grant = exchange(http, client, query["code"])
    assert grant.status_code == 200, grant.text
    assert grant.headers["cache-control"] == "no-store"
    tokens = grant.json()
    assert set(tokens["scope"].split()) == set(SCOPES.split())
    assert tokens["refresh_token"]
    connected = Connected(email, client, tokens)
    issuer = Issuer()

    # upsertCredential (JSON): three new credentials, each created.
    pushed = [issuer.credential(achievement=f"https://example.com/a/{n}") for n in range(3)]
    for credential in pushed:
        answer = push(http, host, connected, credential)
        assert answer.status_code == 201, answer.text
        assert answer.json() == credential
        assert valid("achievementcredential", answer.json())

    # getCredentials: X-Total-Count and the Link relations, page by page.
    first = _page(http, connected, api(host, "/credentials?limit=2"))
    assert first.total == 3
    assert first.credentials == pushed[:2]
    assert {"first", "last", "next"} <= set(first.links)
    assert "prev" not in first.links
    assert first.next_url is not None
    second = _page(http, connected, first.next_url)
    assert second.credentials == pushed[2:]
    assert second.next_url is None
    assert second.links["prev"] == first.links["first"]
    assert second.links["last"] == first.links["last"]

    # getProfile.
    profile = http.get(api(host, "/profile"), headers=connected.headers)
    assert profile.status_code == 200
    assert valid("profile", profile.json())
    assert profile.json()["email"] == email
    assert "Profile" in profile.json()["type"]

    # upsertCredential: the same id again replaces (200), and is read back as pushed.
    changed = issuer.sign({**issuer.document(credential_id=pushed[0]["id"]), "name": "Renamed"})
    replaced = push(http, host, connected, changed)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json() == changed
    after = _all(http, host, connected)
    assert after.total == 3
    assert after.credentials == [changed, *pushed[1:]]

    # upsertCredential (JWT): new, then replaced by issuer + achievement + subject.
    token = issuer.jwt(issuer.document(achievement="https://example.com/a/jwt"))
    created = push(http, host, connected, token)
    assert created.status_code == 201, created.text
    assert created.headers["content-type"].startswith("text/plain")
    assert created.text == token
    again = issuer.jwt(issuer.document(achievement="https://example.com/a/jwt", name="v2"))
    updated = push(http, host, connected, again)
    assert updated.status_code == 200, updated.text
    assert updated.text == again
    listed = _all(http, host, connected)
    assert listed.total == 4
    assert listed.compact_jws == [again]
    assert valid("getopenbadgecredentialsresponse", {"compactJwsString": listed.compact_jws})

    # Refresh: a new pair; the old refresh token is spent.
    form = ob3api.refresh_form(tokens["refresh_token"])
    renewed = http.post(client.endpoints["refresh"], data=form, headers=client.basic)
    assert renewed.status_code == 200, renewed.text
    spent = http.post(client.endpoints["refresh"], data=form, headers=client.basic)
    assert spent.status_code == 400
    assert spent.json()["error"] == "invalid_grant"
    old_headers = connected.headers
    connected.grant = renewed.json()
    assert http.get(api(host, "/credentials"), headers=old_headers).status_code == 401
    assert _all(http, host, connected).total == 4

    # Revoke: the pair stops working at once.
    revoke = ob3api.revocation_form(connected.grant["refresh_token"], "refresh_token")
    gone = http.post(client.endpoints["revoke"], data=revoke, headers=client.basic)
    assert gone.status_code == 200
    refused = http.get(api(host, "/credentials"), headers=connected.headers)
    imsx(refused, 401, "unauthorizedrequest")
    assert refused.headers["www-authenticate"].startswith("Bearer")


def test_since_filters_by_issue_date_and_keeps_the_paging_query(
    http: httpx2.Client, host: RunningHost
) -> None:
    """Only credentials issued after ``since`` are listed and counted; Link keeps ``since``."""
    connected = connect(http, host)
    issuer = Issuer()
    for year in (2019, 2021, 2023):
        document = issuer.document(achievement=f"https://example.com/y/{year}")
        document["validFrom"] = f"{year}-06-01T00:00:00Z"
        assert push(http, host, connected, issuer.sign(document)).status_code == 201
    page = _page(http, connected, api(host, "/credentials?since=2020-01-01T00:00:00&limit=1"))
    assert page.total == 2
    assert page.credentials[0]["validFrom"] == "2021-06-01T00:00:00Z"
    assert page.next_url is not None
    assert "since=2020-01-01T00%3A00%3A00" in page.next_url
    rest = _page(http, connected, page.next_url)
    assert [c["validFrom"] for c in rest.credentials] == ["2023-06-01T00:00:00Z"]
    bad = http.get(api(host, "/credentials?since=yesterday"), headers=connected.headers)
    assert "since" in imsx(bad, 400, "invalid_query_parameter")


@pytest.mark.parametrize("query", ["limit=0", "offset=-1", "limit=x", "offset=99999999999"])
def test_bad_paging_parameters_are_400_invalid_query_parameter(
    http: httpx2.Client, host: RunningHost, query: str
) -> None:
    """A limit below 1, a negative or huge offset, or a non-number is refused, named."""
    connected = connect(http, host)
    answer = http.get(api(host, f"/credentials?{query}"), headers=connected.headers)
    assert query.split("=")[0] in imsx(answer, 400, "invalid_query_parameter")


def test_each_user_sees_only_their_own_credentials(http: httpx2.Client, host: RunningHost) -> None:
    """Two learners pushing the same credential each hold one copy; neither sees the other's."""
    first, second = connect(http, host), connect(http, host)
    credential = Issuer().credential()
    assert push(http, host, first, credential).status_code == 201
    assert push(http, host, second, credential).status_code == 201
    assert _all(http, host, first).total == 1
    assert _all(http, host, second).credentials == [credential]
    assert _all(http, host, connect(http, host)).total == 0


def test_put_profile_changes_names_and_keeps_the_id(http: httpx2.Client, host: RunningHost) -> None:
    """putProfile sets given and family names; the answer is the new profile, schema-valid."""
    connected = connect(http, host)
    profile: dict[str, Any] = http.get(api(host, "/profile"), headers=connected.headers).json()
    wanted = {**profile, "givenName": "Ada", "familyName": "Lovelace"}
    answer = http.put(api(host, "/profile"), json=wanted, headers=connected.headers)
    assert answer.status_code == 200, answer.text
    assert valid("profile", answer.json())
    assert answer.json()["name"] == "Ada Lovelace"
    again = http.get(api(host, "/profile"), headers=connected.headers).json()
    assert (again["id"], again["givenName"], again["familyName"]) == (
        profile["id"],
        "Ada",
        "Lovelace",
    )


def test_put_profile_refuses_another_id_or_an_unverified_email(
    http: httpx2.Client, host: RunningHost
) -> None:
    """Another profile's id, a missing Profile type or a foreign e-mail is 400 invalid_data."""
    connected = connect(http, host)
    profile = http.get(api(host, "/profile"), headers=connected.headers).json()
    for body, word in (
        ({**profile, "id": "urn:uuid:00000000-0000-0000-0000-000000000000"}, "id"),
        ({**profile, "type": ["Person"]}, "type"),
        ({**profile, "email": "someone-else@example.org"}, "email"),
        (["not", "an", "object"], "object"),
    ):
        answer = http.put(api(host, "/profile"), json=body, headers=connected.headers)
        assert word in imsx(answer, 400, "invalid_data")


def test_host_credential_list_shows_what_a_user_holds(
    http: httpx2.Client, host: RunningHost, host_db_url: str
) -> None:
    """``host credential list`` lists a user's pushed credentials; an unknown user is one line."""
    connected = connect(http, host)
    issuer = Issuer()
    credential = issuer.credential(achievement="https://example.com/a/cli")
    assert push(http, host, connected, credential).status_code == 201
    assert push(http, host, connected, issuer.jwt(issuer.document())).status_code == 201
    args = ["host", "credential", "list", "--user", connected.email, "--db", host_db_url]
    listed = CliRunner().invoke(app, [*args, "--json"])
    assert listed.exit_code == 0, listed.output
    held = json.loads(listed.stdout)
    assert [(c["id"], c["format"]) for c in held] == [
        (credential["id"], "json"),
        (held[1]["id"], "jwt"),
    ]
    assert held[0]["achievement"] == "https://example.com/a/cli"
    assert held[0]["issuer"] == issuer.did
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0
    assert f"OB 3.0 credentials of {connected.email}" in table.stdout
    assert "jwt" in table.stdout
    missing = CliRunner().invoke(app, ["host", "credential", "list", "--user", "nobody@x.org",
                                       "--db", host_db_url])  # fmt: skip
    assert missing.exit_code == 1
    assert missing.output.startswith("error: ")


def test_every_table_row_answers_as_the_table_says(http: httpx2.Client, host: RunningHost) -> None:
    """Each row, its URL built by the table, answers its success status; errors read typed."""
    base = api(host)
    urls = {name: build_url(endpoint, base) for name, endpoint in ob3api.ROUTES.items()}
    assert urls["discovery"] == base + "/discovery"
    email, client = new_user(host), register(http, host)
    assert urls["register"] == client.endpoints["register"]
    assert urls["token"] == client.endpoints["token"]
    assert urls["revoke"] == client.endpoints["revoke"]
    page = http.get(urls["authorize"], params=auth_params(client))
    assert page.status_code == ob3api.route("authorize").success
    action, hidden = consent_form(page)
    assert action == urls["authorize.submit"]
    form = {**hidden, "email": email, "password": PASSWORD, "consent": "allow"}
    submitted = http.post(action, data=form, follow_redirects=False)
    assert submitted.status_code == ob3api.route("authorize.submit").success
    grant = exchange(http, client, redirected(submitted)["code"])
    assert grant.status_code == ob3api.route("token").success
    connected = Connected(email, client, grant.json())
    headers, content = ob3api.upsert_body(Issuer().credential())
    upsert = ob3api.route("credentials.upsert")
    pushed = http.request(
        upsert.method, urls[upsert.name], content=content, headers={**headers, **connected.headers}
    )
    assert ob3api.upsert_result(pushed.status_code, pushed.content, pushed.headers).created
    for name in ("credentials.list", "profile.get", "discovery"):
        endpoint = ob3api.route(name)
        answer = http.request(endpoint.method, urls[name], headers=connected.headers)
        assert answer.status_code == endpoint.success, name
    profile = http.get(urls["profile.get"], headers=connected.headers)
    read = ob3api.profile_of(profile.status_code, profile.content, profile.headers)
    body = ob3api.profile_body(read)
    put = http.put(urls["profile.update"], content=body, headers={
        "Content-Type": "application/json", **connected.headers})  # fmt: skip
    assert put.status_code == ob3api.route("profile.update").success
    unauthorized = http.get(urls["credentials.list"])
    with pytest.raises(AuthenticationError):
        ob3api.credentials_page_of(unauthorized.status_code, unauthorized.content, {})
    revoke = ob3api.revocation_form(connected.grant["access_token"], "access_token")
    revoked = http.post(urls["revoke"], data=revoke, headers=client.basic)
    assert revoked.status_code == ob3api.route("revoke").success
