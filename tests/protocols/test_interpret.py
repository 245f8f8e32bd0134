"""Answers into typed results or typed errors (moodle-backpack.md §3.5-§3.6, §6.2; W3, W20)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from openbackpack import (
    APIStatusError,
    AuthenticationError,
    ConflictError,
    DuplicateBadgeError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RemoteValidationError,
    ServerError,
)
from openbackpack.models import (
    ApiVersion,
    Collection,
    DisplayerBadge,
    DisplayerGroup,
    DisplayerUser,
    RemoteAssertion,
    RemoteBadgeClass,
    RemoteIssuer,
    TokenGrant,
)
from openbackpack.protocols import (
    Action,
    Mapping,
    Mode,
    error_from_response,
    find_mapping,
    interpret,
    parse_retry_after,
    retry_after_from,
)

V2, V1 = ApiVersion.V2, ApiVersion.V1
JSON = {"content-type": "application/json"}
HTML = {"content-type": "text/html; charset=utf-8"}


def row(version: ApiVersion, mode: Mode, action: Action) -> Mapping:
    return find_mapping(version, mode, action)


def envelope(*items: dict[str, Any]) -> bytes:
    return json.dumps(
        {"status": {"success": True, "description": "ok"}, "result": list(items)}
    ).encode()


def error_envelope(
    description: str, field_errors: Any = None, validation_errors: Any = None
) -> bytes:
    return json.dumps(
        {
            "status": {"success": False, "description": description},
            "result": [],
            "fieldErrors": {} if field_errors is None else field_errors,
            "validationErrors": [] if validation_errors is None else validation_errors,
        }
    ).encode()


ISSUER_ITEM = {
    "entityType": "Issuer",
    "entityId": "kR3mXq9vTeWb2Lp0sYz7Hg",
    "openBadgeId": "https://api.badgr.example/public/issuers/kR3mXq9vTeWb2Lp0sYz7Hg",
    "name": "Example Moodle Site",
    "email": "badges@moodle.example.org",
    "url": "https://moodle.example.org",
    "staff": [],
}

BACKPACK_ASSERTION = {
    "entityType": "Assertion",
    "entityId": "Zt4Hc9MkRgy0Va2XeN6pQw",
    "openBadgeId": "https://api.badgr.example/public/assertions/Zt4Hc9MkRgy0Va2XeN6pQw",
    "badgeclass": {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "BadgeClass",
        "id": "https://api.badgr.example/public/badges/Pq8sLw2nQxuYb6Tf1VhJ3A",
        "name": "Course completion",
        "description": "Completed the course",
        "issuer": {
            "type": "Issuer",
            "id": "https://api.badgr.example/public/issuers/kR3mXq9vTeWb2Lp0sYz7Hg",
            "name": "Example Moodle Site",
            "email": "badges@moodle.example.org",
        },
        "image": "https://api.badgr.example/public/badges/Pq8sLw2nQxuYb6Tf1VhJ3A/image",
        "criteria": {"narrative": "Complete all activities"},
        "alignment": [{"targetName": "Skill A", "targetUrl": "https://example.org/a"}],
        "tags": ["moodle"],
    },
    "issuer": "kR3mXq9vTeWb2Lp0sYz7Hg",
    "recipient": {
        "identity": "sha256$5b1f",
        "hashed": True,
        "type": "email",
        "plaintextIdentity": "earner@example.org",
        "salt": "9c2e",
    },
    "issuedOn": "2020-05-01T10:00:00Z",
    "revoked": False,
    "acceptance": "Accepted",
    "pending": False,
}

COLLECTION_ITEM = {
    "entityType": "BackpackCollection",
    "entityId": "Lq0Wn8eRTa3Yk6Pc2Xb9Vg",
    "name": "My Moodle badges",
    "description": "Shared",
    "owner": "Hn2Tq5vXRb8Kc1Md4Wy7Pa",
    "share_url": "https://api.badgr.example/public/collections/6f1d",
    "shareHash": "6f1d",
    "published": True,
    "assertions": ["Zt4Hc9MkRgy0Va2XeN6pQw"],
}


def test_issuer_is_mapped_like_moodles_exporter() -> None:
    """entityType/entityId become type/id and openBadgeId the hosted URL; extras survive."""
    issuer = interpret(row(V2, Mode.SITE, Action.ISSUERS), 201, JSON, envelope(ISSUER_ITEM))
    assert isinstance(issuer, RemoteIssuer)
    assert (issuer.type, issuer.id) == ("Issuer", "kR3mXq9vTeWb2Lp0sYz7Hg")
    assert issuer.hosted_url == ISSUER_ITEM["openBadgeId"]
    assert issuer.model_extra is not None
    assert issuer.model_extra["staff"] == []


def test_badgeclass_keeps_alignments_and_criteria() -> None:
    """A v2 badge class keeps alignments (the plural), tags and the criteria narrative."""
    item = {
        "entityType": "BadgeClass",
        "entityId": "Pq8sLw2nQxuYb6Tf1VhJ3A",
        "openBadgeId": "https://api.badgr.example/public/badges/Pq8sLw2nQxuYb6Tf1VhJ3A",
        "issuer": "kR3mXq9vTeWb2Lp0sYz7Hg",
        "name": "Course completion",
        "criteriaNarrative": "Complete all activities",
        "alignments": [
            {"targetName": "Skill A", "targetUrl": "https://e/a", "targetDescription": None}
        ],
        "tags": ["moodle"],
    }
    badge = interpret(row(V2, Mode.SITE, Action.BADGE_CLASSES), 201, JSON, envelope(item))
    assert isinstance(badge, RemoteBadgeClass)
    assert badge.id == "Pq8sLw2nQxuYb6Tf1VhJ3A"
    assert badge.issuer == "kR3mXq9vTeWb2Lp0sYz7Hg"
    assert [a.target_name for a in badge.alignment] == ["Skill A"]
    assert badge.criteria_narrative == "Complete all activities"
    assert badge.tags == ["moodle"]


def test_expanded_backpack_assertion_keeps_recipient_and_nesting() -> None:
    """The expanded badge class and issuer are typed, and the recipient is kept (W20)."""
    assertion = interpret(
        row(V2, Mode.USER, Action.ASSERTION), 200, JSON, envelope(BACKPACK_ASSERTION)
    )
    assert isinstance(assertion, RemoteAssertion)
    assert assertion.id == "Zt4Hc9MkRgy0Va2XeN6pQw"
    assert assertion.recipient is not None
    assert assertion.recipient.plaintext_identity == "earner@example.org"
    assert isinstance(assertion.badgeclass, RemoteBadgeClass)
    assert assertion.badgeclass.criteria_narrative == "Complete all activities"
    assert isinstance(assertion.badgeclass.issuer, RemoteIssuer)
    assert assertion.badgeclass.issuer.email == "badges@moodle.example.org"
    assert assertion.issued_on == datetime(2020, 5, 1, 10, tzinfo=UTC)
    assert assertion.context == "https://w3id.org/openbadges/v2"


def test_collections_are_a_list() -> None:
    """The collections row returns every collection, typed."""
    result = interpret(
        row(V2, Mode.USER, Action.COLLECTIONS),
        200,
        JSON,
        envelope(COLLECTION_ITEM, COLLECTION_ITEM),
    )
    assert [c.id for c in result] == ["Lq0Wn8eRTa3Yk6Pc2Xb9Vg"] * 2
    assert all(isinstance(c, Collection) for c in result)
    assert result[0].assertions == ["Zt4Hc9MkRgy0Va2XeN6pQw"]


def test_an_empty_list_is_an_empty_result() -> None:
    """A list row with an empty result gives [] (Moodle's behaviour)."""
    assert interpret(row(V2, Mode.USER, Action.COLLECTIONS), 200, JSON, envelope()) == []


def test_an_empty_single_result_is_invalid() -> None:
    """A single-object row with an empty result raises instead of returning null."""
    with pytest.raises(InvalidResponseError, match="empty"):
        interpret(row(V2, Mode.SITE, Action.ISSUERS), 201, JSON, envelope())


def test_token_answer() -> None:
    """A token answer becomes a TokenGrant, whose repr hides the token."""
    body = (
        b'{"access_token": "AT", "expires_in": 86400, "token_type": "Bearer",'
        b' "refresh_token": "RT"}'
    )
    grant = interpret(row(V2, Mode.USER, Action.USER), 200, JSON, body)
    assert isinstance(grant, TokenGrant)
    assert (grant.access_token, grant.refresh_token, grant.expires_in) == ("AT", "RT", 86400)
    assert "AT" not in repr(grant)


def test_token_answer_without_refresh_token_is_accepted() -> None:
    """A token with no refresh_token is a success (Moodle called it a failure with no error, W4)."""
    grant = interpret(row(V2, Mode.USER, Action.USER), 200, JSON, b'{"access_token": "AT"}')
    assert isinstance(grant, TokenGrant)
    assert grant.refresh_token is None


def test_token_answer_without_access_token_is_invalid() -> None:
    """A 200 token answer with no access_token raises InvalidResponseError."""
    with pytest.raises(InvalidResponseError, match="access_token"):
        interpret(row(V2, Mode.USER, Action.USER), 200, JSON, b'{"token_type": "Bearer"}')


def test_displayer_answers() -> None:
    """The Displayer lookup, groups and badges are typed ('.groups' and '.badges' unwrapped)."""
    user = interpret(
        row(V1, Mode.USER, Action.USER),
        200,
        JSON,
        b'{"status":"okay","email":"e@x.org","userId":12345}',
    )
    assert isinstance(user, DisplayerUser)
    assert user.user_id == 12345
    groups = interpret(
        row(V1, Mode.USER, Action.GROUPS),
        200,
        JSON,
        b'{"userId":12345,"groups":[{"groupId":67890,"name":"G","badges":3}]}',
    )
    assert groups == [DisplayerGroup(groupId=67890, name="G", badges=3)]
    badges = interpret(
        row(V1, Mode.USER, Action.BADGES),
        200,
        JSON,
        b'{"userId":1,"groupId":2,"badges":[{"lastValidated":"x","hostedUrl":"https://h/a",'
        b'"imageUrl":"https://h/i.png","assertion":{"badge":{"name":"B"}}}]}',
    )
    assert isinstance(badges[0], DisplayerBadge)
    assert badges[0].assertion["badge"]["name"] == "B"


def test_displayer_status_must_be_okay() -> None:
    """A 200 lookup whose status is not 'okay' is invalid."""
    with pytest.raises(InvalidResponseError, match="okay"):
        interpret(row(V1, Mode.USER, Action.USER), 200, JSON, b'{"status":"missing"}')


@pytest.mark.parametrize(
    ("content", "match"),
    [
        pytest.param(b"", "not JSON", id="empty-body"),
        pytest.param(b"   \n", "not JSON", id="blank-body"),
        pytest.param(b"<html><body>Welcome</body></html>", "not JSON", id="html-page"),
        pytest.param(
            b'{"detail": "Authentication credentials were not provided."}',
            "envelope",
            id="no-result",
        ),
        pytest.param(
            b'{"status":{"success":false,"description":"nope"},"result":[]}',
            "nope",
            id="success-false",
        ),
        pytest.param(
            b'{"status":{"success":true},"result":["x"]}', "not objects", id="result-not-objects"
        ),
        pytest.param(
            b'{"status":{"success":true},"result":[{"name":"no id"}]}',
            "expected fields",
            id="no-entity-id",
        ),
        pytest.param(b"[1, 2]", "envelope", id="a-list"),
    ],
)
def test_unusable_success_answers_raise_invalid_response(content: bytes, match: str) -> None:
    """A 2xx answer that is not the promised shape raises InvalidResponseError (no crash, W3)."""
    with pytest.raises(InvalidResponseError, match=match):
        interpret(row(V2, Mode.SITE, Action.ISSUERS), 201, HTML, content)


def test_json_served_as_html_is_still_read() -> None:
    """Badgr sends JSON as text/html on some answers; the body decides, not the header."""
    issuer = interpret(row(V2, Mode.SITE, Action.ISSUERS), 201, HTML, envelope(ISSUER_ITEM))
    assert issuer.id == ISSUER_ITEM["entityId"]


@pytest.mark.parametrize(
    ("field_errors", "expected"),
    [
        pytest.param(
            {"name": ["This field is required."]}, {"name": ["This field is required."]}, id="list"
        ),
        pytest.param(
            {"image": "Valid image file or data URI required."},
            {"image": ["Valid image file or data URI required."]},
            id="string",
        ),
        pytest.param(
            {"recipient": {"non_field_errors": ["Enter a valid email address."]}},
            {"recipient.non_field_errors": ["Enter a valid email address."]},
            id="nested",
        ),
        pytest.param(
            [{}, {"recipient": {"non_field_errors": ["Enter a valid email address."]}}],
            {"1.recipient.non_field_errors": ["Enter a valid email address."]},
            id="list-per-item",
        ),
        pytest.param(
            'Method "PATCH" not allowed.',
            {"detail": ['Method "PATCH" not allowed.']},
            id="bare-string",
        ),
    ],
)
def test_field_errors_are_normalised(field_errors: Any, expected: dict[str, list[str]]) -> None:
    """Badgr's fieldErrors in every observed shape become {field: [messages]}."""
    error = error_from_response(
        400, error_envelope("bad request", field_errors), JSON, action="issuers"
    )
    assert type(error) is RemoteValidationError
    assert error.field_errors == expected
    assert error.status_code == 400
    assert error.action == "issuers"


def test_validation_errors_strings_and_objects() -> None:
    """validationErrors strings stay, objects read 'NAME: description'."""
    error = error_from_response(
        400,
        error_envelope(
            "bad request",
            validation_errors=[
                "Issuer email must be one of your verified addresses.",
                {"name": "FETCH_HTTP_NODE", "description": "Unable to reach URL"},
            ],
        ),
    )
    assert isinstance(error, RemoteValidationError)
    assert error.validation_errors == [
        "Issuer email must be one of your verified addresses.",
        "FETCH_HTTP_NODE: Unable to reach URL",
    ]


@pytest.mark.parametrize(
    "validation_errors",
    [
        pytest.param(
            [
                {
                    "name": "DUPLICATE_BADGE",
                    "description": "You already have this badge in your backpack",
                }
            ],
            id="object",
        ),
        pytest.param(
            ["DUPLICATE_BADGE", "You already have this badge in your backpack"], id="flattened"
        ),
    ],
)
def test_duplicate_badge_is_its_own_error(validation_errors: list[Any]) -> None:
    """DUPLICATE_BADGE, as an object or a flattened string, raises DuplicateBadgeError."""
    error = error_from_response(
        400, error_envelope("bad request", validation_errors=validation_errors)
    )
    assert isinstance(error, DuplicateBadgeError)
    assert isinstance(error, RemoteValidationError)


def test_422_is_a_validation_error() -> None:
    """422 is treated as 400."""
    assert isinstance(error_from_response(422, b"{}"), RemoteValidationError)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        pytest.param(401, AuthenticationError, id="401"),
        pytest.param(403, PermissionDeniedError, id="403"),
        pytest.param(404, NotFoundError, id="404"),
        pytest.param(409, ConflictError, id="409"),
        pytest.param(429, RateLimitError, id="429"),
        pytest.param(500, ServerError, id="500"),
        pytest.param(502, ServerError, id="502"),
        pytest.param(418, APIStatusError, id="other"),
    ],
)
def test_status_maps_to_one_class(status: int, kind: type[APIStatusError]) -> None:
    """Each error status has exactly one class, and keeps the backpack's description."""
    error = error_from_response(
        status, error_envelope("entity not found or insufficient privileges")
    )
    assert type(error) is kind
    assert error.status_code == status
    assert error.description == "entity not found or insufficient privileges"
    assert "insufficient privileges" in str(error)


