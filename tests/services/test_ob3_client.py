"""The OB 3.0 host certification list, driven by our client over loopback against our host.

discovery -> registration -> PKCE authorization (the consent form completed over HTTP) ->
token -> getCredentials (X-Total-Count, Link paging) -> getProfile -> upsertCredential, read
back and compared -> refresh -> revoke; and the client's side of the negative cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from openbackpack import (
    Ob3Api,
    ReauthorizationRequiredError,
    RemoteValidationError,
    ScopeNotGrantedError,
)
from openbackpack.client import BackpackClient
from openbackpack.host import RunningHost, run_host_in_thread
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
from openbackpack.store._types import utcnow
from tests.services._bc import Counting, consent, new_learner
from tests.services._ob3 import REDIRECT, Ob3Site, connect_learner, ob3_host_settings, ob3_site

pytestmark = pytest.mark.usefixtures("loopback_allowed")


@pytest.fixture(scope="module")
def ob3_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """The reference host, serving the OB 3.0 API."""
    settings = ob3_host_settings(tmp_path_factory.mktemp("ob3"), "host")
    with run_host_in_thread(settings) as running:
        yield running


@pytest.fixture
def site(store: Store, ob3_host: RunningHost) -> Iterator[Ob3Site]:
    """The store with the reference host as a 3.0 backpack."""
    with ob3_site(store, ob3_host) as running:
        yield running


def _api(site: Ob3Site, account: BackpackAccount, **options: object) -> Ob3Api:
    with site.store.transaction() as tx:
        provider = tx.providers.get(site.provider_id)
    return Ob3Api(provider, account, store=site.store, **options)  # type: ignore[arg-type]


def _expire(store: Store, account: BackpackAccount) -> str:
    """Mark the account's token as expired in the store; return the old access token."""
    with store.transaction() as tx:
        token = tx.oauth_tokens.get(account.id)
        assert token is not None
        tx.oauth_tokens.save(
            account.id, token.access_token, token.refresh_token,
            utcnow() - timedelta(seconds=1), token.scope,
        )  # fmt: skip
    return token.access_token.reveal()


def test_discovery_reads_the_service_description_and_revalidates_it(site: Ob3Site) -> None:
    """Discovery stores the OAuth endpoints, scopes and privacy URL; a forced read revalidates."""
    manifest = discover_badge_connect(site.store, site.provider_id)
    assert manifest.version == "v3p0"
    assert set(manifest.scopes_offered) == {scope.value for scope in ob3.Scope}
    assert manifest.registration_url
    assert manifest.authorization_url
    assert manifest.token_url
    assert manifest.privacy_policy_url
    assert manifest.api_base == site.host.base_url + ob3.API_PATH
    assert manifest.etag or manifest.last_modified
    transport = Counting()
    with BackpackClient(transport=transport) as client:
        again = discover_badge_connect(site.store, site.provider_id, client=client, force=True)
    [(_, _, headers)] = transport.requests
    assert "if-none-match" in headers or "if-modified-since" in headers
    assert again.fresh_until >= manifest.fresh_until
    assert check_backpack_connection(site.store, site.provider_id).ok


def test_the_certification_list_runs_end_to_end(site: Ob3Site) -> None:
    """Register, authorize (PKCE), page, read the profile, upsert and compare, refresh, revoke."""
    account = connect_learner(site)
    with site.store.transaction() as tx:
        registered = tx.oauth_clients.get(site.provider_id)
        token = tx.oauth_tokens.get(account.id)
    assert registered is not None
    assert token is not None
    assert set(token.scope.split()) == {scope.value for scope in ob3.Scope}
    hashes = [site.award(account.email, new_badge=True) for _ in range(3)]
    sent = [site.credential(h) for h in hashes]
    with _api(site, account) as api:
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
        old = _expire(site.store, account)
        assert api.access_token() != old
        assert len(api.get_credentials()) == 3
        assert api.revoke() is True
        with pytest.raises(ReauthorizationRequiredError):
            api.get_credentials()


def test_a_vc_jwt_is_upserted_as_text_and_read_back(site: Ob3Site) -> None:
    """A compact JWS goes as text/plain and comes back in compactJwsString, unchanged."""
    account = connect_learner(site)
    token = site.jwt(site.award(account.email))
    with _api(site, account) as api:
        result = api.upsert_credential(token)
        assert result.created is True
        assert api.get_credentials() == [token]


def test_a_wrong_state_is_refused_by_the_client(site: Ob3Site) -> None:
    """A callback whose state this site never issued (or already used) connects nobody."""
    email = new_learner(site.host)
    url, state = begin_oauth_connection(site.store, "7", site.provider_id, REDIRECT)
    answer = consent(url, email)
    with pytest.raises(OAuthStateError):
        complete_oauth_connection(site.store, state + "x", answer["code"])
    complete_oauth_connection(site.store, state, answer["code"])
    with pytest.raises(OAuthStateError):
        complete_oauth_connection(site.store, state, answer["code"])


def test_an_expired_token_is_refreshed_before_the_call(site: Ob3Site) -> None:
    """A token past its expiry is refreshed first, once, and the call succeeds."""
    account = connect_learner(site)
    old = _expire(site.store, account)
    transport = Counting()
    with BackpackClient(transport=transport) as client, _api(site, account, client=client) as api:
        assert api.get_credentials() == []
    assert transport.paths("POST", "/token") == 1
    with site.store.transaction() as tx:
        token = tx.oauth_tokens.get(account.id)
    assert token is not None
    assert token.access_token.reveal() != old


def test_a_scope_not_granted_is_a_typed_error(site: Ob3Site) -> None:
    """A read-only connection cannot upsert: ScopeNotGrantedError names the missing scope."""
    read_only = [ob3.Scope.CREDENTIAL_READONLY.value, ob3.Scope.PROFILE_READONLY.value]
    account = connect_learner(site, "8", scopes=read_only)
    credential = site.credential(site.award(account.email))
    with _api(site, account) as api, pytest.raises(ScopeNotGrantedError) as caught:
        api.upsert_credential(credential)
    assert caught.value.scope == ob3.Scope.CREDENTIAL_UPSERT.value
    assert caught.value.status_code == 403


def test_a_tampered_credential_is_refused_by_the_host_as_a_typed_error(site: Ob3Site) -> None:
    """The host's Imsx_StatusInfo refusal of a changed credential is a RemoteValidationError."""
    account = connect_learner(site)
    # A did:key issuer: the host can check the proof, so the change shows.
    credential = site.credential(site.award(account.email), "key")
    credential["name"] = "Something else"
    with _api(site, account) as api, pytest.raises(RemoteValidationError) as caught:
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
