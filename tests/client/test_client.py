"""Both clients, driven by the same MockTransport handlers."""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qs

import httpx2
import pytest

from openbackpack import (
    AuthenticationError,
    InvalidResponseError,
    NotFoundError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
)
from openbackpack.client import AsyncBackpackClient, BackpackClient, RetryPolicy, set_testing
from openbackpack.models import ApiVersion, RemoteIssuer, TokenGrant
from openbackpack.protocols import Action, Mode, badgr, find_mapping
from tests.client.conftest import MakeClient, Script, envelope, respond

pytestmark = pytest.mark.anyio

API = "http://127.0.0.1:8123/badgr/v2"
ISSUER = {"entityType": "Issuer", "entityId": "I1", "name": "Site"}
TOKEN = {"access_token": "AT-1", "expires_in": 60, "token_type": "Bearer", "refresh_token": "RT-1"}
ISSUERS = find_mapping(ApiVersion.V2, Mode.SITE, Action.ISSUERS)
COLLECTIONS = find_mapping(ApiVersion.V2, Mode.USER, Action.COLLECTIONS)


async def test_password_grant_posts_a_form_to_the_root_token_url(make_client: MakeClient) -> None:
    """The password grant is a form POST to /o/token beside the API, port and prefix kept."""
    script = Script(respond(200, TOKEN))
    grant = await make_client(script).call("password_grant", API, "a@b.org", "pw")
    assert isinstance(grant, TokenGrant)
    assert grant.access_token == "AT-1"
    request = script.requests[0]
    assert str(request.url) == "http://127.0.0.1:8123/badgr/o/token"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {"username": ["a@b.org"], "password": ["pw"]}
    assert "authorization" not in request.headers


async def test_refresh_grant_sends_the_refresh_token(make_client: MakeClient) -> None:
    """The refresh grant sends grant_type=refresh_token and the token, no client credentials."""
    script = Script(respond(200, TOKEN))
    await make_client(script).call("refresh_grant", API, "RT-0")
    assert parse_qs(script.requests[0].content.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["RT-0"],
    }


async def test_refused_grant_is_an_authentication_error(make_client: MakeClient) -> None:
    """A 400 invalid_grant from the token endpoint raises AuthenticationError with its text."""
    script = Script(
        respond(400, {"error": "invalid_grant", "error_description": "Invalid credentials given."})
    )
    with pytest.raises(AuthenticationError) as caught:
        await make_client(script).call("password_grant", API, "a@b.org", "bad")
    assert caught.value.description == "Invalid credentials given."
    assert caught.value.error == "invalid_grant"


async def test_perform_sends_json_with_the_bearer_token(make_client: MakeClient) -> None:
    """A JSON row sends its body as JSON with Accept and Bearer headers, and returns a model."""
    script = Script(respond(201, envelope(ISSUER)))
    issuer = await make_client(script).call(
        "perform", ISSUERS, API, data={"name": "Site"}, token="AT-1"
    )
    assert isinstance(issuer, RemoteIssuer)
    assert issuer.id == "I1"
    request = script.requests[0]
    assert str(request.url) == f"{API}/issuers"
    assert request.headers["authorization"] == "Bearer AT-1"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.content == b'{"name":"Site"}'


async def test_get_sends_no_body_and_no_content_type(make_client: MakeClient) -> None:
    """A GET carries no body and no Content-Type (Moodle sent one on GETs too)."""
    script = Script(respond(200, envelope()))
    assert await make_client(script).call("perform", COLLECTIONS, API, token="T") == []
    assert script.requests[0].content == b""
    assert "content-type" not in script.requests[0].headers


async def test_fetch_returns_any_success_and_raises_on_errors(make_client: MakeClient) -> None:
    """fetch returns a 204 answer as it is and raises the typed error of a 404."""
    client = make_client(Script(respond(204), respond(404, {"status": {"description": "gone"}})))
    answer = await client.call(
        "fetch", badgr.route("issuers.delete"), API, params={"issuer": "I1"}, token="T"
    )
    assert answer.status_code == 204
    assert answer.json() is None
    with pytest.raises(NotFoundError, match="gone"):
        await client.call("fetch", badgr.route("issuers.get"), API, params={"issuer": "I1"})


async def test_idempotent_request_is_retried_on_503(make_client: MakeClient) -> None:
    """A GET that meets a 503 is tried again and succeeds."""
    script = Script(respond(503), respond(200, envelope()))
    assert await make_client(script).call("perform", COLLECTIONS, API, token="T") == []
    assert len(script.requests) == 2