def test_html_error_page_gives_its_title() -> None:
    """A 500 HTML page becomes a ServerError described by the page's title, not its markup."""
    page = (
        b"<!DOCTYPE html>\n<html><head><title>Server Error (500)</title></head>"
        b"<body><h1>x</h1></body></html>"
    )
    error = error_from_response(500, page, HTML)
    assert isinstance(error, ServerError)
    assert error.description == "HTML page: Server Error (500)"
    assert "<" not in str(error)


def test_untitled_html_page_is_stripped_of_tags() -> None:
    """An HTML page without a title is described by its text."""
    error = error_from_response(502, b"<html><body><h1>Bad   Gateway</h1></body></html>")
    assert error.description == "HTML page: Bad Gateway"


def test_empty_error_body() -> None:
    """An error with an empty body still raises, with an empty description."""
    error = error_from_response(503, b"")
    assert isinstance(error, ServerError)
    assert error.description == ""


def test_token_endpoint_refusal_is_an_authentication_error() -> None:
    """The token endpoint's 400 invalid_grant is an AuthenticationError with the OAuth code."""
    body = b'{"error": "invalid_grant", "error_description": "Invalid credentials given."}'
    error = error_from_response(400, body, JSON, action="user", token_endpoint=True)
    assert isinstance(error, AuthenticationError)
    assert error.error == "invalid_grant"
    assert error.description == "Invalid credentials given."


