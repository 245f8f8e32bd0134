"""Badge Connect end to end over loopback: discover, register, PKCE, push, list, refresh, revoke."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from openbackpack import (
    AuthenticationError,
    BadgeConnectApi,
    ReauthorizationRequiredError,
    UnsupportedActionError,
)
from openbackpack.client import BackpackClient
from openbackpack.host import RunningHost
from openbackpack.protocols import badgeconnect as bc
from openbackpack.services import (
    AuthorizationDeniedError,
    ExternalBackpacksDisabledError,
    OAuthStateError,
    begin_oauth_connection,
    check_backpack_connection,
    complete_oauth_connection,
    disconnect,
    discover_badge_connect,
    external_badges,
    push_award,
)
from openbackpack.store import BackpackAccount, Store
from openbackpack.store._types import utcnow
from tests.services._bc import Counting, Site, badge_connect_site, consent, new_learner

# The test hosts announce loopback URLs, which clients refuse unless allowed.
pytestmark = pytest.mark.usefixtures("loopback_allowed")

REDIRECT = "http://127.0.0.1:8/callback"  # the browser never follows it: consent() reads it


@pytest.fixture
def site(store: Store, bc_host: RunningHost) -> Iterator[Site]:
    """The store with the specification host as a 2.1 backpack."""
    with badge_connect_site(store, bc_host) as running:
        yield running


@pytest.fixture
def transport() -> Counting:
    """A real transport that counts what the client sends."""
    return Counting()


@pytest.fixture
def client(transport: Counting) -> Iterator[BackpackClient]:
    """A client over the counting transport."""
    with BackpackClient(transport=transport) as shared:
        yield shared


def _connect(
    site: Site, email: str, client: BackpackClient, owner: str = "42", **options: object
) -> BackpackAccount:
    url, state = begin_oauth_connection(
        site.store,
        owner,
        site.provider_id,
        REDIRECT,
        client=client,
        **options,  # type: ignore[arg-type]
    )
    query = consent(url, email)
    assert query["state"] == state
    return complete_oauth_connection(site.store, state, query["code"], client=client)


def _api(site: Site, account: BackpackAccount, client: BackpackClient) -> BadgeConnectApi:
    with site.store.transaction() as tx:
        provider = tx.providers.get(site.provider_id)
    return BadgeConnectApi(provider, account, store=site.store, client=client)


def test_whole_flow_from_registration_to_revocation(
    site: Site, bc_host: RunningHost, client: BackpackClient, transport: Counting
) -> None:
    """Register, PKCE, token, push, paginate, refresh and revoke, all against the live host."""
    email = new_learner(bc_host)
    url, state = begin_oauth_connection(site.store, "42", site.provider_id, REDIRECT, client=client)
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"][0].split()[0] == bc.Scope.ASSERTION_READONLY  # W11: first kept
    with site.store.transaction() as tx:
        manifest = tx.manifests.get(site.provider_id)
        registered = tx.oauth_clients.get(site.provider_id)
        assert tx.providers.get(site.provider_id).api_url == bc_host.badgeconnect_api_url
    assert manifest is not None
    assert registered is not None
    assert manifest.name == "openbackpack reference host"
    assert manifest.image is not None
    assert manifest.image.startswith("data:image/svg+xml")
    assert bc.Scope.OFFLINE_ACCESS in manifest.scopes_offered
    assert registered.client_secret is not None
    assert registered.client_secret.reveal() not in (registered.registration or "")
    returned = consent(url, email)
    account = complete_oauth_connection(site.store, state, returned["code"], client=client)
    assert account.email == email
    token_request = [h for m, p, h in transport.requests if p == "/o/token"][-1]
    assert token_request["authorization"].startswith("Basic ")
    hashes = [site.award(email) for _ in range(3)]
    results = [
        push_award(site.store, "42", h, issuer_base_url=site.issuer_url, client=client)
        for h in hashes
    ]
    assert [r.status for r in results] == ["added"] * 3
    again = push_award(site.store, "42", hashes[0], issuer_base_url=site.issuer_url, client=client)
    assert again.status == "already in backpack"
    with _api(site, account, client) as api:
        pages = list(api.iter_assertion_pages(limit=2))
        assert [len(page) for page in pages] == [2, 1]
        assert transport.paths("GET", "/assertions") == 2
        assert {item["id"] for page in pages for item in page} == {r.import_url for r in results}
        assert len(api.get_assertions(limit=2, offset=2)) == 1
        old = api.access_token()
        with site.store.transaction() as tx:
            stored = tx.oauth_tokens.get(account.id)
            assert stored is not None
            # Within the 60 s leeway: the next use refreshes first.
            tx.oauth_tokens.save(
                account.id, stored.access_token, stored.refresh_token,
                utcnow() + timedelta(seconds=30), stored.scope,
            )  # fmt: skip
        new = api.access_token()
        assert new != old
        assert api.get_profile().email == email
    old_answer = httpx2.get(
        bc_host.badgeconnect_api_url + "/profile", headers={"Authorization": f"Bearer {old}"}
    )
    assert old_answer.status_code == 401
    assert disconnect(site.store, "42", site.provider_id, acting_user="42", client=client)
    revoked = httpx2.get(
        bc_host.badgeconnect_api_url + "/profile", headers={"Authorization": f"Bearer {new}"}
    )
    assert revoked.status_code == 401
    with site.store.transaction() as tx:
        assert tx.accounts.find("42", site.provider_id) is None
        assert tx.oauth_tokens.get(account.id) is None


def test_external_badges_lists_badge_connect_badges_with_the_recipient_check(
    site: Site, bc_host: RunningHost, client: BackpackClient
) -> None:
    """A 2.1 account's badges show like v2 ones (W14), and a push refreshes what is shown."""
    email = new_learner(bc_host)
    _connect(site, email, client)
    award_hash = site.award(email)
    push_award(site.store, "42", award_hash, issuer_base_url=site.issuer_url, client=client)
    shown = external_badges(site.store, "42", client=client)
    assert shown.failures == []
    [badge] = shown.badges
    assert badge.name == "Python basics"
    assert badge.issuer_name == "Example University"
    assert badge.recipient_verified is True
    assert badge.assertion_id.endswith(award_hash)
    assert shown.total_collections == 0
    assert external_badges(site.store, "42", client=client).from_cache is True
    second = site.award(email)
    push_award(site.store, "42", second, issuer_base_url=site.issuer_url, client=client)
    after = external_badges(site.store, "42", client=client)
    assert after.from_cache is False  # a push to a 2.1 account drops its cached badges
    assert len(after.badges) == 2


