"""Badge Connect without I/O: the table, PKCE, scopes, client authentication, answers."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from openbackpack import (
    AuthenticationError,
    DuplicateBadgeError,
    InvalidResponseError,
    RemoteValidationError,
)
from openbackpack.protocols import Base, Shape, build_url
from openbackpack.protocols import badgeconnect as bc

ENTRY: dict[str, Any] = {
    "name": "Badgr Example",
    "image": "https://api.badgr.example/static//images/logo.png",
    "apiBase": "https://api.badgr.example/bcv1",
    "version": "v1p0",
    "termsOfServiceUrl": "https://badgr.com/terms-of-service.html",
    "privacyPolicyUrl": "https://badgr.com/privacy-policy.html",
    "scopesOffered": [
        bc.Scope.ASSERTION_READONLY,
        bc.Scope.ASSERTION_CREATE,
        bc.Scope.PROFILE_READONLY,
    ],
    "registrationUrl": "https://api.badgr.example/o/register",
    "authorizationUrl": "https://badgr.example/auth/oauth2/authorize",
    "tokenUrl": "https://api.badgr.example/o/token",
}
BADGR_MANIFEST: dict[str, Any] = {
    "id": "https://api.badgr.example/bcv1/manifest/badgr.example",
    "badgeConnectAPI": [ENTRY],
    "@context": "https://w3id.org/openbadges/badgeconnect/v1",
}


def test_rfc7636_example_challenge() -> None:
    """The S256 challenge of RFC 7636 Appendix B's verifier is the RFC's value."""
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert bc.code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_new_verifiers_are_long_unreserved_and_unique() -> None:
    """Fresh verifiers are 64 unreserved characters, never repeated, and have a challenge."""
    verifiers = {bc.new_code_verifier() for _ in range(50)}
    assert len(verifiers) == 50
    assert all(len(v) == 64 and bc.code_challenge(v) for v in verifiers)


@pytest.mark.parametrize("bad", ["short", "x" * 129, "a" * 42 + "!"])
def test_malformed_verifiers_have_no_challenge(bad: str) -> None:
    """A verifier that is too short, too long or has reserved characters is refused."""
    with pytest.raises(ValueError, match="verifier"):
        bc.code_challenge(bad)


def test_scope_filter_keeps_the_first_offered_scope() -> None:
    """Badgr's three scopes are all requested: the first is never dropped (W11)."""
    offered = ENTRY["scopesOffered"]
    assert bc.requested_scopes(offered) == list(offered)


def test_scope_filter_drops_only_what_must_go() -> None:
    """openid and profile go, then unregistered and unwanted scopes; the order stays."""
    offered = ["openid", bc.Scope.ASSERTION_READONLY, "profile", bc.Scope.PROFILE_UPDATE, "x:y"]
    assert bc.requested_scopes(offered) == [
        bc.Scope.ASSERTION_READONLY,
        bc.Scope.PROFILE_UPDATE,
        "x:y",
    ]
    registered = [bc.Scope.ASSERTION_READONLY, "x:y"]
    assert bc.requested_scopes(offered, registered=registered) == [
        bc.Scope.ASSERTION_READONLY,
        "x:y",
    ]
    wanted = ["x:y"]
    assert bc.requested_scopes(offered, registered=registered, wanted=wanted) == ["x:y"]


def test_authorization_url_carries_pkce_and_keeps_an_existing_query() -> None:
    """The URL has every parameter, S256 spelled right, and the endpoint's own query."""
    url = bc.authorization_url(
        "https://host.example/auth?tenant=a",
        client_id="cid",
        redirect_uri="http://127.0.0.1:5000/callback",
        scopes=[bc.Scope.ASSERTION_READONLY, bc.Scope.OFFLINE_ACCESS],
        state="st",
        challenge="ch",
    )
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.netloc == "host.example"
    assert parts.path == "/auth"
    assert query == {
        "tenant": ["a"],
        "response_type": ["code"],
        "client_id": ["cid"],
        "redirect_uri": ["http://127.0.0.1:5000/callback"],
        "scope": [f"{bc.Scope.ASSERTION_READONLY} offline_access"],
        "state": ["st"],
        "code_challenge": ["ch"],
        "code_challenge_method": ["S256"],
    }


def test_client_secret_basic_is_a_form_encoded_basic_header() -> None:
    """Basic authentication encodes id and secret as forms do before joining them."""
    headers, form = bc.client_authentication("client_secret_basic", "a b", "s:e/c")
    assert form == {}
    scheme, _, value = headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(value).decode() == "a+b:s%3Ae%2Fc"


def test_other_client_authentication_methods() -> None:
    """client_secret_post puts both in the body, none only the id; others are refused."""
    assert bc.client_authentication("client_secret_post", "id", "sec") == (
        {},
        {"client_id": "id", "client_secret": "sec"},
    )
    assert bc.client_authentication("none", "id", None) == ({}, {"client_id": "id"})
    with pytest.raises(ValueError, match="unsupported"):
        bc.client_authentication("private_key_jwt", "id", "sec")
    with pytest.raises(ValueError, match="secret"):
        bc.client_authentication("client_secret_basic", "id", None)


