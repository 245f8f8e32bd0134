"""BadgeConnectApi against scripted answers: token edge cases, client methods, Link safety."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qs

import httpx2
import pytest

from openbackpack import (
    BadgeConnectApi,
    InvalidResponseError,
    ReauthorizationRequiredError,
    RemoteValidationError,
    UnsupportedActionError,
)
from openbackpack.client import BackpackClient
from openbackpack.models.badgeconnect import ManifestEntry
from openbackpack.store import BackpackAccount, Provider, Store
from openbackpack.store._types import utcnow

HOST = "https://bc.example"
API = HOST + "/ims/ob/v2p1"
ENTRY = ManifestEntry.model_validate(
    {
        "name": "BC",
        "apiBase": API,
        "authorizationUrl": HOST + "/auth",
        "tokenUrl": HOST + "/token",
        "tokenRevocationUrl": HOST + "/revoke",
        "scopesOffered": ["a"],
    }
)
Handler = Callable[[httpx2.Request], httpx2.Response]


def _setup(store: Store, method: str = "client_secret_basic") -> tuple[Provider, BackpackAccount]:
    with store.transaction() as tx:
        provider = tx.providers.create(API, HOST, "2.1")
        tx.manifests.save(
            provider.id,
            manifest_url=HOST + "/.well-known/badgeconnect.json",
            entry=ENTRY,
            document="{}",
            etag=None,
            fresh_until=utcnow() + timedelta(hours=1),
        )
        tx.oauth_clients.save(provider.id, "cid", "csecret", token_endpoint_auth_method=method)
        account = tx.accounts.create(provider.id, "42", "learner@example.org")
        tx.oauth_tokens.save(account.id, "old-access", "old-refresh", utcnow(), "a b")
    return provider, account


def _api(store: Store, handler: Handler, method: str = "client_secret_basic") -> BadgeConnectApi:
    provider, account = _setup(store, method)
    client = BackpackClient(transport=httpx2.MockTransport(handler))
    return BadgeConnectApi(provider, account, store=store, client=client)


def _status(**extra: object) -> dict[str, object]:
    return {"status": {"statusCode": 200, "statusText": "OK"}, **extra}


def test_a_refresh_answer_without_scope_or_refresh_token_keeps_the_old_ones(store: Store) -> None:
    """RFC 6749: a missing scope means unchanged, a missing refresh token stays valid (W12)."""
    sent: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        return httpx2.Response(200, json={"access_token": "new-access", "expires_in": 3600})

    api = _api(store, handler)
    assert api.access_token() == "new-access"
    with store.transaction() as tx:
        token = tx.oauth_tokens.get(api.account.id)
    assert token is not None
    assert token.refresh_token is not None
    assert token.refresh_token.reveal() == "old-refresh"
    assert token.scope == "a b"
    assert token.expires_at is not None
    assert token.expires_at > utcnow() + timedelta(minutes=59)
    auth = sent[0].headers["authorization"]
    assert base64.b64decode(auth.removeprefix("Basic ")) == b"cid:csecret"
    assert parse_qs(sent[0].content.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["old-refresh"],
    }


def test_refresh_uses_the_registered_client_secret_post(store: Store) -> None:
    """A client registered with client_secret_post refreshes with both values in the body."""
    sent: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        return httpx2.Response(200, json={"access_token": "t", "refresh_token": "r"})

    _api(store, handler, "client_secret_post").access_token()
    assert "authorization" not in sent[0].headers
    form = parse_qs(sent[0].content.decode())
    assert (form["client_id"], form["client_secret"]) == (["cid"], ["csecret"])


def test_a_refused_refresh_asks_to_reconnect(store: Store) -> None:
    """invalid_grant at the token endpoint becomes ReauthorizationRequiredError."""
    api = _api(store, lambda _: httpx2.Response(400, json={"error": "invalid_grant"}))
    with pytest.raises(ReauthorizationRequiredError, match="invalid_grant"):
        api.access_token()


def test_a_401_refreshes_once_and_retries(store: Store) -> None:
    """A token the host refuses mid-use is refreshed once and the call repeated."""
    calls: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(request.url.path)
        if request.url.path == "/token":
            return httpx2.Response(200, json={"access_token": "fresh", "expires_in": 3600})
        if request.headers["authorization"] == "Bearer fresh":
            return httpx2.Response(200, json=_status(profile={"email": "a@b.example"}))
        return httpx2.Response(401, json={"status": {"statusCode": 401}})

    api = _api(store, handler)
    with store.transaction() as tx:
        tx.oauth_tokens.save(api.account.id, "stale", "r", None, "a")
    assert api.get_profile().email == "a@b.example"
    assert calls == ["/ims/ob/v2p1/profile", "/token", "/ims/ob/v2p1/profile"]


def test_next_links_to_another_origin_are_not_followed(store: Store) -> None:
    """A next link elsewhere would carry the token there: the listing stops with an error."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/token":
            return httpx2.Response(200, json={"access_token": "t", "expires_in": 3600})
        link = '<https://evil.example/ims/ob/v2p1/assertions?offset=1>; rel="next"'
        return httpx2.Response(200, json=_status(assertions=[{"id": "a"}]), headers={"Link": link})

    pages = _api(store, handler).iter_assertion_pages()
    assert next(pages) == [{"id": "a"}]
    with pytest.raises(InvalidResponseError, match="another origin"):
        next(pages)