def test_state_is_checked_expires_and_is_single_use(
    site: Site, bc_host: RunningHost, client: BackpackClient
) -> None:
    """A wrong, replayed or expired state is refused; a denial is reported (W12)."""
    email = new_learner(bc_host)
    url, state = begin_oauth_connection(site.store, "42", site.provider_id, REDIRECT, client=client)
    code = consent(url, email)["code"]
    with pytest.raises(OAuthStateError, match="unknown"):
        complete_oauth_connection(site.store, "forged-state", code, client=client)
    complete_oauth_connection(site.store, state, code, client=client)
    with pytest.raises(OAuthStateError, match="unknown"):
        complete_oauth_connection(site.store, state, code, client=client)
    url, state = begin_oauth_connection(
        site.store, "43", site.provider_id, REDIRECT, client=client, ttl=timedelta(0)
    )
    with pytest.raises(OAuthStateError, match="too long"):
        complete_oauth_connection(site.store, state, consent(url, email)["code"], client=client)
    url, state = begin_oauth_connection(site.store, "44", site.provider_id, REDIRECT, client=client)
    denied = consent(url, email, answer="deny")
    with pytest.raises(AuthorizationDeniedError, match="access_denied"):
        complete_oauth_connection(site.store, state, None, error=denied["error"], client=client)


