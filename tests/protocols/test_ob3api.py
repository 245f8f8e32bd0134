"""The Open Badges 3.0 API without I/O: the table, URLs, bodies, pages, upserts and errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from openbackpack import (
    AuthenticationError,
    InvalidInputError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RemoteValidationError,
    ServerError,
)
from openbackpack.models.ob3 import Profile
from openbackpack.models.ob3api import REVOCATION_EXTENSION, CodeMinor
from openbackpack.protocols import Base, Body, Shape, build_url, ob3api

SPEC = Path(__file__).resolve().parent.parent / "data/ob_v3p0/schema/openapi/openapi.json"
JWS = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


def _description(**scheme: Any) -> dict[str, Any]:
    oauth: dict[str, Any] = {
        "type": "oauth2",
        "x-imssf-registrationUrl": "https://host.example/o/v3p0/register",
        "flows": {
            "authorizationCode": {
                "authorizationUrl": "https://host.example/o/v3p0/authorize",
                "tokenUrl": "https://host.example/o/v3p0/token",
                "refreshUrl": "https://host.example/o/v3p0/token",
                "scopes": {scope.value: "why" for scope in ob3api.Scope},
            }
        },
        **scheme,
    }
    return {
        "openapi": "3.0.1",
        "info": {
            "title": "A host",
            "version": "3.0",
            "termsOfService": "https://host.example/terms",
            "x-imssf-privacyPolicyUrl": "https://host.example/privacy",
        },
        "servers": [{"url": "https://host.example/ims/ob/v3p0/"}],
        "paths": {},
        "components": {"securitySchemes": {"OAuth2ACG": oauth}},
    }


def test_table_has_the_five_operations_and_the_oauth_endpoints() -> None:
    """The table names every OB 3.0 operation and the four OAuth endpoints of the host."""
    assert set(ob3api.ROUTES) == {
        "discovery",
        "credentials.list",
        "credentials.upsert",
        "profile.get",
        "profile.update",
        "register",
        "authorize",
        "authorize.submit",
        "token",
        "revoke",
    }
    assert ob3api.route("profile.update").method == "PUT"
    assert ob3api.route("credentials.upsert").body is Body.JSON
    assert ob3api.route("token").shape is Shape.TOKEN
    assert not ob3api.route("discovery").auth
    oauth = {"register", "authorize", "authorize.submit", "token", "revoke"}
    assert {e.name for e in ob3api.ROUTES.values() if e.base is Base.ORIGIN} == oauth


def test_table_paths_and_methods_match_the_specifications_openapi_file() -> None:
    """Every API row is an operation of the shipped OpenAPI file, and every operation a row."""
    paths = json.loads(SPEC.read_text())["paths"]
    spec = {(method.upper(), path) for path, ops in paths.items() for method in ops}
    ours = {(e.method, e.path) for e in ob3api.ROUTES.values() if e.base is Base.API}
    assert ours == spec


def test_scopes_are_the_specifications_scopes() -> None:
    """The Scope values are exactly the scopes of the OpenAPI file's OAuth2ACG scheme."""
    schemes = json.loads(SPEC.read_text())["components"]["securitySchemes"]
    offered = schemes["OAuth2ACG"]["flows"]["authorizationCode"]["scopes"]
    assert {s.value for s in ob3api.Scope} == set(offered)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://host.example", "https://host.example/ims/ob/v3p0"),
        ("https://host.example/", "https://host.example/ims/ob/v3p0"),
        ("https://host.example/ims/ob/v3p0/", "https://host.example/ims/ob/v3p0"),
        ("https://host.example/ims/ob/v3p0/discovery", "https://host.example/ims/ob/v3p0"),
        ("http://127.0.0.1:8123/wallet", "http://127.0.0.1:8123/wallet/ims/ob/v3p0"),
    ],
)
def test_api_url_keeps_port_and_prefix_and_appends_the_api_path(given: str, expected: str) -> None:
    """The API base keeps the port and a path prefix, and is not doubled."""
    assert ob3api.api_url(given) == expected
    assert ob3api.discovery_url(given) == expected + "/discovery"


def test_build_url_puts_api_rows_under_the_api_base_and_oauth_at_the_origin() -> None:
    """API rows hang off the API base; the host's OAuth rows off its origin."""
    api = ob3api.api_url("https://host.example/x")
    assert build_url(ob3api.route("credentials.list"), api, query=[("limit", "2")]) == (
        "https://host.example/x/ims/ob/v3p0/credentials?limit=2"
    )
    assert build_url(ob3api.route("token"), api) == "https://host.example/o/v3p0/token"


