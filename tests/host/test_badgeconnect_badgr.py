"""Badge Connect on the host in Badgr mode: Badgr's deviations, as badgr-wire.md §7 lists them."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from openbackpack.host import HostSettings, RunningHost, run_host_in_thread, served_routes
from openbackpack.protocols import badgeconnect as bc
from tests.host._badgeconnect import (
    auth_params,
    connect,
    entry,
    exchange,
    hosted_award,
    metadata,
    redirected,
    register,
    submit,
)
from tests.host._helpers import PASSWORD, new_email
from tests.host.conftest import Documents

BADGR_SCOPES = " ".join(s.value for s in list(bc.Scope)[:3])


@pytest.fixture(scope="module")
def badgr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """A host answering Badge Connect as Badgr does."""
    database = tmp_path_factory.mktemp("badgr") / "host.sqlite3"
    settings = HostSettings(
        db_url=f"sqlite:///{database}",
        allow_private_fetch=True,
        login_backoff_max=0,
        badgr_quirks=True,
    )
    with run_host_in_thread(settings) as running:
        yield running


def test_manifest_redirects_and_has_badgrs_shape(http: httpx2.Client, badgr: RunningHost) -> None:
    """302 to /bcv1/manifest/{domain}; v1p0, /bcv1, @context last, no revocation URL."""
    first = http.get(badgr.manifest_url)
    assert first.status_code == 302
    assert first.headers["location"] == f"{badgr.base_url}/bcv1/manifest/127.0.0.1"
    document = http.get(first.headers["location"]).json()
    assert list(document) == ["id", "badgeConnectAPI", "@context"]
    assert document["@context"] == bc.BADGR_MANIFEST_CONTEXT
    api = document["badgeConnectAPI"][0]
    assert (api["version"], api["apiBase"]) == ("v1p0", badgr.base_url + "/bcv1")
    assert "tokenRevocationUrl" not in api
    assert "//images" in api["image"]
    assert api["scopesOffered"] == BADGR_SCOPES.split()
    assert http.get(f"{badgr.base_url}/bcv1/manifest/elsewhere.example").content == b""


def test_registration_echo_and_errors(http: httpx2.Client, badgr: RunningHost) -> None:
    """grant_types echoes the default; errors are field-prefixed messages, not codes."""
    body = metadata(scope=BADGR_SCOPES)
    echoed = http.post(badgr.base_url + "/o/register", json=body).json()
    assert echoed["grant_types"] == ["authorization_code"]
    refused = http.post(badgr.base_url + "/o/register", json={**body, "client_uri": "ftp://x"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "client_uri: Must be a valid HTTPS URI"


def test_pkce_is_optional_and_the_redirect_carries_the_scope(
    http: httpx2.Client, badgr: RunningHost
) -> None:
    """Without a challenge the code is issued (and traded), with scope in the redirect."""
    email = new_email("badgr")
    badgr.add_user(email, PASSWORD)
    client = register(http, badgr, scope=BADGR_SCOPES)
    params = auth_params(client, scope=BADGR_SCOPES, verifier=None)
    query = redirected(submit(http, badgr, params, email))
    assert query["scope"] == BADGR_SCOPES
    answer = exchange(http, badgr, client, query["code"], verifier="")
    assert answer.status_code == 200, answer.text
    # Refresh tokens follow the registered grant, without offline_access.
    assert answer.json()["refresh_token"]


def test_listing_uses_results_and_badgrs_link_header(
    http: httpx2.Client, badgr: RunningHost, documents: Documents
) -> None:
    """results, error null, Link without spaces in Badgr's order, no X-Total-Count."""
    connected = connect(http, badgr, scope=BADGR_SCOPES)
    for name in ("badgr-a", "badgr-b"):
        url = hosted_award(documents, name, connected.email)
        pushed = http.post(
            badgr.badgeconnect_api_url + "/assertions",
            json={"assertion": {"id": url}},
            headers=connected.headers,
        )
        assert pushed.status_code == 201, pushed.text
        assert pushed.json() == {"status": {"error": None, "statusCode": 200, "statusText": "OK"}}
    page = http.get(badgr.badgeconnect_api_url + "/assertions?limit=1", headers=connected.headers)
    body = page.json()
    assert body["status"] == {"error": None, "statusCode": 200, "statusText": "OK"}
    [item] = body["results"]
    assert item["id"].endswith("/badgr-b/assertion")
    assert list(item)[-1] == "@context"
    assert item["recipient"]["plaintextIdentity"] == connected.email
    assert "x-total-count" not in page.headers
    link = page.headers["link"]
    assert '>; rel="next",<' in link
    assert [rel for rel in bc.parse_links(link)] == ["next", "first", "last"]


def test_badgr_errors(http: httpx2.Client, badgr: RunningHost, documents: Documents) -> None:
    """Duplicate is a 400 list, a bad limit falls back, wrong methods are PERMISSION_DENIED."""
    connected = connect(http, badgr, scope=BADGR_SCOPES)
    api = badgr.badgeconnect_api_url
    url = hosted_award(documents, "badgr-dup", connected.email)
    body = {"assertion": {"id": url}}
    assert http.post(api + "/assertions", json=body, headers=connected.headers).status_code == 201
    duplicate = http.post(api + "/assertions", json=body, headers=connected.headers)
    assert duplicate.status_code == 400
    assert duplicate.json()["status"]["error"][0]["name"] == "DUPLICATE_BADGE"
    missing = http.post(api + "/assertions", json={}, headers=connected.headers).json()
    assert missing["status"]["error"] == {"assertion": ["This field is required."]}
    assert http.get(api + "/assertions?limit=-3", headers=connected.headers).status_code == 200
    for answer, status, text in (
        (http.delete(api + "/assertions", headers=connected.headers), 401, "PERMISSION_DENIED"),
        (http.post(api + "/profile", json={}, headers=connected.headers), 401, "PERMISSION_DENIED"),
        (http.get(api + "/nowhere", headers=connected.headers), 400, "BAD_REQUEST"),
        (http.get(api + "/profile"), 401, "UNAUTHENTICATED"),
    ):
        assert answer.status_code == status
        assert answer.json()["status"] == {"error": None, "statusCode": status, "statusText": text}


def test_profile_is_a_results_list(http: httpx2.Client, badgr: RunningHost) -> None:
    """GET /profile answers results: [{name, email, @context}] with no id or type."""
    connected = connect(http, badgr, scope=BADGR_SCOPES)
    answer = http.get(badgr.badgeconnect_api_url + "/profile", headers=connected.headers).json()
    [profile] = answer["results"]
    assert set(profile) == {"name", "email", "@context"}
    assert profile["email"] == connected.email
    assert entry(http, badgr)["tokenUrl"] == badgr.base_url + "/o/token"


def test_badgr_mode_mounts_the_api_under_bcv1(badgr: RunningHost) -> None:
    """The table's API rows are served under /bcv1 instead of /ims/ob/v2p1."""
    paths = {path for _, path, _ in served_routes(badgr_quirks=True)}
    assert {"/bcv1/assertions", "/bcv1/profile", "/bcv1/manifest/{domain}"} <= paths
    assert not any(path.startswith(bc.API_PATH) for path in paths)
    assert badgr.badgeconnect_api_url == badgr.base_url + "/bcv1"