async def test_post_is_not_retried_on_a_server_error(make_client: MakeClient) -> None:
    """A POST that meets a 503 is not repeated: it may have been carried out."""
    script = Script(respond(503), respond(201, envelope(ISSUER)))
    with pytest.raises(ServerError):
        await make_client(script).call("perform", ISSUERS, API, data={}, token="T")
    assert len(script.requests) == 1


async def test_retries_are_bounded(make_client: MakeClient) -> None:
    """A server that keeps failing is tried 'attempts' times, then its error is raised."""
    script = Script(respond(502, b"<html><title>Bad Gateway</title></html>"))
    with pytest.raises(ServerError, match="Bad Gateway"):
        await make_client(script).call("perform", COLLECTIONS, API, token="T")
    assert len(script.requests) == 3


async def test_429_is_retried_after_the_asked_wait_even_for_post(make_client: MakeClient) -> None:
    """A 429 is retried (any method: nothing was done) after the Retry-After wait, scaled."""
    policy = RetryPolicy(attempts=2, wait_scale=0.1, max_retry_after=5)
    script = Script(respond(429, headers={"Retry-After": "1"}), respond(201, envelope(ISSUER)))
    started = time.monotonic()
    await make_client(script, retry=policy).call("perform", ISSUERS, API, data={}, token="T")
    assert time.monotonic() - started >= 0.09
    assert len(script.requests) == 2


async def test_badgr_expires_is_honoured_like_retry_after(make_client: MakeClient) -> None:
    """Badgr's login throttle (wait in the body's 'expires', as text/html) is retried."""
    throttled = respond(
        429, b'{"error": "login attempts throttled", "expires": 1}', {"content-type": "text/html"}
    )
    script = Script(throttled, respond(200, TOKEN))
    policy = RetryPolicy(attempts=2, wait_scale=0.01)
    grant = await make_client(script, retry=policy).call("password_grant", API, "a@b.org", "pw")
    assert grant.access_token == "AT-1"
    assert len(script.requests) == 2


async def test_rate_limit_error_when_attempts_run_out(make_client: MakeClient) -> None:
    """A backpack that keeps answering 429 ends in RateLimitError carrying its wait."""
    script = Script(respond(429, headers={"Retry-After": "2"}))
    with pytest.raises(RateLimitError) as caught:
        await make_client(script).call("perform", COLLECTIONS, API, token="T")
    assert caught.value.retry_after == 2.0
    assert len(script.requests) == 3


async def test_a_wait_longer_than_the_cap_is_not_sat_through(make_client: MakeClient) -> None:
    """A Retry-After above max_retry_after raises RateLimitError at once, without sleeping."""
    script = Script(respond(429, headers={"Retry-After": "3600"}))
    started = time.monotonic()
    with pytest.raises(RateLimitError) as caught:
        await make_client(script).call("perform", COLLECTIONS, API, token="T")
    assert time.monotonic() - started < 1
    assert caught.value.retry_after == 3600.0
    assert len(script.requests) == 1


async def test_connect_errors_are_retried_even_for_post(make_client: MakeClient) -> None:
    """A connection that could not be made is retried for any method: nothing was sent."""
    script = Script(httpx2.ConnectError("refused"), respond(201, envelope(ISSUER)))
    await make_client(script).call("perform", ISSUERS, API, data={}, token="T")
    assert len(script.requests) == 2


async def test_a_post_broken_mid_answer_is_not_retried(make_client: MakeClient) -> None:
    """A POST whose answer broke off raises TransportError at once, the httpx2 error chained."""
    script = Script(httpx2.RemoteProtocolError("peer closed connection"), respond(201))
    with pytest.raises(TransportError) as caught:
        await make_client(script).call("perform", ISSUERS, API, data={}, token="T")
    assert not isinstance(caught.value, RequestTimeoutError)
    assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError)
    assert caught.value.action == "issuers"
    assert len(script.requests) == 1


async def test_a_get_broken_mid_answer_is_retried(make_client: MakeClient) -> None:
    """A GET whose answer broke off is tried again."""
    script = Script(httpx2.ReadError("reset"), respond(200, envelope()))
    assert await make_client(script).call("perform", COLLECTIONS, API, token="T") == []
    assert len(script.requests) == 2