def test_registration_payload_is_moodles() -> None:
    """The registration body has Moodle's fields, the code and refresh grants and the scopes."""
    metadata = bc.ClientMetadata(
        "Site", "https://s.example/", "https://s.example/logo.png", "https://s.example/tos",
        "https://s.example/privacy", "openbackpack", "1.0",
    )  # fmt: skip
    payload = bc.registration_payload(metadata, ["https://s.example/cb"], ["a", "b"])
    assert payload == {
        "client_name": "Site",
        "client_uri": "https://s.example/",
        "logo_uri": "https://s.example/logo.png",
        "tos_uri": "https://s.example/tos",
        "policy_uri": "https://s.example/privacy",
        "software_id": "openbackpack",
        "software_version": "1.0",
        "redirect_uris": ["https://s.example/cb"],
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": "a b",
    }


def test_token_request_bodies() -> None:
    """The code grant carries the verifier and redirect URI; refresh and revocation are RFC's."""
    assert bc.code_grant_form("c", "https://r", "v", ["s1", "s2"]) == {
        "grant_type": "authorization_code",
        "code": "c",
        "redirect_uri": "https://r",
        "code_verifier": "v",
        "scope": "s1 s2",
    }
    assert bc.refresh_form("r") == {"grant_type": "refresh_token", "refresh_token": "r"}
    assert bc.refresh_form("r", "s")["scope"] == "s"
    assert bc.revocation_form("t", "refresh_token") == {
        "token": "t",
        "token_type_hint": "refresh_token",
    }


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            '<https://a/x?limit=10&offset=10>; rel="next",<https://a/x?limit=10&offset=0>; '
            'rel="first",<https://a/x?limit=10&offset=20>; rel="last"',
            {
                "next": "https://a/x?limit=10&offset=10",
                "first": "https://a/x?limit=10&offset=0",
                "last": "https://a/x?limit=10&offset=20",
            },
            id="badgr-no-space",
        ),
        pytest.param(
            '<https://a/1>; rel=prev, <https://a/2> ; rel="next last"',
            {"prev": "https://a/1", "next": "https://a/2", "last": "https://a/2"},
            id="spaced-bare-and-multi",
        ),
        pytest.param("", {}, id="empty"),
        pytest.param("<https://a/1>; title=x", {}, id="no-rel"),
    ],
)
def test_link_headers(header: str, expected: dict[str, str]) -> None:
    """Link headers parse with or without spaces, bare or quoted, one or several relations."""
    assert bc.parse_links(header) == expected


def test_freshness_from_cache_headers() -> None:
    """max-age wins, no-store means zero, Expires counts from Date, silence is None."""
    date = datetime(2026, 1, 1, tzinfo=UTC)
    assert bc.freshness({"Cache-Control": "public, max-age=600"}) == timedelta(seconds=600)
    assert bc.freshness({"cache-control": "no-store"}) == timedelta(0)
    assert bc.freshness(
        {"Date": "Thu, 01 Jan 2026 00:00:00 GMT", "Expires": "Thu, 01 Jan 2026 01:00:00 GMT"}
    ) == timedelta(hours=1)
    assert bc.freshness({"Expires": "0"}, date) == timedelta(0)
    assert bc.freshness({}) is None


def test_badgrs_manifest_reads_with_its_quirks() -> None:
    """Badgr's manifest (v1p0, /bcv1, @context last) gives its one entry."""
    manifest = bc.manifest_of(json.dumps(BADGR_MANIFEST).encode())
    entry = manifest.entry()
    assert entry.api_base == "https://api.badgr.example/bcv1"
    assert entry.token_revocation_url is None
    assert entry.scopes_offered[0] == bc.Scope.ASSERTION_READONLY


def test_manifest_entry_prefers_v2p1() -> None:
    """Of several entries the v2p1 one is used, else the last (as Moodle)."""
    first = dict(ENTRY, version="v2p1")
    last = dict(first, version="v9p9", apiBase="https://other/ims/ob/v2p1")
    manifest = bc.manifest_of(json.dumps({"id": "x", "badgeConnectAPI": [first, last]}).encode())
    assert manifest.entry().version == "v2p1"
    without = bc.manifest_of(
        json.dumps({"badgeConnectAPI": [dict(first, version="v1p0"), last]}).encode()
    )
    assert without.entry().api_base == "https://other/ims/ob/v2p1"


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(b"<html></html>", id="html"),
        pytest.param(b'{"badgeConnectAPI": []}', id="no-entry"),
        pytest.param(b'{"badgeConnectAPI": [{"apiBase": "https://a"}]}', id="no-token-url"),
        pytest.param(
            json.dumps({"badgeConnectAPI": [dict(ENTRY, tokenUrl="javascript:x")]}).encode(),
            id="not-http",
        ),
    ],
)
def test_unusable_manifests_are_refused(document: bytes) -> None:
    """A body that is not a manifest, or sends tokens anywhere but http(s), is refused."""
    with pytest.raises(InvalidResponseError, match="manifest"):
        bc.manifest_of(document)