def test_displayer_missing_user() -> None:
    """The Displayer's 404 lookup answer is a NotFoundError carrying its error text."""
    body = b'{"status":"missing","error":"Could not find a user by the email address `a@b.org`"}'
    error = error_from_response(404, body, JSON, action="user")
    assert isinstance(error, NotFoundError)
    assert error.description.startswith("Could not find a user")


def test_rate_limit_with_retry_after_seconds() -> None:
    """A 429 with Retry-After in seconds carries that wait."""
    error = error_from_response(429, b"", {"Retry-After": "7"})
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 7.0


def test_rate_limit_with_retry_after_date() -> None:
    """A 429 with Retry-After as an HTTP date carries the seconds until then."""
    moment = datetime.now(UTC) + timedelta(seconds=120)
    error = error_from_response(429, b"", {"retry-after": format_datetime(moment, usegmt=True)})
    assert isinstance(error, RateLimitError)
    assert error.retry_after is not None
    assert 100 < error.retry_after <= 120


def test_rate_limit_with_badgr_expires() -> None:
    """Badgr's login throttle (JSON as text/html, wait in 'expires') is a RateLimitError."""
    body = (
        b'{"error_description": "Too many login attempts. Please wait and try again.",'
        b' "error": "login attempts throttled", "expires": 8}'
    )
    error = error_from_response(429, body, HTML, action="user", token_endpoint=True)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 8.0
    assert error.description == "Too many login attempts. Please wait and try again."