async def test_timeouts_become_request_timeout_errors(make_client: MakeClient) -> None:
    """Every kind of httpx2 timeout raises RequestTimeoutError, chained."""
    script = Script(httpx2.ReadTimeout("slow"))
    with pytest.raises(RequestTimeoutError) as caught:
        await make_client(script, retry=RetryPolicy.never()).call(
            "perform", COLLECTIONS, API, token="T"
        )
    assert isinstance(caught.value.__cause__, httpx2.ReadTimeout)


async def test_timeouts_default_to_ten_seconds_and_are_configurable(
    make_client: MakeClient,
) -> None:
    """Connect and read timeouts are 10 s unless configured, and reach every request."""
    script = Script(respond(200, envelope()))
    await make_client(script).call("perform", COLLECTIONS, API, token="T")
    await make_client(script, timeout=httpx2.Timeout(2.0, connect=0.5)).call(
        "perform", COLLECTIONS, API, token="T"
    )
    default, custom = (r.extensions["timeout"] for r in script.requests)
    assert (default["connect"], default["read"]) == (10.0, 10.0)
    assert (custom["connect"], custom["read"]) == (0.5, 2.0)


async def test_testing_switch_removes_waits_and_caps_attempts(make_client: MakeClient) -> None:
    """set_testing(True, attempts=2) makes retries instant and at most two tries."""
    set_testing(True, attempts=2)
    script = Script(respond(429, headers={"Retry-After": "20"}))
    started = time.monotonic()
    with pytest.raises(RateLimitError):
        await make_client(script, retry=RetryPolicy()).call("perform", COLLECTIONS, API, token="T")
    assert time.monotonic() - started < 1
    assert len(script.requests) == 2


async def test_errors_never_carry_credentials(make_client: MakeClient) -> None:
    """Transport error text is redacted of tokens and passwords."""
    script = Script(
        httpx2.ConnectError("failed sending Authorization: Bearer SECRET1 password=pw2")
    )
    with pytest.raises(TransportError) as caught:
        await make_client(script, retry=RetryPolicy.never()).call(
            "perform", COLLECTIONS, API, token="SECRET1"
        )
    assert "SECRET1" not in str(caught.value)
    assert "pw2" not in str(caught.value)


async def test_logs_never_carry_credentials(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Retry logs name the request, never the token or the password."""
    caplog.set_level(logging.DEBUG)
    script = Script(respond(503), respond(200, envelope()), respond(200, TOKEN))
    client = make_client(script)
    await client.call("perform", COLLECTIONS, API, token="TOKEN-XYZ")
    await client.call("password_grant", API, "a@b.org", "PASSWORD-XYZ")
    assert "retrying" in caplog.text
    assert "TOKEN-XYZ" not in caplog.text
    assert "PASSWORD-XYZ" not in caplog.text


async def test_html_success_is_an_invalid_response(make_client: MakeClient) -> None:
    """A 200 HTML page where JSON was due raises InvalidResponseError (W3)."""
    script = Script(respond(200, b"<html><body>maintenance</body></html>"))
    with pytest.raises(InvalidResponseError):
        await make_client(script).call("perform", COLLECTIONS, API, token="T")


async def test_outgoing_repr_hides_the_token(make_client: MakeClient) -> None:
    """The prepared request's repr shows method and URL but not its headers or body."""
    client = make_client(Script(respond(200)))
    outgoing = client.client.for_mapping(ISSUERS, API, data={"password": "x"}, token="TOK")
    assert "TOK" not in repr(outgoing)
    assert f"{API}/issuers" in repr(outgoing)


def test_sync_client_closes_only_what_it_created() -> None:
    """close() closes the client's own pool, never an httpx2.Client it was given."""
    given = httpx2.Client(transport=httpx2.MockTransport(Script(respond(200))))
    with BackpackClient(http_client=given):
        pass
    assert not given.is_closed
    given.close()
    own = BackpackClient(transport=httpx2.MockTransport(Script(respond(200))))
    with own:
        pass
    assert own._http.is_closed


async def test_async_client_closes_only_what_it_created() -> None:
    """aclose() closes the client's own pool, never an httpx2.AsyncClient it was given."""
    given = httpx2.AsyncClient(transport=httpx2.MockTransport(Script(respond(200))))
    async with AsyncBackpackClient(http_client=given):
        pass
    assert not given.is_closed
    await given.aclose()
    own = AsyncBackpackClient(transport=httpx2.MockTransport(Script(respond(200))))
    async with own:
        pass
    assert own._http.is_closed