def test_parallel_connections_each_keep_their_verifier(
    site: Site, bc_host: RunningHost, client: BackpackClient
) -> None:
    """Two authorizations started before either finishes both complete (Moodle: one per session)."""
    first, second = new_learner(bc_host), new_learner(bc_host)
    url_a, state_a = begin_oauth_connection(
        site.store, "a", site.provider_id, REDIRECT, client=client
    )
    url_b, state_b = begin_oauth_connection(
        site.store, "b", site.provider_id, REDIRECT, client=client
    )
    code_b, code_a = consent(url_b, second)["code"], consent(url_a, first)["code"]
    assert complete_oauth_connection(site.store, state_a, code_a, client=client).email == first
    assert complete_oauth_connection(site.store, state_b, code_b, client=client).email == second


def test_a_refused_code_is_an_invalid_grant(
    site: Site, bc_host: RunningHost, client: BackpackClient
) -> None:
    """A code the host does not know is refused with the spec's invalid_grant."""
    state = begin_oauth_connection(site.store, "42", site.provider_id, REDIRECT, client=client)[1]
    with pytest.raises(AuthenticationError) as caught:
        complete_oauth_connection(site.store, state, "not-a-code", client=client)
    assert caught.value.error == "invalid_grant"


def test_expired_token_without_refresh_token_asks_to_reconnect(
    site: Site, bc_host: RunningHost, client: BackpackClient
) -> None:
    """Without offline_access there is no refresh token: an expired token needs a reconnect."""
    email = new_learner(bc_host)
    account = _connect(
        site, email, client, scopes=[bc.Scope.ASSERTION_READONLY, bc.Scope.PROFILE_READONLY]
    )
    with site.store.transaction() as tx:
        stored = tx.oauth_tokens.get(account.id)
        assert stored is not None
        assert stored.refresh_token is None
        tx.oauth_tokens.save(account.id, stored.access_token, None, utcnow(), stored.scope)
    with _api(site, account, client) as api, pytest.raises(ReauthorizationRequiredError):
        api.get_assertions()


def test_concurrent_callers_refresh_once(
    site: Site, bc_host: RunningHost, client: BackpackClient, transport: Counting
) -> None:
    """Eight threads needing a refresh at once cause one refresh and share its token."""
    account = _connect(site, new_learner(bc_host), client)
    with site.store.transaction() as tx:
        stored = tx.oauth_tokens.get(account.id)
        assert stored is not None
        tx.oauth_tokens.save(account.id, stored.access_token, stored.refresh_token, utcnow(), "")
    before = transport.paths("POST", "/o/token")
    tokens: list[str] = []
    barrier = threading.Barrier(8)

    def use() -> None:
        with _api(site, account, client) as api:
            barrier.wait()
            tokens.append(api.access_token())

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert transport.paths("POST", "/o/token") == before + 1
    assert len(set(tokens)) == 1


def test_discovery_is_cached_and_revalidated_with_the_etag(
    site: Site, client: BackpackClient, transport: Counting
) -> None:
    """A fresh manifest is not fetched again; a forced one sends If-None-Match and gets 304."""
    discover_badge_connect(site.store, site.provider_id, client=client)
    discover_badge_connect(site.store, site.provider_id, client=client)
    assert transport.paths("GET", bc.WELL_KNOWN_PATH) == 1
    discover_badge_connect(site.store, site.provider_id, client=client, force=True)
    method, _, headers = transport.requests[-1]
    assert method == "GET"
    assert headers["if-none-match"].startswith('"')
    with site.store.transaction() as tx:
        manifest = tx.manifests.get(site.provider_id)
    assert manifest is not None
    assert manifest.fresh_until > utcnow() + timedelta(seconds=200)


