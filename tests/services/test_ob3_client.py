"""The OB 3.0 host certification list, driven by our client over loopback against our host.

discovery -> registration -> PKCE authorization (the consent form completed over HTTP) ->
token -> getCredentials (X-Total-Count, Link paging) -> getProfile -> upsertCredential, read
back and compared -> refresh -> revoke; and the client's side of the negative cases.
"""

from __future__ import annotations

import pytest

from openbackpack import (
    Ob3Api,
    ReauthorizationRequiredError,
    RemoteValidationError,
    ScopeNotGrantedError,
)
from openbackpack.client import BackpackClient
from openbackpack.models import ApiVersion
from openbackpack.protocols import ob3api as ob3
from openbackpack.services import (
    OAuthStateError,
    begin_oauth_connection,
    check_backpack_connection,
    complete_oauth_connection,
    discover_badge_connect,
)
from openbackpack.store import BackpackAccount, Store
from tests.services._bc import Counting, consent, new_learner
from tests.services._ob3 import (
    REDIRECT,
    Ob3Site,
    connect_learner,
    expire_token,
    provider_of,
)

pytestmark = pytest.mark.usefixtures("loopback_allowed")


def _api(ob3site: Ob3Site, account: BackpackAccount, **options: object) -> Ob3Api:
    return Ob3Api(provider_of(ob3site), account, store=ob3site.store, **options)  # type: ignore[arg-type]


def test_discovery_reads_the_service_description_and_revalidates_it(ob3site: Ob3Site) -> None:
    """Discovery stores the OAuth endpoints, scopes and privacy URL; a forced read revalidates."""
    manifest = discover_badge_connect(ob3site.store, ob3site.provider_id)
    assert manifest.version == "v3p0"
    assert set(manifest.scopes_offered) == {scope.value for scope in ob3.Scope}
    assert manifest.registration_url
    assert manifest.authorization_url
    assert manifest.token_url
    assert manifest.privacy_policy_url
    assert manifest.api_base == ob3site.host.base_url + ob3.API_PATH
    assert manifest.etag or manifest.last_modified
    transport = Counting()
    with BackpackClient(transport=transport) as client:
        again = discover_badge_connect(
            ob3site.store, ob3site.provider_id, client=client, force=True
        )
    [(_, _, headers)] = transport.requests
    assert "if-none-match" in headers or "if-modified-since" in headers
    assert again.fresh_until >= manifest.fresh_until
    assert check_backpack_connection(ob3site.store, ob3site.provider_id).ok


def test_the_certification_list_runs_end_to_end(ob3site: Ob3Site) -> None:
    """Register, authorize (PKCE), page, read the profile, upsert and compare, refresh, revoke."""
    account = connect_learner(ob3site)
    with ob3site.store.transaction() as tx:
        registered = tx.oauth_clients.get(ob3site.provider_id)
        token = tx.oauth_tokens.get(account.id)
    assert registered is not None
    assert token is not None
    assert set(token.scope.split()) == {scope.value for scope in ob3.Scope}
    hashes = [ob3site.award(account.email, new_badge=True) for _ in range(3)]
    sent = [ob3site.credential(h) for h in hashes]
    with _api(ob3site, account) as api:
        assert [api.upsert_credential(c).created for c in sent] == [True, True, True]
        again = api.upsert_credential(sent[0])
        assert again.created is False
        pages = list(api.iter_credential_pages(limit=2))
        assert [len(page) for page in pages] == [2, 1]
        assert {page.total for page in pages} == {3}
        stored = {c["id"]: c for page in pages for c in page.credentials}
        assert stored == {c["id"]: c for c in sent}
        profile = api.get_profile()
        assert profile.email == account.email
        changed = api.put_profile({**profile.to_json(), "name": "Ada Lovelace"})
        assert changed.name == "Ada Lovelace"
        assert api.get_profile().name == "Ada Lovelace"
        old = expire_token(ob3site.store, account)
        assert api.access_token() != old
        assert len(api.get_credentials()) == 3
        assert api.revoke() is True
        with pytest.raises(ReauthorizationRequiredError):
            api.get_credentials()


def test_a_vc_jwt_is_upserted_as_text_and_read_back(ob3site: Ob3Site) -> None:
    """A compact JWS goes as text/plain and comes back in compactJwsString, unchanged."""
    account = connect_learner(ob3site)
    token = ob3site.jwt(ob3site.award(account.email))
    with _api(ob3site, account) as api:
        result = api.upsert_credential(token)
        assert result.created is True
        assert api.get_credentials() == [token]


def test_a_wrong_state_is_refused_by_the_client(ob3site: Ob3Site) -> None:
    """A callback whose state this platform never issued (or already used) connects nobody."""
    email = new_learner(ob3site.host)
    url, state = begin_oauth_connection(ob3site.store, "7", ob3site.provider_id, REDIRECT)
    answer = consent(url, email)
    with pytest.raises(OAuthStateError):
        complete_oauth_connection(ob3site.store, state + "x", answer["code"])
    complete_oauth_connection(ob3site.store, state, answer["code"])
    with pytest.raises(OAuthStateError):
        complete_oauth_connection(ob3site.store, state, answer["code"])


def test_an_expired_token_is_refreshed_before_the_call(ob3site: Ob3Site) -> None:
    """A token past its expiry is refreshed first, once, and the call succeeds."""
    account = connect_learner(ob3site)
    old = expire_token(ob3site.store, account)
    transport = Counting()
    with (
        BackpackClient(transport=transport) as client,
        _api(ob3site, account, client=client) as api,
    ):
        assert api.get_credentials() == []
    assert transport.paths("POST", "/token") == 1
    with ob3site.store.transaction() as tx:
        token = tx.oauth_tokens.get(account.id)
    assert token is not None
    assert token.access_token.reveal() != old


def test_a_scope_not_granted_is_a_typed_error(ob3site: Ob3Site) -> None:
    """A read-only connection cannot upsert: ScopeNotGrantedError names the missing scope."""
    read_only = [ob3.Scope.CREDENTIAL_READONLY.value, ob3.Scope.PROFILE_READONLY.value]
    account = connect_learner(ob3site, "8", scopes=read_only)
    credential = ob3site.credential(ob3site.award(account.email))
    with _api(ob3site, account) as api, pytest.raises(ScopeNotGrantedError) as caught:
        api.upsert_credential(credential)
    assert caught.value.scope == ob3.Scope.CREDENTIAL_UPSERT.value
    assert caught.value.status_code == 403


def test_a_tampered_credential_is_refused_by_the_host_as_a_typed_error(ob3site: Ob3Site) -> None:
    """The host's Imsx_StatusInfo refusal of a changed credential is a RemoteValidationError."""
    account = connect_learner(ob3site)
    # A did:key issuer: the host can check the proof, so the change shows.
    credential = ob3site.credential(ob3site.award(account.email), "key")
    credential["name"] = "Something else"
    with _api(ob3site, account) as api, pytest.raises(RemoteValidationError) as caught:
        api.upsert_credential(credential)
    assert caught.value.status_code == 400
    assert "verify" in caught.value.description


def test_the_provider_accepts_every_spelling_of_3_0(store: Store) -> None:
    """A backpack added as 3, 3.0 or v3p0 is an OB 3.0 backpack."""
    with store.transaction() as tx:
        for index, spelling in enumerate(["3", "3.0", "v3p0"]):
            url = f"https://h{index}.example.org"
            created = tx.providers.create(url + ob3.API_PATH, url, spelling)
            assert created.api_version is ApiVersion.V3P0
