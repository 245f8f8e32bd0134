"""The pure half of the OB 3.0 API client: service descriptions, requests, pages, tokens."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from openbackpack import InvalidInputError, InvalidResponseError
from openbackpack.api._ob3_core import Ob3Core
from openbackpack.api._sdd import service_entry
from openbackpack.api._tokens import TokenCore
from openbackpack.client import BackpackClient
from openbackpack.protocols import ob3api as ob3
from openbackpack.store import Store
from openbackpack.store._types import utcnow

DISCOVERY = "https://wallet.example.org/tenant/ims/ob/v3p0/discovery"


def _description(**scheme: object) -> bytes:
    return json.dumps(
        {
            "openapi": "3.0.1",
            "info": {
                "title": "Wallet",
                "version": "3.0",
                "termsOfService": "https://wallet.example.org/terms",
                "x-imssf-privacyPolicyUrl": "https://wallet.example.org/privacy",
            },
            "components": {
                "securitySchemes": {
                    "OAuth2ACG": {
                        "type": "oauth2",
                        "x-imssf-registrationUrl": "https://wallet.example.org/register",
                        "flows": {
                            "authorizationCode": {
                                "authorizationUrl": "https://wallet.example.org/auth",
                                "tokenUrl": "https://wallet.example.org/token",
                                "scopes": {s.value: s.name for s in ob3.Scope},
                            }
                        },
                        **scheme,
                    }
                }
            },
        }
    ).encode()


def test_a_service_description_gives_the_endpoints_scopes_and_policy() -> None:
    """The OAuth endpoints, the four scopes, the privacy URL and the tenant's API base are read."""
    entry = service_entry(_description(), DISCOVERY)
    assert entry.api_base == "https://wallet.example.org/tenant/ims/ob/v3p0"
    assert entry.registration_url == "https://wallet.example.org/register"
    assert entry.token_url == "https://wallet.example.org/token"
    assert entry.scopes_offered == [s.value for s in ob3.Scope]
    assert entry.privacy_policy_url == "https://wallet.example.org/privacy"
    assert entry.token_revocation_url is None
    assert entry.version == "v3p0"


def test_a_document_that_is_not_a_service_description_is_refused() -> None:
    """A JSON object without the OAuth2ACG scheme is an InvalidResponseError naming discovery."""
    with pytest.raises(InvalidResponseError, match="discovery"):
        service_entry(b'{"openapi": "3.0.1"}', DISCOVERY)


def test_a_vc_jwt_goes_as_text_and_other_text_is_refused() -> None:
    """A compact JWS is sent as text/plain; text that is not one never leaves."""
    with BackpackClient() as http:
        outgoing = Ob3Core.upsert_request(http, "https://w.example.org/ims/ob/v3p0", "a.b.c", "t")
        assert outgoing.headers["Content-Type"] == "text/plain"
        assert outgoing.content == b"a.b.c"
        assert outgoing.headers["Authorization"] == "Bearer t"
        with pytest.raises(InvalidInputError):
            Ob3Core.upsert_request(http, "https://w.example.org/ims/ob/v3p0", "not a jws", "t")


def test_the_next_page_must_stay_on_the_api_origin_and_never_loop() -> None:
    """A next link elsewhere is refused (the token goes with it); a link back ends the listing."""
    base = "https://w.example.org/ims/ob/v3p0"
    first = base + "/credentials?limit=2"
    away = ob3.CredentialsPage([], [], 3, {"next": "https://evil.example.org/credentials"})
    with pytest.raises(InvalidResponseError, match="another origin"):
        Ob3Core.next_url(first, away, base, {first})
    back = ob3.CredentialsPage([], [], 3, {"next": first})
    assert Ob3Core.next_url(first, back, base, {first}) is None
    onward = ob3.CredentialsPage([], [], 3, {"next": "credentials?offset=2"})
    assert Ob3Core.next_url(first, onward, base, {first}) == base + "/credentials?offset=2"


def test_a_token_is_used_until_the_leeway_then_refreshed(store: Store) -> None:
    """Within the leeway of its expiry, or once refused, a stored token asks for a refresh."""
    with store.transaction() as tx:
        provider = tx.providers.create(
            "https://w.example.org/ims/ob/v3p0", "https://w.example.org", "3.0"
        )
        account = tx.accounts.create(provider.id, "1", "a@example.org")
        token = tx.oauth_tokens.save(account.id, "at", "rt", utcnow() + timedelta(minutes=5))
    core = TokenCore(provider, account, store, leeway=timedelta(seconds=60))
    assert core.usable(token, None) == "at"
    assert core.usable(token, "at") is None
    assert core.usable(token, "older") == "at"
    assert (
        TokenCore(provider, account, store, leeway=timedelta(minutes=10)).usable(token, None)
        is None
    )