def test_credentials_query_writes_limit_offset_and_since_in_utc() -> None:
    """The query has limit, offset and since (UTC, seconds), and refuses impossible values."""
    since = datetime(2026, 1, 2, 4, 5, 6, tzinfo=timezone(timedelta(hours=2)))
    assert ob3api.credentials_query(10, 0, since) == [
        ("limit", "10"),
        ("offset", "0"),
        ("since", "2026-01-02T02:05:06Z"),
    ]
    assert ob3api.credentials_query() == []
    with pytest.raises(InvalidInputError, match="limit"):
        ob3api.credentials_query(0)
    with pytest.raises(InvalidInputError, match="offset"):
        ob3api.credentials_query(offset=-1)


def test_upsert_body_sends_json_or_a_compact_jws_as_text() -> None:
    """A dict goes as application/json, a compact JWS as text/plain, anything else is refused."""
    headers, content = ob3api.upsert_body({"id": "urn:x", "name": "é"})
    assert headers == {"Content-Type": "application/json"}
    assert json.loads(content) == {"id": "urn:x", "name": "é"}
    headers, content = ob3api.upsert_body(f" {JWS}\n")
    assert headers == {"Content-Type": "text/plain"}
    assert content == JWS.encode()
    with pytest.raises(InvalidInputError, match="compact JWS"):
        ob3api.upsert_body("not a jws")


def test_description_of_reads_the_oauth_endpoints_scopes_and_extensions() -> None:
    """The OAuth URLs, the scopes and the privacy policy are read from the document."""
    document = _description(**{REVOCATION_EXTENSION: "https://host.example/o/v3p0/revoke"})
    description = ob3api.description_of(json.dumps(document).encode())
    assert description.registration_url == "https://host.example/o/v3p0/register"
    assert description.flow.authorization_url == "https://host.example/o/v3p0/authorize"
    assert description.flow.token_url == "https://host.example/o/v3p0/token"
    assert description.oauth.revocation_url == "https://host.example/o/v3p0/revoke"
    assert description.scopes == [s.value for s in ob3api.Scope]
    assert description.info.privacy_policy_url == "https://host.example/privacy"
    assert description.api_base == "https://host.example/ims/ob/v3p0"
    assert description.model_extra is not None
    assert "paths" in description.model_extra


def test_description_of_refuses_a_document_without_registration_or_with_a_non_http_url() -> None:
    """A missing x-imssf-registrationUrl or a javascript: token URL is an InvalidResponseError."""
    document = _description()
    del document["components"]["securitySchemes"]["OAuth2ACG"]["x-imssf-registrationUrl"]
    with pytest.raises(InvalidResponseError, match="x-imssf-registrationUrl"):
        ob3api.description_of(json.dumps(document).encode())
    document = _description()
    flow = document["components"]["securitySchemes"]["OAuth2ACG"]["flows"]["authorizationCode"]
    flow["tokenUrl"] = "javascript:alert(1)"
    with pytest.raises(InvalidResponseError, match="http"):
        ob3api.description_of(json.dumps(document).encode())
    with pytest.raises(InvalidResponseError, match="not a JSON object"):
        ob3api.description_of(b"[]")


def test_credentials_page_reads_total_links_and_both_arrays() -> None:
    """A page gives its JSON and JWS credentials, X-Total-Count and the four Link relations."""
    links = ", ".join(
        f'<https://h/ims/ob/v3p0/credentials?limit=1&offset={n}>; rel="{rel}"'
        for rel, n in (("next", 2), ("last", 4), ("first", 0), ("prev", 0))
    )
    body = json.dumps({"credential": [{"id": "urn:a"}], "compactJwsString": [JWS]}).encode()
    page = ob3api.credentials_page_of(200, body, {"X-Total-Count": "5", "Link": links})
    assert page.credentials == [{"id": "urn:a"}]
    assert page.compact_jws == [JWS]
    assert page.total == 5
    assert len(page) == 2
    assert page.next_url == "https://h/ims/ob/v3p0/credentials?limit=1&offset=2"
    assert set(page.links) == {"next", "last", "first", "prev"}
    last = ob3api.credentials_page_of(200, b"{}", {"x-total-count": "many"})
    assert (last.total, last.next_url, len(last)) == (None, None, 0)


def test_credentials_page_refuses_a_body_that_is_not_the_response_type() -> None:
    """A list of non-objects, or a non-JWS in compactJwsString, is an InvalidResponseError."""
    with pytest.raises(InvalidResponseError, match="credential"):
        ob3api.credentials_page_of(200, b'{"credential": ["x"]}', {})
    with pytest.raises(InvalidResponseError, match="non-JWS"):
        ob3api.credentials_page_of(200, b'{"compactJwsString": ["a.b"]}', {})


def test_upsert_result_tells_created_from_replaced() -> None:
    """201 is created, 200 replaced; the echo is a credential object or a compact JWS."""
    created = ob3api.upsert_result(201, b'{"id": "urn:a"}', {})
    assert created.created
    assert created.credential == {"id": "urn:a"}
    replaced = ob3api.upsert_result(200, JWS.encode(), {})
    assert not replaced.created
    assert replaced.compact_jws == JWS
    with pytest.raises(InvalidResponseError, match="neither"):
        ob3api.upsert_result(200, b"hello", {})