def test_a_link_back_to_a_seen_page_ends_the_listing(store: Store) -> None:
    """A host whose next link points at a page already read does not loop."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/token":
            return httpx2.Response(200, json={"access_token": "t", "expires_in": 3600})
        link = f'<{API}/assertions>; rel="next"'
        return httpx2.Response(200, json=_status(assertions=[{"id": "a"}]), headers={"Link": link})

    assert _api(store, handler).get_assertions() == [{"id": "a"}]


def test_push_error_text_as_string_or_list(store: Store) -> None:
    """status.error is read as a string and as Badgr's list, whatever the HTTP status."""
    answers = iter(
        [
            {"statusCode": 400, "statusText": "INVALID_BADGE", "error": "bad image"},
            {"statusCode": 400, "statusText": "X", "error": ["FETCH_HTTP_NODE", "Unable"]},
        ]
    )

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/token":
            return httpx2.Response(200, json={"access_token": "t", "expires_in": 3600})
        assert json.loads(request.content) == {"assertion": {"id": "https://x/a"}}
        return httpx2.Response(400, json={"status": next(answers)})

    api = _api(store, handler)
    with pytest.raises(RemoteValidationError, match="bad image"):
        api.put_assertion({"id": "https://x/a"})
    with pytest.raises(RemoteValidationError) as caught:
        api.put_assertion({"id": "https://x/a"})
    assert caught.value.validation_errors == ["FETCH_HTTP_NODE", "Unable"]


def test_revocation_is_skipped_when_the_host_offers_none(store: Store) -> None:
    """Without tokenRevocationUrl, revoke() sends nothing and says so."""
    provider, account = _setup(store)
    with store.transaction() as tx:
        tx.manifests.save(
            provider.id,
            manifest_url=HOST + "/.well-known/badgeconnect.json",
            entry=ENTRY.model_copy(update={"token_revocation_url": None}),
            document="{}",
            etag=None,
            fresh_until=utcnow() + timedelta(hours=1),
        )

    def handler(request: httpx2.Request) -> httpx2.Response:
        raise AssertionError(f"unexpected request to {request.url}")

    client = BackpackClient(transport=httpx2.MockTransport(handler))
    with BadgeConnectApi(provider, account, store=store, client=client) as api:
        assert api.revoke() is False


def test_only_badge_connect_providers(store: Store) -> None:
    """A v2 provider is refused before any I/O."""
    with store.transaction() as tx:
        provider = tx.providers.create("https://api.badgr.example/v2", "https://badgr.example", "2")
        account = tx.accounts.create(provider.id, "42", "a@b.example", "pw")
    with pytest.raises(UnsupportedActionError):
        BadgeConnectApi(provider, account, store=store)


def test_a_refresh_lost_to_another_process_uses_the_winners_token(store: Store) -> None:
    """When another process rotated the refresh token first, its stored token is used."""
    holder: list[BadgeConnectApi] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        # The other process: it refreshed and stored its token while this request was out.
        with store.transaction() as tx:
            tx.oauth_tokens.save(
                holder[0].account.id, "winner", "r2", utcnow() + timedelta(hours=1), "a"
            )
        return httpx2.Response(400, json={"error": "invalid_grant"})

    holder.append(_api(store, handler))
    assert holder[0].access_token() == "winner"