def test_rate_limit_without_any_wait() -> None:
    """A bare 429 has no retry_after."""
    error = error_from_response(429, b"")
    assert isinstance(error, RateLimitError)
    assert error.retry_after is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param("", None, id="empty"),
        pytest.param("5", 5.0, id="seconds"),
        pytest.param("0.25", 0.25, id="fraction"),
        pytest.param("-3", 0.0, id="negative"),
        pytest.param("Wed, 21 Oct 2015 07:28:00 GMT", 0.0, id="past-date"),
        pytest.param("soon", None, id="garbage"),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    """Retry-After is read as seconds from now, never negative, None when unreadable."""
    assert parse_retry_after(value) == expected


def test_retry_after_header_wins_over_body() -> None:
    """The Retry-After header wins over Badgr's body 'expires'."""
    assert retry_after_from({"Retry-After": "2"}, b'{"expires": 9}') == 2.0
    assert retry_after_from({}, b'{"expires": 9}') == 9.0
    assert retry_after_from({}, b'{"expires": true}') is None


def test_error_text_never_shows_credentials() -> None:
    """A backpack that echoes the request cannot make a credential appear in the error."""
    body = b"<html><body>bad request: password=hunter2 Authorization: Bearer abc.def</body></html>"
    error = error_from_response(400, body)
    assert "hunter2" not in str(error)
    assert "abc.def" not in str(error)
    assert "hunter2" not in repr(error.body)