def _info(minor: CodeMinor, description: str) -> bytes:
    return json.dumps(ob3api.status_info(minor, description)).encode()


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, RemoteValidationError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (429, RateLimitError),
        (500, ServerError),
    ],
)
def test_imsx_status_info_becomes_the_typed_error_with_its_description(
    status: int, kind: type[Exception]
) -> None:
    """An error status with an Imsx_StatusInfo body is its typed error, with the description."""
    content = _info(CodeMinor.INVALID_DATA, "the proof does not verify")
    error = ob3api.error_of(status, content, {"Retry-After": "3"}, action="credentials.upsert")
    assert isinstance(error, kind)
    assert "the proof does not verify" in str(error)
    assert error.description == "the proof does not verify"
    assert error.body["imsx_codeMajor"] == "failure"


def test_error_names_the_code_minor_and_the_action() -> None:
    """A 401's error is the code minor; a 400 lists the description; the message says the step."""
    refused = ob3api.error_of(
        401, _info(CodeMinor.UNAUTHORIZEDREQUEST, "token expired"), action="credentials.list"
    )
    assert isinstance(refused, AuthenticationError)
    assert refused.error == "unauthorizedrequest"
    invalid = ob3api.error_of(
        400, _info(CodeMinor.INVALID_DATA, "bad"), action="credentials.upsert"
    )
    assert isinstance(invalid, RemoteValidationError)
    assert invalid.validation_errors == ["bad"]
    assert "add the credential" in str(invalid)


def test_upsert_and_profile_errors_are_raised_typed() -> None:
    """Error statuses of the interpreters raise; a body without Imsx_StatusInfo still types."""
    with pytest.raises(PermissionDeniedError, match="scope"):
        ob3api.upsert_result(403, _info(CodeMinor.FORBIDDEN, "scope not granted"), {})
    with pytest.raises(NotFoundError):
        ob3api.profile_of(404, b"", {})
    with pytest.raises(AuthenticationError):
        ob3api.credentials_page_of(401, b"<html>no</html>", {})


def test_status_info_round_trips_through_the_model() -> None:
    """A built Imsx_StatusInfo reads back with its code minor values; other bodies are None."""
    info = ob3api.status_info_of(_info(CodeMinor.NOT_FOUND, "no such credential"))
    assert info is not None
    assert info.minor_values == ["not_found"]
    assert info.description == "no such credential"
    assert ob3api.status_info_of(b'{"status": {}}') is None
    assert ob3api.status_info_of(b'{"imsx_codeMajor": "failure"}') is None


def test_profile_of_reads_an_ob3_profile_and_profile_body_writes_one() -> None:
    """getProfile's body is an OB 3.0 Profile; putProfile's body is its JSON."""
    profile = ob3api.profile_of(200, b'{"id": "urn:p", "type": "Profile", "name": "Ada"}', {})
    assert isinstance(profile, Profile)
    assert (profile.id, profile.type, profile.name) == ("urn:p", ["Profile"], "Ada")
    assert json.loads(ob3api.profile_body(profile)) == {
        "id": "urn:p",
        "type": ["Profile"],
        "name": "Ada",
    }
    with pytest.raises(InvalidResponseError, match="id"):
        ob3api.profile_of(200, b'{"name": "no id"}', {})


def test_scopes_of_keeps_known_scopes_once_in_order() -> None:
    """Unknown scopes are dropped, duplicates removed, the order kept."""
    text = f"{ob3api.Scope.PROFILE_UPDATE} openid {ob3api.Scope.CREDENTIAL_READONLY}"
    assert ob3api.scopes_of(text + f" {ob3api.Scope.PROFILE_UPDATE}") == [
        ob3api.Scope.PROFILE_UPDATE,
        ob3api.Scope.CREDENTIAL_READONLY,
    ]


def test_registration_of_needs_a_client_id() -> None:
    """A registration answer without client_id is an InvalidResponseError."""
    registration = ob3api.registration_of(b'{"client_id": "c", "client_secret": "s"}')
    assert registration.client_id == "c"
    with pytest.raises(InvalidResponseError, match="client_id"):
        ob3api.registration_of(b'{"client_secret": "s"}')


def test_since_without_a_zone_is_read_as_utc() -> None:
    """A naive since is taken as UTC, not local time."""
    naive = datetime(2026, 3, 4, 5, 6, 7)
    assert ob3api.credentials_query(since=naive) == [("since", "2026-03-04T05:06:07Z")]
    aware = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert ob3api.credentials_query(since=aware) == [("since", "2026-03-04T05:06:07Z")]