def test_the_same_flow_against_badgrs_quirks(
    store: Store, badgr_host: RunningHost, client: BackpackClient
) -> None:
    """Against Badgr mode (302 manifest, /bcv1, results, 201, error arrays) all still works."""
    with badge_connect_site(store, badgr_host) as site:
        email = new_learner(badgr_host)
        account = _connect(site, email, client)
        assert account.email == email
        with site.store.transaction() as tx:
            assert tx.providers.get(site.provider_id).api_url == badgr_host.base_url + "/bcv1"
            registered = tx.oauth_clients.get(site.provider_id)
        assert registered is not None
        assert bc.Scope.ASSERTION_READONLY in registered.scope
        award_hash = site.award(email)
        first = push_award(store, "42", award_hash, issuer_base_url=site.issuer_url, client=client)
        assert first.status == "added"
        with site.store.transaction() as tx:
            # Forget the record of the push: Badgr's DUPLICATE_BADGE list is understood.
            tx.identifiers.delete_all(site.provider_id)
        repeat = push_award(store, "42", award_hash, issuer_base_url=site.issuer_url, client=client)
        assert repeat.status == "already in backpack"
        shown = external_badges(store, "42", client=client)
        assert [b.name for b in shown.badges] == ["Python basics"]
        assert shown.badges[0].recipient_verified is True
        assert disconnect(store, "42", site.provider_id, acting_user="42", client=client) is False


def test_a_client_stored_by_hand_is_used_as_it_is(
    site: Site, client: BackpackClient, transport: Counting
) -> None:
    """A client configured without dynamic registration is never replaced by a registration."""
    with site.store.transaction() as tx:
        tx.oauth_clients.save(
            site.provider_id, "by-hand", "secret", scope=bc.Scope.ASSERTION_READONLY
        )
    url, _ = begin_oauth_connection(site.store, "42", site.provider_id, REDIRECT, client=client)
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == ["by-hand"]
    assert query["scope"] == [bc.Scope.ASSERTION_READONLY.value]
    assert transport.paths("POST", "/o/register") == 0


def test_testing_a_2p1_backpack_reads_its_manifest(site: Site, client: BackpackClient) -> None:
    """backpacks test on a 2.1 backpack runs discovery and names the host and its apiBase."""
    result = check_backpack_connection(site.store, site.provider_id, client=client)
    assert result.ok
    assert "openbackpack reference host" in result.message
    assert "/ims/ob/v2p1" in result.message


def test_only_2p1_backpacks_connect_with_oauth(store: Store) -> None:
    """begin_oauth_connection refuses a Badgr backpack, and any backpack when they are off."""
    with store.transaction() as tx:
        provider = tx.providers.create("https://api.badgr.example/v2", "https://badgr.example", "2")
    with pytest.raises(UnsupportedActionError, match="OAuth 2"):
        begin_oauth_connection(store, "42", provider.id, REDIRECT)
    with store.transaction() as tx:
        tx.settings.update(allow_external_backpacks=False)
    with pytest.raises(ExternalBackpacksDisabledError):
        begin_oauth_connection(store, "42", provider.id, REDIRECT)


def test_a_push_whose_answer_was_lost_is_in_the_backpack_once(
    site: Site, bc_host: RunningHost, client: BackpackClient, transport: Counting
) -> None:
    """A 2.1 POST the host stored but whose answer was cut off: the push succeeds, one badge."""
    email = new_learner(bc_host)
    account = _connect(site, email, client)
    award_hash = site.award(email)
    assertions_path = urlsplit(bc_host.badgeconnect_api_url).path + "/assertions"
    bc_host.faults.drop_next(1, path=assertions_path)
    result = push_award(
        site.store, "42", award_hash, issuer_base_url=site.issuer_url, client=client
    )
    assert result.status in ("added", "already in backpack")
    assert transport.paths("POST", "/assertions") == 2  # the lost one, then the duplicate
    with _api(site, account, client) as api:
        held = [item["id"] for page in api.iter_assertion_pages(limit=50) for item in page]
    assert held == [result.import_url]
    again = push_award(site.store, "42", award_hash, issuer_base_url=site.issuer_url, client=client)
    assert again.status == "already in backpack"