def test_manifest_urls_and_origin_routes() -> None:
    """The manifest is at the origin of the web URL; API routes hang off apiBase."""
    assert bc.manifest_url("https://h.example:8443/web/") == (
        "https://h.example:8443/.well-known/badgeconnect.json"
    )
    assert bc.manifest_url("https://h.example/.well-known/badgeconnect.json/") == (
        "https://h.example/.well-known/badgeconnect.json"
    )
    manifest = bc.route("manifest")
    assert manifest.base is Base.ORIGIN
    assert build_url(manifest, "http://127.0.0.1:9/ims/ob/v2p1") == (
        "http://127.0.0.1:9/.well-known/badgeconnect.json"
    )
    listing = bc.route("assertions.list")
    assert listing.shape is Shape.STATUS
    assert listing.auth
    assert build_url(listing, "https://h/ims/ob/v2p1/", query=[("limit", "5")]) == (
        "https://h/ims/ob/v2p1/assertions?limit=5"
    )
    assert bc.TOKEN.path == "/o/token"


def _body(**status: object) -> bytes:
    return json.dumps({"status": status}).encode()


def test_push_succeeds_on_status_code_200_with_http_200_or_201() -> None:
    """HTTP 200 (spec) and 201 (Badgr) both succeed when the body's statusCode is 200."""
    ok = _body(statusCode=200, statusText="OK", error=None)
    assert bc.push_result(200, ok, {}).ok
    assert bc.push_result(201, ok, {}).ok


def test_push_with_a_failing_status_in_a_2xx_answer_raises() -> None:
    """A 2xx whose status is not 200 raises its typed error; no status at all is invalid."""
    with pytest.raises(RemoteValidationError, match="INVALID_BADGE: bad"):
        bc.push_result(200, _body(statusCode=400, statusText="INVALID_BADGE", error="bad"), {})
    with pytest.raises(InvalidResponseError, match="no status"):
        bc.push_result(200, b"{}", {})


def test_badgrs_duplicate_error_list_is_a_duplicate_badge_error() -> None:
    """error as a list of objects naming DUPLICATE_BADGE is a DuplicateBadgeError."""
    content = _body(
        statusCode=400,
        statusText="REQUEST_VALIDATION_ERROR",
        error=[{"name": "DUPLICATE_BADGE", "description": "You already have this badge"}],
    )
    with pytest.raises(DuplicateBadgeError) as caught:
        bc.push_result(400, content, {})
    assert caught.value.validation_errors == ["DUPLICATE_BADGE: You already have this badge"]


def test_error_shapes_become_typed_errors() -> None:
    """String, string-list and object errors, and 401 statuses, keep their meaning."""
    flat = bc.error_of(
        400, _body(statusCode=400, statusText="X", error=["FETCH_HTTP_NODE", "Unable"]), action="a"
    )
    assert isinstance(flat, RemoteValidationError)
    assert flat.validation_errors == ["FETCH_HTTP_NODE", "Unable"]
    fields = bc.error_of(400, _body(statusCode=400, error={"assertion": ["required"]}), action="a")
    assert isinstance(fields, RemoteValidationError)
    assert fields.field_errors == {"assertion": ["['required']"]}
    unauthenticated = bc.error_of(
        401, _body(statusCode=401, statusText="UNAUTHENTICATED"), action="a"
    )
    assert isinstance(unauthenticated, AuthenticationError)
    assert unauthenticated.error == "UNAUTHENTICATED"
    plain = bc.error_of(404, b"not json", action="a")
    assert plain.status_code == 404


def test_assertion_pages_and_profiles_in_both_shapes() -> None:
    """assertions or results; profile or results[0]; anything else is invalid."""
    assert bc.assertions_of(b'{"status": {"statusCode": 200}, "assertions": [{"id": "a"}]}') == [
        {"id": "a"}
    ]
    assert bc.assertions_of(b'{"results": [{"id": "b"}]}') == [{"id": "b"}]
    assert bc.assertions_of(b'{"status": {"statusCode": 200}}') == []
    with pytest.raises(InvalidResponseError):
        bc.assertions_of(b'{"assertions": ["jws"]}')
    spec = bc.profile_of(b'{"profile": {"id": "urn:x", "type": "Profile", "email": "a@b.c"}}')
    assert (spec.id, spec.email) == ("urn:x", "a@b.c")
    badgr = bc.profile_of(b'{"results": [{"name": "Ada", "email": "a@b.c"}]}')
    assert (badgr.id, badgr.name) == (None, "Ada")
    with pytest.raises(InvalidResponseError):
        bc.profile_of(b'{"results": []}')


def test_registration_answers_hide_the_secret() -> None:
    """A registration keeps its client id; its repr and public form never hold the secret."""
    registration = bc.registration_of(
        b'{"client_id": "abc", "client_secret": "s3cr3t-value", "scope": "a b"}'
    )
    assert registration.client_id == "abc"
    assert "s3cr3t-value" not in repr(registration)
    assert "client_secret" not in registration.public()
    with pytest.raises(InvalidResponseError, match="client_id"):
        bc.registration_of(b'{"error": "invalid_client_metadata"}')
